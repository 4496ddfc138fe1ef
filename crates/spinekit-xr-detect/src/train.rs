//! Training loop (used by `examples/train.rs`): Adam, warm-up + cosine learning rate, CenterNet focal
//! loss on the centre heatmap and L1 on the corner offsets, fixed seed.

use crate::data::{annotation_is_consistent, is_validation, load, load_samples, Loaded};
use crate::heatmap::{peaks, seventeen, targets};
use crate::model::{SpineNet, OUT_H, OUT_W};
use crate::preprocess::{augment, IN_H, IN_W};
use crate::{infer, write_weights, DetectError, Result, N_POINTS, WEIGHTS_FILE};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

/// Everything that determines the shipped weights.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Stop after this many epochs of the `epochs`-long schedule (a shorter run on the same schedule).
    pub stop_after: Option<usize>,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub base_channels: usize,
    /// Weight of the offset L1 loss against the focal loss.
    pub offset_weight: f32,
    /// Evaluate on the validation images every this many epochs (0 = only at the end).
    pub eval_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            stop_after: None,
            batch_size: 8,
            lr: 2e-3,
            seed: 20190,
            base_channels: crate::model::BASE_CHANNELS,
            offset_weight: 2.0,
            eval_every: 5,
        }
    }
}

/// Loss terms of one step.
pub struct Losses {
    pub total: Tensor<1>,
    pub focal: f32,
    pub offset: f32,
}

/// CenterNet focal loss (α = 2, β = 4) + weighted L1 on offsets around each centre.
pub fn loss(
    heat_logits: Tensor<4>,
    offsets: Tensor<4>,
    batch: &[crate::heatmap::Targets],
    offset_weight: f32,
    device: &Device,
) -> Losses {
    let b = batch.len();
    let n = OUT_H * OUT_W;
    let cat = |f: &dyn Fn(&crate::heatmap::Targets) -> &Vec<f32>, c: usize| {
        let mut v = Vec::with_capacity(b * c * n);
        for t in batch {
            v.extend_from_slice(f(t));
        }
        Tensor::<4>::from_data(TensorData::new(v, [b, c, OUT_H, OUT_W]), device)
    };
    let gt = cat(&|t| &t.heat, 1);
    let pos = cat(&|t| &t.pos, 1);
    let off_t = cat(&|t| &t.offsets, 8);
    let mask = cat(&|t| &t.offset_mask, 1);
    let num_pos = batch
        .iter()
        .map(|t| t.pos.iter().sum::<f32>())
        .sum::<f32>()
        .max(1.0);
    let num_mask = batch
        .iter()
        .map(|t| t.offset_mask.iter().sum::<f32>())
        .sum::<f32>()
        .max(1.0);

    let p = sigmoid(heat_logits.clone()).clamp(1e-4, 1.0 - 1e-4);
    let log_p = log_sigmoid(heat_logits.clone());
    let log_1mp = log_sigmoid(heat_logits.neg());
    let one_m_p = p.clone().neg().add_scalar(1.0);
    let pos_term = log_p * one_m_p.powf_scalar(2.0) * pos.clone();
    let neg_w = gt.neg().add_scalar(1.0).powf_scalar(4.0) * pos.neg().add_scalar(1.0);
    let neg_term = log_1mp * p.powf_scalar(2.0) * neg_w;
    let focal = (pos_term + neg_term).sum().neg().div_scalar(num_pos);

    let off_l1 = ((offsets - off_t).abs() * mask)
        .sum()
        .div_scalar(num_mask * 8.0);
    let focal_v = focal.clone().into_scalar_f32();
    let off_v = off_l1.clone().into_scalar_f32();
    Losses {
        total: focal + off_l1.mul_scalar(offset_weight),
        focal: focal_v,
        offset: off_v,
    }
}

trait ScalarF32 {
    fn into_scalar_f32(self) -> f32;
}
impl ScalarF32 for Tensor<1> {
    fn into_scalar_f32(self) -> f32 {
        self.detach()
            .into_data()
            .try_to_vec::<f32>()
            .ok()
            .and_then(|v| v.first().copied())
            .unwrap_or(f32::NAN)
    }
}

/// Learning rate at global step `s` of `total`: linear warm-up over the first 3 % then cosine to 1 %.
pub fn lr_at(cfg: &TrainConfig, s: usize, total: usize) -> f64 {
    let warm = (total / 33).max(1);
    if s < warm {
        return cfg.lr * (s + 1) as f64 / warm as f64;
    }
    let t = (s - warm) as f64 / (total - warm).max(1) as f64;
    cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// Mean and per-image landmark errors (original pixels) of a model on prepared samples; images with
/// fewer than 17 peaks count with `None`.
pub fn evaluate(model: &SpineNet, device: &Device, set: &[Loaded]) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(set.len());
    for chunk in set.chunks(8) {
        let preps: Vec<_> = chunk.iter().map(|l| l.prepared.clone()).collect();
        for (l, (heat, offs)) in chunk.iter().zip(infer(model, device, &preps)) {
            let e = seventeen(peaks(&heat, &offs, 0.02)).map(|v| {
                let mut sum = 0.0;
                for (k, p) in v.iter().enumerate() {
                    for c in 0..4 {
                        let q = l
                            .prepared
                            .to_pixels([p.corners[c][0] as f64, p.corners[c][1] as f64]);
                        let g = l.sample.landmarks_px[4 * k + c];
                        sum += ((q[0] - g[0]).powi(2) + (q[1] - g[1]).powi(2)).sqrt();
                    }
                }
                sum / N_POINTS as f64
            });
            out.push(e);
        }
    }
    out
}

