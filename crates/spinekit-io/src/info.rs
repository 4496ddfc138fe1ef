use crate::open::{dicom_image2d, dicom_volume, DicomDetails, Opened, Opened2D};
use crate::{detect, open_image2d, open_volume, Format, IoError, OpenOptions};
use serde::Serialize;
use spinekit_dicom::{SeriesSelector, SeriesSummary};
use spinekit_image::{Geometry, IntensityRange, PixelSpacingSource, VoxelType};
use std::fmt::Write as _;
use std::path::Path;

/// Everything `spinekit info` reports about an input. Serialised as JSON by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    pub format: Format,
    /// DICOM only: every series found (headers only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesInfo>,
    /// DICOM only: the listing number of the series described below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_series: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image2d: Option<PlanarInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<LabelInfo>>,
    /// Files skipped while scanning a DICOM folder (not DICOM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_dicom_files: Option<usize>,
    /// Corrections, assumptions and problems, one line each (tilt, uneven gaps, missing geometry …).
    pub warnings: Vec<String>,
}

/// One DICOM series in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesInfo {
    pub number: usize,
    pub uid: String,
    pub modality: String,
    pub description: String,
    pub images: usize,
    pub rows: u32,
    pub columns: u32,
    pub transfer_syntax: String,
    pub has_geometry: bool,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_gap_mm: Option<f64>,
    pub folder: String,
}

/// A 3D volume's size, geometry and intensities.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    pub dims: [usize; 3],
    pub voxel_type: VoxelType,
    pub spacing_mm: [f64; 3],
    /// Direction each voxel axis increases toward (nibabel convention), e.g. `LPS`.
    pub orientation: String,
    /// World position (LPS mm) of the centre of voxel (0,0,0).
    pub origin_mm: [f64; 3],
    /// Unit vectors of the voxel axes in LPS.
    pub direction: [[f64; 3]; 3],
    /// Largest angle between a voxel axis and its nearest patient axis.
    pub obliquity_deg: f64,
    /// Axis-aligned LPS bounding box of the voxel centres, mm.
    pub world_extent_mm: WorldBox,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intensity_range: Option<IntensityRange>,
    /// Unit of the intensities when known (HU for CT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intensity_unit: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_syntax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gantry_tilt_deg: Option<f64>,
    /// True when the reader interpolated voxels (tilt or irregular slice gaps).
    pub resampled: bool,
    /// Where the geometry came from (NIfTI: sform/qform/…; DICOM: ImagePositionPatient/ImageOrientationPatient).
    pub geometry_source: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct WorldBox {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

/// A 2D image's size and calibration.
#[derive(Debug, Clone, Serialize)]
pub struct PlanarInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    pub width: usize,
    pub height: usize,
    /// (row spacing, column spacing) mm, when the file carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_spacing_mm: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_spacing_source: Option<PixelSpacingSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photometric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_syntax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intensity_range: Option<[f32; 2]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelInfo {
    pub value: u32,
    pub name: String,
}

fn series_info(s: &SeriesSummary) -> SeriesInfo {
    let kind = if s.is_localizer {
        "localizer"
    } else if s.is_secondary_capture {
        "secondary capture"
    } else if s.is_volume_candidate() {
        "3D volume"
    } else if s.instance_count == 1 {
        "single image"
    } else {
        "image stack"
    };
    SeriesInfo {
        number: s.number,
        uid: s.uid.clone(),
        modality: s.modality.clone(),
        description: s.description.clone(),
        images: s.instance_count,
        rows: s.rows,
        columns: s.cols,
        transfer_syntax: s.transfer_syntax_name.clone(),
        has_geometry: s.has_geometry,
        kind,
        slice_gap_mm: s.slice_spacing_mm,
        folder: s.folder.clone(),
    }
}

fn volume_info(o: &Opened) -> VolumeInfo {
    let v = &o.volume;
    let g: &Geometry = v.geometry();
    let (min, max) = v.world_extent_mm();
    let geometry_source = match (&o.dicom, &o.nifti) {
        (Some(d), _) if !d.summary.has_geometry => {
            "none (no ImagePositionPatient/ImageOrientationPatient)".into()
        }
        (Some(_), _) => "ImagePositionPatient/ImageOrientationPatient".into(),
        (_, Some(n)) => format!("{:?}", n.geometry_source),
        _ => "MetaImage header".into(),
    };
    VolumeInfo {
        modality: o.modality.clone(),
        dims: v.dims(),
        voxel_type: v.voxel_type(),
        spacing_mm: g.spacing_mm,
        orientation: g.orientation_code().to_string(),
        origin_mm: g.origin_mm,
        direction: g.direction,
        obliquity_deg: g.obliquity_deg(),
        world_extent_mm: WorldBox { min, max },
        intensity_range: v.intensity_range(),
        intensity_unit: (o.modality.as_deref() == Some("CT")).then_some("HU"),
        transfer_syntax: o.dicom.as_ref().map(transfer_syntax),
        gantry_tilt_deg: o.dicom.as_ref().and_then(|d| d.tilt_deg),
        resampled: o.dicom.as_ref().is_some_and(|d| d.resampled),
        geometry_source,
    }
}

