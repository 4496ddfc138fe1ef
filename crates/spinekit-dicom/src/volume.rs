//! 3D volume loading: slice ordering along the normal, spacing from positions, gantry tilt and gap correction.

use crate::error::DicomError;
use crate::header::{dot, sub, InstanceHeader};
use crate::pixels::{check_transfer_syntax, native_le_samples, output_range, samples};
use crate::scan::{DicomScan, Purpose, SeriesSelector, SeriesSummary};
use crate::source::{open_zip, read_member, Container, Loc, Member};
use rayon::prelude::*;
use spinekit_image::{AnyVolume, Geometry, Volume, Voxel};

/// Gantry tilt (angle between the slice-to-slice offset and the slice normal) above which slices are re-aligned.
pub const TILT_TOLERANCE_DEG: f64 = 0.1;
/// Relative deviation of any slice gap from the median above which the stack is resampled to a regular grid.
pub const GAP_TOLERANCE: f64 = 0.01;
/// ImageOrientationPatient components may differ by this much between slices of one volume (≈0.06°).
const IOP_TOLERANCE: f64 = 1e-3;

/// A 3D series read into a volume with exact geometry (LPS mm).
#[derive(Debug, Clone)]
pub struct LoadedSeries {
    /// Voxels after RescaleSlope/Intercept. Integer rescale: CT as i16 Hounsfield units, other modalities (MR) as
    /// u16 when non-negative, else i16 — whichever holds every value (decided from the header's stored range, or
    /// from the decoded values when the header allows wider ones), else i32. Fractional rescale: f32.
    pub volume: AnyVolume,
    pub summary: SeriesSummary,
    /// Everything the reader corrected or assumed (tilt, irregular gaps, missing geometry, …), one line each.
    pub warnings: Vec<String>,
    /// TransferSyntaxUID (0002,0010) of the first slice.
    pub transfer_syntax: String,
    /// Modality (0008,0060).
    pub modality: String,
    /// Measured gantry tilt, degrees (0 for an orthogonal stack); corrected when above [`TILT_TOLERANCE_DEG`].
    pub tilt_deg: f64,
    /// True when voxels were interpolated (tilt re-alignment or resampling of irregular gaps).
    pub resampled: bool,
}

