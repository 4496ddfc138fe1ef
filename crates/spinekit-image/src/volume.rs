use crate::{Geometry, ImageError};
use serde::Serialize;

/// Upper bound on voxels in one volume (4 Gi voxels): protects against headers that promise absurd sizes.
pub const MAX_VOXELS: u128 = 1 << 32;

/// Voxel value types a [`Volume`] can hold. Conversion through `f64` is used by interpolation and statistics.
pub trait Voxel: Copy + Send + Sync + Default + PartialOrd + 'static {
    const TYPE: VoxelType;
    fn to_f64(self) -> f64;
    /// Rounds and saturates to the type's range (NaN becomes 0 for integer types).
    fn from_f64(v: f64) -> Self;
    /// Saturates an integer to the type's range; cheaper than [`from_f64`](Self::from_f64) in hot decode loops.
    fn from_i64(v: i64) -> Self;
    /// As [`from_i64`](Self::from_i64), in 32-bit lanes (twice as many per SIMD instruction).
    fn from_i32(v: i32) -> Self;
}

/// Which concrete voxel type a volume holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VoxelType {
    U8,
    I16,
    U16,
    I32,
    F32,
}

macro_rules! int_voxel {
    ($t:ty, $v:ident) => {
        impl Voxel for $t {
            const TYPE: VoxelType = VoxelType::$v;
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                // `as` saturates and maps NaN to 0.
                v.round() as $t
            }
            #[inline]
            fn from_i64(v: i64) -> Self {
                v.clamp(<$t>::MIN as i64, <$t>::MAX as i64) as $t
            }
            #[inline]
            fn from_i32(v: i32) -> Self {
                (v as i64).clamp(<$t>::MIN as i64, <$t>::MAX as i64) as $t
            }
        }
    };
}
int_voxel!(u8, U8);
int_voxel!(i16, I16);
int_voxel!(u16, U16);
int_voxel!(i32, I32);

impl Voxel for f32 {
    const TYPE: VoxelType = VoxelType::F32;
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        v as f32
    }
    #[inline]
    fn from_i32(v: i32) -> Self {
        v as f32
    }
}

/// A 3D grid of voxels with its patient geometry. Memory order: i (columns) fastest, then j (rows), then k (slices).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    dims: [usize; 3],
    geometry: Geometry,
    data: Vec<T>,
}

/// Minimum and maximum finite voxel value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IntensityRange {
    pub min: f64,
    pub max: f64,
}

fn check_dims(dims: [usize; 3]) -> Result<usize, ImageError> {
    if dims.contains(&0) {
        return Err(ImageError::EmptyVolume(dims[0], dims[1], dims[2]));
    }
    let n = dims.iter().map(|&d| d as u128).product::<u128>();
    if n > MAX_VOXELS {
        return Err(ImageError::TooLarge(n, MAX_VOXELS));
    }
    Ok(n as usize)
}

impl<T: Voxel> Volume<T> {
    /// A volume filled with `T::default()`.
    pub fn zeros(dims: [usize; 3], geometry: Geometry) -> Result<Self, ImageError> {
        let n = check_dims(dims)?;
        geometry.validate()?;
        Ok(Self {
            dims,
            geometry,
            data: vec![T::default(); n],
        })
    }