/// "Name (UID)" of the transfer syntax the chosen series was stored with.
fn transfer_syntax(d: &DicomDetails) -> String {
    format!("{} ({})", d.summary.transfer_syntax_name, d.transfer_syntax)
}

fn planar_info(o: &Opened2D) -> PlanarInfo {
    let img = &o.image;
    PlanarInfo {
        modality: o.modality.clone(),
        width: img.width,
        height: img.height,
        pixel_spacing_mm: img.spacing_mm.map(|s| s.0),
        pixel_spacing_source: img.spacing_mm.map(|s| s.1),
        photometric: o
            .dicom
            .as_ref()
            .and_then(|d: &DicomDetails| d.photometric.clone()),
        transfer_syntax: o.dicom.as_ref().map(transfer_syntax),
        intensity_range: img.range().map(|(a, b)| [a, b]),
    }
}

impl Info {
    fn empty(format: Format) -> Self {
        Info {
            format,
            series: Vec::new(),
            selected_series: None,
            volume: None,
            image2d: None,
            labels: None,
            non_dicom_files: None,
            warnings: Vec::new(),
        }
    }

    fn with_volume(mut self, o: Opened) -> Self {
        self.volume = Some(volume_info(&o));
        self.selected_series = o.dicom.as_ref().map(|d| d.summary.number);
        self.labels = o.labels.as_ref().map(|t| {
            t.entries
                .iter()
                .map(|e| LabelInfo {
                    value: e.value,
                    name: e.name.clone(),
                })
                .collect()
        });
        self.warnings.extend(o.warnings);
        self
    }

    fn with_image(mut self, o: Opened2D) -> Self {
        self.image2d = Some(planar_info(&o));
        self.selected_series = o.dicom.as_ref().map(|d| d.summary.number);
        if o.dicom.is_some() && o.image.spacing_mm.is_none() {
            self.warnings
                .push("no pixel spacing in the file: distances cannot be given in mm".into());
        }
        self.warnings.extend(o.warnings);
        self
    }
}

/// Summarises `path` for `spinekit info`: series listing (DICOM), the chosen image's geometry and intensities,
/// and every warning. With [`SeriesSelector::Auto`] and no 3D series among several, lists them without loading.
pub fn inspect(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Info, IoError> {
    let path = path.as_ref();
    let format = detect(path)?;
    let info = Info::empty(format);
    match format {
        Format::Picture => Ok(info.with_image(open_image2d(path, opts)?)),
        Format::Nifti | Format::MetaImage => Ok(info.with_volume(open_volume(path, opts)?)),
        Format::DicomFolder | Format::DicomZip | Format::DicomFile => {
            let scan = spinekit_dicom::scan(path)?;
            let mut info = Info::empty(format);
            info.series = scan.series.iter().map(series_info).collect();
            info.non_dicom_files = Some(scan.non_dicom_files);
            if !scan.damaged_files.is_empty() {
                info.warnings.push(format!(
                    "{} DICOM file(s) could not be read (first: {})",
                    scan.damaged_files.len(),
                    scan.damaged_files[0]
                ));
            }
            let sel = &opts.series;
            let any_volume = scan.series.iter().any(|s| s.is_volume_candidate());
            if *sel != SeriesSelector::Auto || any_volume {
                let chosen = scan_choice(&scan, sel);
                return match chosen {
                    Some(s) if s.instance_count == 1 => {
                        Ok(info.with_image(dicom_image2d(&scan, format, sel)?))
                    }
                    _ => Ok(info.with_volume(dicom_volume(&scan, format, sel)?)),
                };
            }
            match scan.series.as_slice() {
                [one] if one.instance_count == 1 => {
                    Ok(info.with_image(dicom_image2d(&scan, format, sel)?))
                }
                [one] => {
                    // A lone stack without geometry (e.g. secondary capture): load it, the reader says what it assumed.
                    let sel = SeriesSelector::Number(one.number);
                    Ok(info.with_volume(dicom_volume(&scan, format, &sel)?))
                }
                _ => {
                    let mut info = info;
                    info.warnings.push(
                        "no 3D CT/MR series here; choose a series with --series N to read it"
                            .into(),
                    );
                    Ok(info)
                }
            }
        }
    }
}

/// The series a selector names, when it can be decided from the listing alone (for choosing 2D vs 3D loading).
fn scan_choice<'a>(
    scan: &'a spinekit_dicom::DicomScan,
    sel: &SeriesSelector,
) -> Option<&'a SeriesSummary> {
    match sel {
        SeriesSelector::Number(n) => scan.series.iter().find(|s| s.number == *n),
        SeriesSelector::Uid(u) => scan.series.iter().find(|s| &s.uid == u),
        _ => None,
    }
}