/// Loads one series as a 3D volume.
///
/// Slices are ordered by their position along the slice normal (row cosine × column cosine of
/// ImageOrientationPatient (0020,0037)) — never by file name or InstanceNumber. `direction[0]` is the IOP row
/// cosine (increasing column index), `direction[1]` the column cosine, `direction[2]` the normal pointing from the
/// first to the last slice; `origin_mm` is ImagePositionPatient (0020,0032) of the first slice; the slice spacing
/// comes from the positions, never from SliceThickness (0018,0050).
///
/// A tilted stack (offset not parallel to the normal by more than [`TILT_TOLERANCE_DEG`]) is rebuilt on a grid
/// whose third axis follows the normal, each slice shifted in-plane by bilinear interpolation; irregular gaps
/// (more than [`GAP_TOLERANCE`] from the median, e.g. missing slices) are resampled linearly at the median gap.
/// Both add a warning. A series without patient geometry (e.g. Secondary Capture) loads with an explicit warning:
/// slices ordered by InstanceNumber, axes arbitrary, spacing assumed.
///
/// Slices are decoded in parallel straight into the final buffer; peak memory stays near the volume size except
/// when irregular gaps force a resample (then about twice).
pub fn load_volume(
    scan: &DicomScan,
    selector: &SeriesSelector,
) -> Result<LoadedSeries, DicomError> {
    let (idx, mut warnings) = scan.resolve(selector, Purpose::Volume)?;
    let summary = scan.series[idx].clone();
    let inst = &scan.instances[idx];
    let sn = summary.number;
    if !scan.damaged_files.is_empty() {
        warnings.push(format!(
            "{} damaged DICOM file(s) were skipped while scanning (first: {})",
            scan.damaged_files.len(),
            scan.damaged_files[0]
        ));
    }
    let h0 = &inst[0].1;
    if let Some(h) = inst.iter().map(|(_, h)| h).find(|h| h.frames > 1) {
        return Err(DicomError::MultiFrame {
            series: sn,
            frames: h.frames,
        });
    }
    if inst.len() < 2 {
        return Err(DicomError::SingleImage { series: sn });
    }
    let inconsistent = |detail: String| DicomError::Inconsistent { series: sn, detail };
    if h0.rows == 0 || h0.cols == 0 {
        return Err(inconsistent(format!(
            "the images have no pixel matrix ({})",
            summary.sop_class_name
        )));
    }
    if let Some((m, h)) = inst
        .iter()
        .find(|(_, h)| h.rows != h0.rows || h.cols != h0.cols)
    {
        return Err(inconsistent(format!(
            "image sizes differ ({}x{} in {} vs {}x{} in {})",
            h0.cols, h0.rows, inst[0].0.rel, h.cols, h.rows, m.rel
        )));
    }
    if let Some((m, h)) = inst.iter().find(|(_, h)| h.samples_per_pixel != 1) {
        return Err(DicomError::UnsupportedImage {
            path: m.rel.clone(),
            detail: format!(
                "colour image ({} samples per pixel) cannot be a CT/MR volume",
                h.samples_per_pixel
            ),
        });
    }
    if let Some((m, h)) = inst
        .iter()
        .find(|(_, h)| !h.photometric.is_empty() && !h.photometric.starts_with("MONOCHROME"))
    {
        return Err(DicomError::UnsupportedImage {
            path: m.rel.clone(),
            detail: format!(
                "PhotometricInterpretation {} is not greyscale",
                h.photometric
            ),
        });
    }
    if inst.iter().any(|(_, h)| h.photometric == "MONOCHROME1") {
        warnings.push("MONOCHROME1: values left as stored (higher values display darker)".into());
    }
    let mut seen_ts: Vec<&str> = Vec::new();
    for (_, h) in inst {
        if !seen_ts.contains(&h.transfer_syntax.as_str()) {
            check_transfer_syntax(&h.transfer_syntax)?;
            seen_ts.push(&h.transfer_syntax);
        }
    }
    if let Some((m, _)) = inst
        .iter()
        .find(|(_, h)| !same_spacing(h.pixel_spacing, h0.pixel_spacing))
    {
        return Err(inconsistent(format!(
            "PixelSpacing differs between images (e.g. {})",
            m.rel
        )));
    }

    let n_geo = inst.iter().filter(|(_, h)| h.has_geometry()).count();
    let plan = if n_geo == inst.len() {
        plan_geometric(inst, sn, &mut warnings)?
    } else if n_geo == 0 {
        plan_without_geometry(inst, sn, &mut warnings)?
    } else {
        return Err(inconsistent(format!(
            "{} of {} images lack ImagePositionPatient/ImageOrientationPatient",
            inst.len() - n_geo,
            inst.len()
        )));
    };

    let volume = decode_volume(scan, inst, &plan, sn)?;
    Ok(LoadedSeries {
        volume,
        modality: summary.modality.clone(),
        transfer_syntax: h0.transfer_syntax.clone(),
        summary,
        warnings,
        tilt_deg: plan.tilt_deg,
        resampled: plan.resampled(),
    })
}

fn same_spacing(a: Option<[f64; 2]>, b: Option<[f64; 2]>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            (0..2).all(|i| (a[i] - b[i]).abs() <= 1e-4 * a[i].abs().max(b[i].abs()).max(1.0))
        }
        _ => false,
    }
}

/// How to turn the instances into the output grid.
struct Plan {
    /// Instance indices in slice order.
    order: Vec<usize>,
    /// In-plane shift (columns, rows) to apply to each ordered slice (tilt correction); empty when none.
    shifts_px: Vec<[f64; 2]>,
    /// Position of each ordered slice along the normal relative to the first, mm.
    offsets_mm: Vec<f64>,
    /// Output grid; its slice count may differ from the instance count when gaps are resampled.
    geometry: Geometry,
    out_slices: usize,
    /// Resample along the normal (irregular gaps).
    regrid: bool,
    tilt_deg: f64,
}