    /// Wraps a buffer in i-fastest order; fails when its length does not match `dims`.
    pub fn from_vec(
        dims: [usize; 3],
        geometry: Geometry,
        data: Vec<T>,
    ) -> Result<Self, ImageError> {
        let n = check_dims(dims)?;
        geometry.validate()?;
        if data.len() != n {
            return Err(ImageError::BufferSize {
                expected: n,
                got: data.len(),
            });
        }
        Ok(Self {
            dims,
            geometry,
            data,
        })
    }

    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }
    pub fn data(&self) -> &[T] {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
    pub fn into_data(self) -> Vec<T> {
        self.data
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Replaces the geometry (e.g. after a reader derived it); validates it first.
    pub fn set_geometry(&mut self, g: Geometry) -> Result<(), ImageError> {
        g.validate()?;
        self.geometry = g;
        Ok(())
    }

    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// Index of the voxel `delta` away from `idx`, or `None` when it falls outside the grid (neighbourhood loops).
    #[inline]
    pub fn offset(&self, idx: [usize; 3], delta: [isize; 3]) -> Option<[usize; 3]> {
        let mut out = [0usize; 3];
        for a in 0..3 {
            let v = idx[a].checked_add_signed(delta[a])?;
            if v >= self.dims[a] {
                return None;
            }
            out[a] = v;
        }
        Some(out)
    }

    #[inline]
    pub fn get(&self, i: usize, j: usize, k: usize) -> T {
        self.data[self.index(i, j, k)]
    }

    #[inline]
    pub fn set(&mut self, i: usize, j: usize, k: usize, v: T) {
        let n = self.index(i, j, k);
        self.data[n] = v;
    }

    /// One axial-in-memory slice k (all i, j).
    pub fn slice_k(&self, k: usize) -> &[T] {
        let n = self.dims[0] * self.dims[1];
        &self.data[k * n..(k + 1) * n]
    }

    /// ndarray view with shape (k, j, i), so `view[[k, j, i]]` is voxel (i, j, k).
    pub fn view(&self) -> ndarray::ArrayView3<'_, T> {
        let [ni, nj, nk] = self.dims;
        ndarray::ArrayView3::from_shape((nk, nj, ni), &self.data)
            .expect("dims checked at construction")
    }

    /// Mutable ndarray view with shape (k, j, i).
    pub fn view_mut(&mut self) -> ndarray::ArrayViewMut3<'_, T> {
        let [ni, nj, nk] = self.dims;
        ndarray::ArrayViewMut3::from_shape((nk, nj, ni), &mut self.data)
            .expect("dims checked at construction")
    }

    /// World position (LPS mm) of the centre of voxel (i, j, k).
    pub fn voxel_to_world(&self, idx: [usize; 3]) -> [f64; 3] {
        self.geometry
            .index_to_world([idx[0] as f64, idx[1] as f64, idx[2] as f64])
    }

    /// Axis-aligned world bounding box (LPS mm) of the voxel centres: (min corner, max corner).
    pub fn world_extent_mm(&self) -> ([f64; 3], [f64; 3]) {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for c in self.corner_indices() {
            let w = self.voxel_to_world(c);
            for a in 0..3 {
                lo[a] = lo[a].min(w[a]);
                hi[a] = hi[a].max(w[a]);
            }
        }
        (lo, hi)
    }

    /// The eight corner voxel indices.
    pub fn corner_indices(&self) -> [[usize; 3]; 8] {
        let m = [self.dims[0] - 1, self.dims[1] - 1, self.dims[2] - 1];
        let mut out = [[0; 3]; 8];
        for (n, o) in out.iter_mut().enumerate() {
            *o = [
                if n & 1 != 0 { m[0] } else { 0 },
                if n & 2 != 0 { m[1] } else { 0 },
                if n & 4 != 0 { m[2] } else { 0 },
            ];
        }
        out
    }

    /// Minimum and maximum over finite voxels (`None` when no voxel is finite).
    pub fn intensity_range(&self) -> Option<IntensityRange> {
        use rayon::prelude::*;
        let (min, max) = self
            .data
            .par_chunks(1 << 16)
            .map(|c| {
                c.iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        let x = v.to_f64();
                        if x.is_finite() {
                            (lo.min(x), hi.max(x))
                        } else {
                            (lo, hi)
                        }
                    })
            })
            .reduce(
                || (f64::INFINITY, f64::NEG_INFINITY),
                |a, b| (a.0.min(b.0), a.1.max(b.1)),
            );
        (min <= max).then_some(IntensityRange { min, max })
    }

    /// Copies the half-open index box `lo..hi`; the result's origin is the world position of `lo`.
    pub fn crop(&self, lo: [usize; 3], hi: [usize; 3]) -> Result<Self, ImageError> {
        if (0..3).any(|a| lo[a] >= hi[a] || hi[a] > self.dims[a]) {
            return Err(ImageError::CropOutside(lo, hi, self.dims));
        }
        let dims = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
        let mut data = Vec::with_capacity(dims.iter().product());
        for k in lo[2]..hi[2] {
            for j in lo[1]..hi[1] {
                let s = self.index(lo[0], j, k);
                data.extend_from_slice(&self.data[s..s + dims[0]]);
            }
        }
        let mut g = self.geometry;
        g.origin_mm = self.voxel_to_world(lo);
        Self::from_vec(dims, g, data)
    }

    /// Same grid, voxels mapped through `f`.
    pub fn map<U: Voxel>(&self, f: impl Fn(T) -> U + Sync) -> Volume<U> {
        use rayon::prelude::*;
        Volume {
            dims: self.dims,
            geometry: self.geometry,
            data: self.data.par_iter().map(|&v| f(v)).collect(),
        }
    }
}

/// A volume of whichever voxel type the file stored; readers return this and callers convert as they need.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyVolume {
    U8(Volume<u8>),
    I16(Volume<i16>),
    U16(Volume<u16>),
    I32(Volume<i32>),
    F32(Volume<f32>),
}

macro_rules! each {
    ($s:expr, $v:ident => $e:expr) => {
        match $s {
            AnyVolume::U8($v) => $e,
            AnyVolume::I16($v) => $e,
            AnyVolume::U16($v) => $e,
            AnyVolume::I32($v) => $e,
            AnyVolume::F32($v) => $e,
        }
    };
}

impl AnyVolume {
    pub fn dims(&self) -> [usize; 3] {
        each!(self, v => v.dims())
    }
    pub fn geometry(&self) -> &Geometry {
        each!(self, v => v.geometry())
    }
    pub fn voxel_type(&self) -> VoxelType {
        match self {
            AnyVolume::U8(_) => VoxelType::U8,
            AnyVolume::I16(_) => VoxelType::I16,
            AnyVolume::U16(_) => VoxelType::U16,
            AnyVolume::I32(_) => VoxelType::I32,
            AnyVolume::F32(_) => VoxelType::F32,
        }
    }
    pub fn intensity_range(&self) -> Option<IntensityRange> {
        each!(self, v => v.intensity_range())
    }
    pub fn world_extent_mm(&self) -> ([f64; 3], [f64; 3]) {
        each!(self, v => v.world_extent_mm())
    }
    /// Value at (i, j, k) as f64.
    pub fn get_f64(&self, i: usize, j: usize, k: usize) -> f64 {
        each!(self, v => v.get(i, j, k).to_f64())
    }
    /// Converts to any voxel type (rounding and saturating for integers).
    pub fn to_type<U: Voxel>(&self) -> Volume<U> {
        each!(self, v => v.map(|x| U::from_f64(x.to_f64())))
    }
    /// Converts to i16 Hounsfield units, failing when a value would not fit (rather than silently clipping).
    pub fn to_hu_i16(&self) -> Result<Volume<i16>, ImageError> {
        if let AnyVolume::I16(v) = self {
            return Ok(v.clone());
        }
        if let Some(r) = self.intensity_range() {
            if r.min < i16::MIN as f64 || r.max > i16::MAX as f64 {
                return Err(ImageError::ValueRange(
                    r.min,
                    r.max,
                    "i16 (Hounsfield units)",
                ));
            }
        }
        Ok(self.to_type::<i16>())
    }
}