fn fmt3(v: [f64; 3], prec: usize) -> String {
    format!("{:.p$} × {:.p$} × {:.p$}", v[0], v[1], v[2], p = prec)
}

impl Info {
    /// Human-readable report (what `spinekit info` prints without `--json`).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "format:        {}", self.format.describe());
        if !self.series.is_empty() {
            let _ = writeln!(s, "series found:  {}", self.series.len());
            for se in &self.series {
                let mark = if Some(se.number) == self.selected_series {
                    "*"
                } else {
                    " "
                };
                let _ = writeln!(
                    s,
                    "  {mark}#{:<3} {:<3} {:<28} {:>4} image(s) {}×{}  {}{}  [{}]",
                    se.number,
                    if se.modality.is_empty() {
                        "?"
                    } else {
                        &se.modality
                    },
                    truncate(
                        if se.description.is_empty() {
                            &se.folder
                        } else {
                            &se.description
                        },
                        28
                    ),
                    se.images,
                    se.columns,
                    se.rows,
                    se.kind,
                    if se.has_geometry { "" } else { ", no geometry" },
                    se.transfer_syntax
                );
            }
        }
        if let Some(v) = &self.volume {
            if let Some(m) = &v.modality {
                let _ = writeln!(s, "modality:      {m}");
            }
            let _ = writeln!(
                s,
                "dimensions:    {} × {} × {} voxels ({:?})",
                v.dims[0], v.dims[1], v.dims[2], v.voxel_type
            );
            let _ = writeln!(s, "spacing:       {} mm", fmt3(v.spacing_mm, 4));
            let _ = writeln!(
                s,
                "orientation:   {} (axes increase toward; obliquity {:.2}°)",
                v.orientation, v.obliquity_deg
            );
            let _ = writeln!(
                s,
                "origin:        {} mm (LPS, centre of first voxel)",
                fmt3(v.origin_mm, 3)
            );
            let _ = writeln!(
                s,
                "world extent:  x {:.1}…{:.1}, y {:.1}…{:.1}, z {:.1}…{:.1} mm (LPS)",
                v.world_extent_mm.min[0],
                v.world_extent_mm.max[0],
                v.world_extent_mm.min[1],
                v.world_extent_mm.max[1],
                v.world_extent_mm.min[2],
                v.world_extent_mm.max[2]
            );
            if let Some(r) = v.intensity_range {
                let _ = writeln!(
                    s,
                    "intensities:   {} … {}{}",
                    r.min,
                    r.max,
                    v.intensity_unit
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default()
                );
            }
            if let Some(t) = &v.transfer_syntax {
                let _ = writeln!(s, "transfer:      {t}");
            }
            if let Some(t) = v.gantry_tilt_deg {
                let _ = writeln!(
                    s,
                    "gantry tilt:   {t:.2}°{}",
                    if v.resampled {
                        " (resampled onto a regular grid)"
                    } else {
                        ""
                    }
                );
            }
            let _ = writeln!(s, "geometry from: {}", v.geometry_source);
        }
        if let Some(p) = &self.image2d {
            if let Some(m) = &p.modality {
                let _ = writeln!(s, "modality:      {m}");
            }
            let _ = writeln!(s, "image:         {} × {} pixels (2D)", p.width, p.height);
            match (p.pixel_spacing_mm, p.pixel_spacing_source) {
                (Some(sp), Some(src)) => {
                    let _ = writeln!(
                        s,
                        "pixel spacing: {:.4} × {:.4} mm (row × column, from {:?})",
                        sp[0], sp[1], src
                    );
                }
                _ => {
                    let _ = writeln!(s, "pixel spacing: unknown (angles only, no millimetres)");
                }
            }
            if let Some(r) = p.intensity_range {
                let _ = writeln!(s, "intensities:   {} … {}", r[0], r[1]);
            }
            if let Some(ph) = &p.photometric {
                let _ = writeln!(s, "photometric:   {ph}");
            }
            if let Some(t) = &p.transfer_syntax {
                let _ = writeln!(s, "transfer:      {t}");
            }
        }
        if let Some(l) = &self.labels {
            let names: Vec<String> = l
                .iter()
                .take(40)
                .map(|e| format!("{} {}", e.value, e.name))
                .collect();
            let _ = writeln!(
                s,
                "labels:        {}{}",
                names.join(", "),
                if l.len() > 40 { ", …" } else { "" }
            );
        }
        if let Some(n) = self.non_dicom_files.filter(|&n| n > 0) {
            let _ = writeln!(s, "skipped:       {n} non-DICOM file(s)");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "WARNING:       {w}");
        }
        s
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}