impl Plan {
    fn resampled(&self) -> bool {
        self.regrid || !self.shifts_px.is_empty()
    }
}

fn plan_geometric(
    inst: &[(Member, InstanceHeader)],
    sn: usize,
    warnings: &mut Vec<String>,
) -> Result<Plan, DicomError> {
    let inconsistent = |detail: String| DicomError::Inconsistent { series: sn, detail };
    let h0 = &inst[0].1;
    let axes = h0.frame_axes().ok_or_else(|| {
        inconsistent("ImageOrientationPatient is not a valid pair of unit vectors".into())
    })?;
    let o0 = h0.iop.unwrap_or_default();
    for (m, h) in inst {
        let o = h.iop.unwrap_or_default();
        let diff = (0..6).map(|i| (o[i] - o0[i]).abs()).fold(0.0, f64::max);
        if diff > IOP_TOLERANCE {
            return Err(inconsistent(format!(
                "ImageOrientationPatient differs between images (e.g. {}; max cosine difference {diff:.4}) — several stacks or a localizer in one series?",
                m.rel
            )));
        }
    }
    let [r, c, n] = axes;
    let ipp = |i: usize| inst[i].1.ipp.unwrap_or_default();
    let mut order: Vec<usize> = (0..inst.len()).collect();
    let d: Vec<f64> = (0..inst.len()).map(|i| dot(ipp(i), n)).collect();
    order.sort_by(|&a, &b| {
        d[a].total_cmp(&d[b])
            .then(inst[a].1.instance_number.cmp(&inst[b].1.instance_number))
    });
    let ds: Vec<f64> = order.iter().map(|&i| d[i]).collect();
    let gaps: Vec<f64> = ds.windows(2).map(|w| w[1] - w[0]).collect();
    let mut sorted_gaps = gaps.clone();
    sorted_gaps.sort_by(f64::total_cmp);
    let median = sorted_gaps[sorted_gaps.len() / 2];
    // Same position: closer than 1% of the typical gap (or 1 µm).
    let dup_tol = (0.01 * median).max(1e-3);
    if let Some(k) = gaps.iter().position(|g| *g < dup_tol) {
        let count = ds.iter().filter(|x| (*x - ds[k]).abs() < dup_tol).count();
        return Err(DicomError::DuplicatePositions {
            series: sn,
            count,
            position_mm: ds[k],
        });
    }
    let first = order[0];
    let last = *order.last().unwrap_or(&first);
    let span = ds[ds.len() - 1] - ds[0];
    let offsets_mm: Vec<f64> = ds.iter().map(|x| x - ds[0]).collect();

    // Gantry tilt: in-plane drift of the slice origins relative to the normal.
    let ps = h0.pixel_spacing.unwrap_or([1.0, 1.0]);
    let v = sub(ipp(last), ipp(first));
    let along = dot(v, n);
    let perp = sub(v, [along * n[0], along * n[1], along * n[2]]);
    let tilt_deg = dot(perp, perp).sqrt().atan2(along).to_degrees();
    let shifts: Vec<[f64; 2]> = order
        .iter()
        .zip(&offsets_mm)
        .map(|(&i, &off)| {
            let s = sub(
                sub(ipp(i), ipp(first)),
                [off * n[0], off * n[1], off * n[2]],
            );
            [dot(s, r) / ps[1], dot(s, c) / ps[0]]
        })
        .collect();
    let max_shift_px = shifts
        .iter()
        .map(|s| s[0].abs().max(s[1].abs()))
        .fold(0.0, f64::max);
    let shifts_px = if tilt_deg > TILT_TOLERANCE_DEG || max_shift_px > 0.5 {
        warnings.push(format!(
            "gantry tilt {tilt_deg:.2}° corrected: slices were shifted in-plane (up to {max_shift_px:.1} pixels) onto a grid perpendicular to the slices"
        ));
        shifts
    } else {
        Vec::new()
    };

    let max_dev = gaps
        .iter()
        .map(|g| (g - median).abs() / median)
        .fold(0.0, f64::max);
    let regrid = max_dev > GAP_TOLERANCE;
    let (spacing_z, out_slices) = if regrid {
        let k = (span / median + 1e-6).floor() as usize + 1;
        // More than 4× the slices means the gaps are not "a few missing slices" but an incoherent stack.
        if k > 4 * inst.len() + 8 {
            return Err(inconsistent(format!(
                "slice gaps range from {:.3} to {:.3} mm: too irregular to resample ({k} slices from {})",
                sorted_gaps[0],
                sorted_gaps[sorted_gaps.len() - 1],
                inst.len()
            )));
        }
        warnings.push(format!(
            "irregular slice gaps ({:.3}–{:.3} mm, {} slices; missing slices?): resampled linearly onto a regular {median:.3} mm grid of {k} slices",
            sorted_gaps[0],
            sorted_gaps[sorted_gaps.len() - 1],
            inst.len()
        ));
        (median, k)
    } else {
        (span / (inst.len() - 1) as f64, inst.len())
    };
    let geometry = Geometry {
        origin_mm: ipp(first),
        spacing_mm: [ps[1], ps[0], spacing_z],
        direction: [r, c, n],
    };
    geometry.validate()?;
    Ok(Plan {
        order,
        shifts_px,
        offsets_mm,
        geometry,
        out_slices,
        regrid,
        tilt_deg,
    })
}

