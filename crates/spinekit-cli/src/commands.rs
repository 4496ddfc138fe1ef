//! One function per subcommand.

use clap::{Args, ValueEnum};
use spinekit_image::{
    reorient_to, resample_to_spacing, AnyVolume, Interpolation, OrientationCode, Volume, Voxel,
};
use spinekit_io::{OpenOptions, SeriesSelector};
use spinekit_picture::{Plane, SliceAt, SliceOptions, Window};
use std::path::PathBuf;

pub type CmdResult = Result<(), Box<dyn std::error::Error>>;

/// An error with its own exit status, for refusals a script may want to tell apart (e.g. "not a CT").
#[derive(Debug)]
pub struct ExitError {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitError {}

/// How to pick one series in a folder or zip with several.
#[derive(Args, Debug, Clone, Default)]
pub struct SeriesArg {
    /// Which DICOM series to read: its number in the `spinekit info` listing, its SeriesInstanceUID, or its folder
    /// name (e.g. `bone` inside a masks zip). Default: the best CT, else MR, series (see the README for the rule).
    #[arg(long, value_name = "N|UID|FOLDER")]
    series: Option<String>,
}

impl SeriesArg {
    pub fn options(&self) -> OpenOptions {
        let series = match self.series.as_deref() {
            None => SeriesSelector::Auto,
            Some(s) if s.chars().all(|c| c.is_ascii_digit()) && s.len() < 6 => {
                SeriesSelector::Number(s.parse().unwrap_or(0))
            }
            Some(s) if s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.contains('.') => {
                SeriesSelector::Uid(s.to_string())
            }
            Some(s) => SeriesSelector::Folder(s.to_string()),
        };
        OpenOptions { series }
    }
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// DICOM folder/zip/file, NIfTI, MetaImage or PNG/JPEG.
    path: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    series: SeriesArg,
}

pub fn info(a: InfoArgs) -> CmdResult {
    let info = spinekit_io::inspect(&a.path, &a.series.options())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{}", info.to_text());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input scan (DICOM folder/zip/file, NIfTI, MetaImage).
    input: PathBuf,
    /// Output NIfTI file (`.nii.gz` compresses, `.nii` does not).
    #[arg(short, long)]
    output: PathBuf,
    /// Reorder voxel axes (no interpolation) so they increase toward these directions, e.g. LPS or RAS.
    #[arg(long, value_name = "CODE")]
    orient: Option<String>,
    /// Resample to this voxel size in mm, e.g. `1` or `0.8,0.8,1` (linear for images, nearest for --labels).
    #[arg(long, value_name = "MM")]
    spacing: Option<String>,
    /// The input is a label map: resample with nearest neighbour and keep integer labels.
    #[arg(long)]
    labels: bool,
    #[command(flatten)]
    series: SeriesArg,
}

fn parse_spacing(s: &str) -> Result<[f64; 3], String> {
    let v: Result<Vec<f64>, _> = s.split(',').map(|x| x.trim().parse::<f64>()).collect();
    match v
        .map_err(|_| format!("--spacing '{s}' is not a number or three comma-separated numbers"))?[..]
    {
        [a] if a > 0.0 => Ok([a; 3]),
        [a, b, c] if a > 0.0 && b > 0.0 && c > 0.0 => Ok([a, b, c]),
        _ => Err(format!(
            "--spacing '{s}' must be one or three positive numbers (mm)"
        )),
    }
}

fn transform<T: Voxel>(
    v: &Volume<T>,
    orient: Option<OrientationCode>,
    spacing: Option<[f64; 3]>,
    interp: Interpolation,
) -> Result<Volume<T>, spinekit_image::ImageError> {
    let v = match orient {
        Some(code) => reorient_to(v, code)?,
        None => v.clone(),
    };
    match spacing {
        Some(s) => resample_to_spacing(&v, s, interp),
        None => Ok(v),
    }
}

pub fn convert(a: ConvertArgs) -> CmdResult {
    let orient = a
        .orient
        .as_deref()
        .map(|c| {
            OrientationCode::parse(c)
                .ok_or_else(|| format!("--orient '{c}' is not an orientation code like LPS or RAS"))
        })
        .transpose()?;
    let spacing = a.spacing.as_deref().map(parse_spacing).transpose()?;
    let opened = spinekit_io::open_volume(&a.input, &a.series.options())?;
    for w in &opened.warnings {
        eprintln!("spinekit: warning: {w}");
    }
    let interp = if a.labels {
        Interpolation::Nearest
    } else {
        Interpolation::Linear
    };
    let vol = match &opened.volume {
        AnyVolume::U8(v) => AnyVolume::U8(transform(v, orient, spacing, interp)?),
        AnyVolume::I16(v) => AnyVolume::I16(transform(v, orient, spacing, interp)?),
        AnyVolume::U16(v) => AnyVolume::U16(transform(v, orient, spacing, interp)?),
        AnyVolume::I32(v) => AnyVolume::I32(transform(v, orient, spacing, interp)?),
        AnyVolume::F32(v) => AnyVolume::F32(transform(v, orient, spacing, interp)?),
    };
    let opts = spinekit_nifti::WriteOptions::default();
    spinekit_nifti::write_nifti(&a.output, &vol, opened.labels.as_ref(), &opts)?;
    let d = vol.dims();
    let g = vol.geometry();
    println!(
        "wrote {} ({}×{}×{} voxels, {:.3}×{:.3}×{:.3} mm, {})",
        a.output.display(),
        d[0],
        d[1],
        d[2],
        g.spacing_mm[0],
        g.spacing_mm[1],
        g.spacing_mm[2],
        g.orientation_code()
    );
    Ok(())
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum PlaneArg {
    Axial,
    Coronal,
    Sagittal,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum WindowArg {
    /// Bone window (centre 400 HU, width 1800 HU).
    Bone,
    /// Soft-tissue window (centre 40 HU, width 400 HU).
    Soft,
    /// Lung window (centre −600 HU, width 1500 HU).
    Lung,
    /// The image's own minimum to maximum (MR, radiographs, unknown units).
    Auto,
}

#[derive(Args, Debug)]
pub struct PictureArgs {
    /// Input scan or radiograph.
    input: PathBuf,
    /// Output PNG file.
    #[arg(short, long)]
    output: PathBuf,
    /// Slice plane (radiological convention: patient's right on the picture's left; anterior left on sagittal).
    #[arg(long, value_enum, default_value_t = PlaneArg::Sagittal)]
    plane: PlaneArg,
    /// Slice index along the plane's axis as stored; default the middle slice.
    #[arg(long)]
    slice: Option<usize>,
    /// Grey-level window.
    #[arg(long, value_enum, default_value_t = WindowArg::Auto)]
    window: WindowArg,
    /// A label map (NIfTI etc.) to draw over the image in colour; it may be on another grid.
    #[arg(long, value_name = "LABELS")]
    labels: Option<PathBuf>,
    #[command(flatten)]
    series: SeriesArg,
}

pub fn picture(a: PictureArgs) -> CmdResult {
    let opts = a.series.options();
    if spinekit_io::detect(&a.input)? == spinekit_io::Format::Picture {
        let img = spinekit_io::open_image2d(&a.input, &opts)?;
        spinekit_picture::write_image2d_png(&a.output, &img.image, None)?;
        println!("wrote {}", a.output.display());
        return Ok(());
    }
    let opened = spinekit_io::open_volume(&a.input, &opts)?;
    for w in &opened.warnings {
        eprintln!("spinekit: warning: {w}");
    }
    let vol: Volume<f32> = opened.volume.to_type();
    let window = match a.window {
        WindowArg::Bone => Window::BONE,
        WindowArg::Soft => Window::SOFT_TISSUE,
        WindowArg::Lung => Window::LUNG,
        WindowArg::Auto => {
            let r = vol
                .intensity_range()
                .ok_or("the image has no finite values")?;
            Window::from_range(r.min, r.max)
        }
    };
    let plane = match a.plane {
        PlaneArg::Axial => Plane::Axial,
        PlaneArg::Coronal => Plane::Coronal,
        PlaneArg::Sagittal => Plane::Sagittal,
    };
    let at = a.slice.map_or(SliceAt::Middle, SliceAt::Index);
    let so = SliceOptions::default();
    let info = match &a.labels {
        Some(lp) => {
            let labels: Volume<u16> = spinekit_io::open_volume(lp, &OpenOptions::default())?
                .volume
                .to_type();
            spinekit_picture::write_overlay_png(&a.output, &vol, &labels, plane, at, window, &so)?
        }
        None => spinekit_picture::write_slice_png(&a.output, &vol, plane, at, window, &so)?,
    };
    println!(
        "wrote {} (slice {} at {:.1} mm, {:.3} mm pixels)",
        a.output.display(),
        info.slice_index,
        info.position_mm,
        info.pixel_mm
    );
    Ok(())
}