/// Decodes the whole data set in parallel; returns (training, validation) with inconsistent
/// annotations removed from training only.
pub fn load_split(root: &Path, log: &mut dyn FnMut(&str)) -> Result<(Vec<Loaded>, Vec<Loaded>)> {
    let samples = load_samples(root)?;
    let loaded: Vec<Loaded> = samples.par_iter().map(load).collect::<Result<_>>()?;
    let (val, train): (Vec<Loaded>, Vec<Loaded>) = loaded
        .into_iter()
        .partition(|l| is_validation(l.sample.sorted_index));
    let n_before = train.len();
    let train: Vec<Loaded> = train
        .into_iter()
        .filter(|l| annotation_is_consistent(&l.sample.landmarks_px))
        .collect();
    log(&format!(
        "data: {} training images ({} with inconsistent annotations left out), {} validation images",
        train.len(),
        n_before - train.len(),
        val.len()
    ));
    Ok((train, val))
}

/// Trains and writes `<out_dir>/spine-ap-centernet.bpk` (+ `.sha256`) after every evaluation and at
/// the end. Returns the final model's validation errors.
pub fn train(
    root: &Path,
    out_dir: &Path,
    cfg: &TrainConfig,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<Option<f64>>> {
    let t0 = Instant::now();
    let (train_set, val_set) = load_split(root, log)?;
    log(&format!(
        "data decoded in {:.1} s",
        t0.elapsed().as_secs_f64()
    ));
    std::fs::create_dir_all(out_dir)
        .map_err(|e| DetectError::Write(format!("{}: {e}", out_dir.display())))?;

    let device = Device::flex().autodiff();
    let plain = Device::flex();
    let mut model = SpineNet::new(cfg.base_channels, &device);
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let steps_per_epoch = train_set.len().div_ceil(cfg.batch_size);
    let total = steps_per_epoch * cfg.epochs;
    let last_epoch = cfg.stop_after.unwrap_or(cfg.epochs).min(cfg.epochs);
    let mut step = 0usize;
    let mut errors = Vec::new();
    for epoch in 1..=last_epoch {
        let te = Instant::now();
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        order.shuffle(&mut rng);
        let (mut f_sum, mut o_sum) = (0f64, 0f64);
        for batch_idx in order.chunks(cfg.batch_size) {
            // Per-sample RNGs derived from the master RNG keep augmentation reproducible under rayon.
            let seeds: Vec<u64> = batch_idx
                .iter()
                .map(|_| rand::Rng::random(&mut rng))
                .collect();
            let items: Vec<(Vec<f32>, crate::heatmap::Targets)> = batch_idx
                .par_iter()
                .zip(seeds.par_iter())
                .map(|(&i, &s)| {
                    let l = &train_set[i];
                    let mut r = ChaCha8Rng::seed_from_u64(s);
                    let (px, pts) = augment(&l.prepared.pixels, &l.landmarks_in, &mut r);
                    (px, targets(&pts))
                })
                .collect();
            let b = items.len();
            let mut flat = Vec::with_capacity(b * IN_H * IN_W);
            for (px, _) in &items {
                flat.extend_from_slice(px);
            }
            let tg: Vec<_> = items.into_iter().map(|(_, t)| t).collect();
            let x = Tensor::<4>::from_data(TensorData::new(flat, [b, 1, IN_H, IN_W]), &device);
            let out = model.forward(x);
            let l = loss(
                out.heat_logits,
                out.offsets,
                &tg,
                cfg.offset_weight,
                &device,
            );
            f_sum += l.focal as f64;
            o_sum += l.offset as f64;
            let grads = GradientsParams::from_grads(l.total.backward(), &model);
            model = optim.step(lr_at(cfg, step, total), model, grads);
            step += 1;
            if epoch == 1 && step.is_multiple_of(10) {
                log(&format!(
                    "  step {step}: focal {:.4} offset {:.4}, {:.2} s/step",
                    l.focal,
                    l.offset,
                    te.elapsed().as_secs_f64() / step as f64
                ));
            }
        }
        log(&format!(
            "epoch {epoch}/{} focal {:.4} offset {:.4} lr {:.2e} {:.0} s (total {:.1} min)",
            cfg.epochs,
            f_sum / steps_per_epoch as f64,
            o_sum / steps_per_epoch as f64,
            lr_at(cfg, step.saturating_sub(1), total),
            te.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64() / 60.0
        ));
        let is_last = epoch == last_epoch;
        if is_last || (cfg.eval_every > 0 && epoch.is_multiple_of(cfg.eval_every)) {
            let eval_model = model.valid().to_device(&plain);
            errors = evaluate(&eval_model, &plain, &val_set);
            let found: Vec<f64> = errors.iter().flatten().copied().collect();
            let mut sorted = found.clone();
            sorted.sort_by(f64::total_cmp);
            log(&format!(
                "  validation: mean landmark error {:.1} px, median {:.1} px, {} of {} images with 17 vertebrae",
                found.iter().sum::<f64>() / found.len().max(1) as f64,
                sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN),
                found.len(),
                errors.len()
            ));
            let bytes = eval_model
                .into_record()
                .into_bytes()
                .map_err(|e| DetectError::Write(e.to_string()))?;
            write_weights(&out_dir.join(WEIGHTS_FILE), &bytes)?;
            log(&format!(
                "  wrote {} after epoch {epoch} ({} bytes)",
                WEIGHTS_FILE,
                bytes.len()
            ));
        }
    }
    log(&format!(
        "training finished in {:.1} min",
        t0.elapsed().as_secs_f64() / 60.0
    ));
    Ok(errors)
}