fn plan_without_geometry(
    inst: &[(Member, InstanceHeader)],
    sn: usize,
    warnings: &mut Vec<String>,
) -> Result<Plan, DicomError> {
    let inconsistent = |detail: String| DicomError::Inconsistent { series: sn, detail };
    if let Some((m, _)) = inst.iter().find(|(_, h)| h.instance_number.is_none()) {
        return Err(inconsistent(format!(
            "no patient geometry and no InstanceNumber (in {}): the slice order is unknown",
            m.rel
        )));
    }
    let mut order: Vec<usize> = (0..inst.len()).collect();
    order.sort_by_key(|&i| inst[i].1.instance_number);
    if let Some(w) = order
        .windows(2)
        .find(|w| inst[w[0]].1.instance_number == inst[w[1]].1.instance_number)
    {
        return Err(inconsistent(format!(
            "no patient geometry and two images share InstanceNumber {} ({} and {})",
            inst[w[0]].1.instance_number.unwrap_or_default(),
            inst[w[0]].0.rel,
            inst[w[1]].0.rel
        )));
    }
    let h0 = &inst[0].1;
    let (ps, ps_src) = match h0.pixel_spacing {
        Some(p) => (p, "PixelSpacing"),
        None => ([1.0, 1.0], "assumed 1 mm"),
    };
    let (dz, dz_src) = match (h0.spacing_between_slices, h0.slice_thickness) {
        (Some(s), _) => (s, "SpacingBetweenSlices"),
        (None, Some(t)) => (t, "SliceThickness"),
        (None, None) => (1.0, "nothing in the header"),
    };
    warnings.push(format!(
        "no patient geometry: positions unknown, slices ordered by InstanceNumber, spacing assumed ({:.3} mm between slices from {dz_src}, in-plane {:.3}x{:.3} mm from {ps_src}); axes labelled LPS arbitrarily — do not use for world-coordinate measurements",
        dz, ps[1], ps[0]
    ));
    let geometry = Geometry::identity([ps[1], ps[0], dz]);
    geometry.validate()?;
    Ok(Plan {
        offsets_mm: (0..inst.len()).map(|k| k as f64 * dz).collect(),
        order,
        shifts_px: Vec::new(),
        geometry,
        out_slices: inst.len(),
        regrid: false,
        tilt_deg: 0.0,
    })
}

/// Output voxel type chosen from the header's stored range and rescale (before any pixel is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutType {
    I16,
    U16,
    I32,
    F32,
}

