//! The network: a small encoder–decoder (U-Net with additive skips) that outputs, at 1/4 of the input
//! resolution, one vertebra-centre heatmap and eight corner offsets per cell (the CenterNet-style
//! "vertebra-focused" design of Yi et al., MICCAI 2020, shrunk to train on two CPU cores).
//!
//! One heatmap class for all 17 vertebrae: the network only has to find vertebral bodies, and the
//! order T1…L5 comes from sorting the 17 strongest peaks top to bottom. The offsets give each corner
//! relative to the cell, so a vertebra's tilt is regressed directly rather than derived from peaks.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Output stride: heatmap cells per input pixel = 1/4.
pub const STRIDE: usize = 4;
/// Heatmap grid height and width.
pub const OUT_H: usize = crate::preprocess::IN_H / STRIDE;
pub const OUT_W: usize = crate::preprocess::IN_W / STRIDE;
/// Offsets are predicted in units of this many heatmap cells (keeps targets near ±1.5).
pub const OFFSET_UNIT_CELLS: f32 = 4.0;
/// Base channel count of the shipped model.
pub const BASE_CHANNELS: usize = 16;

#[derive(Module, Debug)]
pub struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    fn new(cin: usize, cout: usize, stride: usize, device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([cin, cout], [3, 3])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(cout).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// Decoder step: nearest ×2 upsampling, 1×1 projection to the skip's width, add, 3×3 conv.
#[derive(Module, Debug)]
pub struct Up {
    proj: Conv2d,
    conv: ConvBn,
}

impl Up {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        Self {
            proj: Conv2dConfig::new([cin, cout], [1, 1]).init(device),
            conv: ConvBn::new(cout, cout, 1, device),
        }
    }

    fn forward(&self, x: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        let x = self.proj.forward(upsample2(x));
        self.conv.forward(x + skip)
    }
}

/// Nearest-neighbour ×2 upsampling by reshape + expand (differentiable, no interpolation kernel).
fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, h * 2, w * 2])
}

#[derive(Module, Debug)]
pub struct SpineNet {
    e0a: ConvBn,
    e0b: ConvBn,
    e1a: ConvBn,
    e1b: ConvBn,
    e2a: ConvBn,
    e2b: ConvBn,
    e3a: ConvBn,
    e3b: ConvBn,
    e4a: ConvBn,
    e4b: ConvBn,
    u3: Up,
    u2: Up,
    u1: Up,
    head: ConvBn,
    heat: Conv2d,
    offs: Conv2d,
}

/// Network outputs: heatmap logits [B,1,OUT_H,OUT_W] and offsets [B,8,OUT_H,OUT_W]
/// (corner k: channels 2k = dx, 2k+1 = dy, in [`OFFSET_UNIT_CELLS`] cells).
pub struct Output {
    pub heat_logits: Tensor<4>,
    pub offsets: Tensor<4>,
}

impl SpineNet {
    pub fn new(c: usize, device: &Device) -> Self {
        let heat = Conv2dConfig::new([2 * c, 1], [1, 1]).init(device);
        // Start the heatmap near the background prior (sigmoid(−2.2) ≈ 0.1) as CenterNet does.
        let heat_bias = heat
            .bias
            .clone()
            .map(|b| b.map(|t| t.zeros_like().add_scalar(-2.2)));
        let heat = Conv2d {
            bias: heat_bias,
            ..heat
        };
        Self {
            e0a: ConvBn::new(1, c, 2, device),
            e0b: ConvBn::new(c, c, 1, device),
            e1a: ConvBn::new(c, 2 * c, 2, device),
            e1b: ConvBn::new(2 * c, 2 * c, 1, device),
            e2a: ConvBn::new(2 * c, 4 * c, 2, device),
            e2b: ConvBn::new(4 * c, 4 * c, 1, device),
            e3a: ConvBn::new(4 * c, 8 * c, 2, device),
            e3b: ConvBn::new(8 * c, 8 * c, 1, device),
            e4a: ConvBn::new(8 * c, 8 * c, 2, device),
            e4b: ConvBn::new(8 * c, 8 * c, 1, device),
            u3: Up::new(8 * c, 8 * c, device),
            u2: Up::new(8 * c, 4 * c, device),
            u1: Up::new(4 * c, 2 * c, device),
            head: ConvBn::new(2 * c, 2 * c, 1, device),
            heat,
            offs: Conv2dConfig::new([2 * c, 8], [1, 1]).init(device),
        }
    }

    /// `x`: [B, 1, IN_H, IN_W] contrast-normalised images.
    pub fn forward(&self, x: Tensor<4>) -> Output {
        let x0 = self.e0b.forward(self.e0a.forward(x)); // 1/2
        let x1 = self.e1b.forward(self.e1a.forward(x0)); // 1/4
        let x2 = self.e2b.forward(self.e2a.forward(x1.clone())); // 1/8
        let x3 = self.e3b.forward(self.e3a.forward(x2.clone())); // 1/16
        let x4 = self.e4b.forward(self.e4a.forward(x3.clone())); // 1/32
        let d3 = self.u3.forward(x4, x3);
        let d2 = self.u2.forward(d3, x2);
        let d1 = self.u1.forward(d2, x1);
        let h = self.head.forward(d1);
        Output {
            heat_logits: self.heat.forward(h.clone()),
            offsets: self.offs.forward(h),
        }
    }
}