fn choose_type(inst: &[(Member, InstanceHeader)], modality: &str) -> OutType {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut integral = true;
    for (_, h) in inst {
        let bs = if h.bits_stored == 0 {
            h.bits_allocated.max(8)
        } else {
            h.bits_stored
        };
        let (a, b) = output_range(bs, h.signed, h.slope, h.intercept);
        lo = lo.min(a);
        hi = hi.max(b);
        integral &= h.slope.fract() == 0.0 && h.intercept.fract() == 0.0;
    }
    if !integral {
        return OutType::F32;
    }
    let fits_i16 = lo >= i16::MIN as f64 && hi <= i16::MAX as f64;
    let fits_u16 = lo >= 0.0 && hi <= u16::MAX as f64;
    let ct = modality == "CT";
    if fits_u16 && !ct {
        OutType::U16
    } else if fits_i16 {
        OutType::I16
    } else {
        OutType::I32
    }
}

fn decode_volume(
    scan: &DicomScan,
    inst: &[(Member, InstanceHeader)],
    plan: &Plan,
    sn: usize,
) -> Result<AnyVolume, DicomError> {
    let modality = inst[0].1.modality.as_str();
    Ok(match choose_type(inst, modality) {
        OutType::I16 => AnyVolume::I16(build::<i16>(scan, inst, plan, sn)?),
        OutType::U16 => AnyVolume::U16(build::<u16>(scan, inst, plan, sn)?),
        OutType::F32 => AnyVolume::F32(build::<f32>(scan, inst, plan, sn)?),
        OutType::I32 => {
            // Integer rescale whose declared range is wide: narrow when the actual values allow.
            let v = build::<i32>(scan, inst, plan, sn)?;
            let ct = modality == "CT";
            match v.intensity_range() {
                Some(r) if r.min >= 0.0 && r.max <= u16::MAX as f64 && !ct => {
                    AnyVolume::U16(v.map(|x| x as u16))
                }
                Some(r) if r.min >= i16::MIN as f64 && r.max <= i16::MAX as f64 => {
                    AnyVolume::I16(v.map(|x| x as i16))
                }
                _ => AnyVolume::I32(v),
            }
        }
    })
}

fn build<T: Voxel>(
    scan: &DicomScan,
    inst: &[(Member, InstanceHeader)],
    plan: &Plan,
    sn: usize,
) -> Result<Volume<T>, DicomError> {
    let h0 = &inst[0].1;
    let (cols, rows) = (h0.cols as usize, h0.rows as usize);
    let plane = cols * rows;
    let n_src = plan.order.len();
    let mut src = Volume::<T>::zeros([cols, rows, n_src], plan.geometry)?;
    let decode_one =
        |zip: Option<&mut zip::ZipArchive<_>>, k: usize, out: &mut [T]| -> Result<(), DicomError> {
            let (m, h) = &inst[plan.order[k]];
            decode_slice(scan, zip, m, h, [cols, rows], sn, out)?;
            if let Some(sh) = plan.shifts_px.get(k) {
                shift_in_plane(out, cols, rows, *sh);
            }
            Ok(())
        };
    let chunks = src.data_mut().par_chunks_mut(plane).enumerate();
    match &scan.container {
        Container::Files => chunks.try_for_each(|(k, out)| decode_one(None, k, out))?,
        Container::Zip(zp) => chunks.try_for_each_init(
            || open_zip(zp),
            |z, (k, out)| match z {
                Ok(z) => decode_one(Some(z), k, out),
                Err(e) => Err(DicomError::BadZip {
                    path: zp.display().to_string(),
                    detail: e.to_string(),
                }),
            },
        )?,
    }
    if !plan.regrid {
        return Ok(src);
    }
    // Irregular gaps: linear interpolation along the normal onto the regular grid.
    let mut out = Volume::<T>::zeros([cols, rows, plan.out_slices], plan.geometry)?;
    let dz = plan.geometry.spacing_mm[2];
    let offs = &plan.offsets_mm;
    let sdata = src.data();
    out.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(q, o)| {
            let t = (q as f64 * dz).min(offs[n_src - 1]);
            let a = offs
                .partition_point(|&x| x <= t)
                .saturating_sub(1)
                .min(n_src - 2);
            let w = ((t - offs[a]) / (offs[a + 1] - offs[a])).clamp(0.0, 1.0);
            let sa = &sdata[a * plane..(a + 1) * plane];
            let sb = &sdata[(a + 1) * plane..(a + 2) * plane];
            for ((v, x), y) in o.iter_mut().zip(sa).zip(sb) {
                *v = T::from_f64(x.to_f64() * (1.0 - w) + y.to_f64() * w);
            }
        });
    Ok(out)
}

/// Decodes one instance's pixels, rescaled, into `out` (cols × rows, row-major).
fn decode_slice<T: Voxel>(
    scan: &DicomScan,
    zip: Option<&mut zip::ZipArchive<std::io::BufReader<std::fs::File>>>,
    m: &Member,
    h: &InstanceHeader,
    [cols, rows]: [usize; 2],
    sn: usize,
    out: &mut [T],
) -> Result<(), DicomError> {
    if let (Loc::File(path), Container::Files) = (&m.loc, &scan.container) {
        let bytes = std::fs::read(path).map_err(|e| DicomError::Damaged {
            path: m.rel.clone(),
            detail: e.to_string(),
        })?;
        if let Some(s) = native_le_samples(&bytes, h) {
            s.write_rescaled(h.slope, h.intercept, out);
            return Ok(());
        }
    }
    let obj = read_member(&scan.container, zip, m, false).map_err(|e| e.into_error(&m.rel))?;
    let s = samples(&obj, &m.rel)?;
    if s.samples_per_pixel != 1 {
        return Err(DicomError::UnsupportedImage {
            path: m.rel.clone(),
            detail: "colour pixel data in a greyscale series".into(),
        });
    }
    if s.rows != rows || s.cols != cols {
        return Err(DicomError::Inconsistent {
            series: sn,
            detail: format!(
                "{} decodes to {}x{}, expected {cols}x{rows}",
                m.rel, s.cols, s.rows
            ),
        });
    }
    s.write_rescaled(h.slope, h.intercept, out);
    Ok(())
}

/// Moves slice content by `shift` = (columns, rows) pixels: `out(i, j) = in(i − sx, j − sy)`, bilinear; pixels
/// that come from outside the slice get the slice's minimum (background).
fn shift_in_plane<T: Voxel>(slice: &mut [T], cols: usize, rows: usize, shift: [f64; 2]) {
    if shift[0] == 0.0 && shift[1] == 0.0 {
        return;
    }
    let src: Vec<f64> = slice.iter().map(|v| v.to_f64()).collect();
    let fill = src.iter().copied().fold(f64::INFINITY, f64::min);
    let at = |i: isize, j: isize| -> f64 {
        if i < 0 || j < 0 || i >= cols as isize || j >= rows as isize {
            fill
        } else {
            src[j as usize * cols + i as usize]
        }
    };
    for j in 0..rows {
        let y = j as f64 - shift[1];
        let y0 = y.floor();
        let fy = y - y0;
        for i in 0..cols {
            let x = i as f64 - shift[0];
            let x0 = x.floor();
            let fx = x - x0;
            let (xi, yi) = (x0 as isize, y0 as isize);
            let v = (at(xi, yi) * (1.0 - fx) + at(xi + 1, yi) * fx) * (1.0 - fy)
                + (at(xi, yi + 1) * (1.0 - fx) + at(xi + 1, yi + 1) * fx) * fy;
            slice[j * cols + i] = T::from_f64(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shift_in_plane;

    #[test]
    fn in_plane_shift_moves_content_and_fills_background() {
        // 4×3 slice with a ramp in columns; shift by +1.5 columns, −1 row.
        let mut s: Vec<f32> = (0..12).map(|p| (p % 4) as f32 * 10.0 + 100.0).collect();
        shift_in_plane(&mut s, 4, 3, [1.5, -1.0]);
        // out(i, j) = in(i − 1.5, j + 1): column 2 reads between columns 0 and 1 → 105; row 2 reads outside → fill.
        assert_eq!(s[0], 100.0); // i = 0 reads column −1.5: background (slice minimum)
        assert_eq!(s[2], 105.0);
        assert_eq!(s[3], 115.0);
        assert!(s[8..].iter().all(|&v| v == 100.0));
    }
}
