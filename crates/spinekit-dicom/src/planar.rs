//! 2D images: radiographs (DX, CR, MG), secondary captures, single slices.

use crate::error::DicomError;
use crate::header::{dot, InstanceHeader};
use crate::pixels::samples;
use crate::scan::{DicomScan, Purpose, SeriesSelector, SeriesSummary};
use crate::source::{open_zip, read_member, Container, Member};
use spinekit_image::{Image2D, PixelSpacingSource};

/// One 2D image with what a radiograph pipeline needs to know about it.
#[derive(Debug, Clone)]
pub struct Loaded2D {
    /// Pixel values after the modality LUT (RescaleSlope/Intercept); `image.inverted` is set for MONOCHROME1;
    /// `image.spacing_mm` is PixelSpacing (0028,0030) when present, else ImagerPixelSpacing (0018,1164), with its
    /// source recorded.
    pub image: Image2D,
    pub summary: SeriesSummary,
    /// Modality (0008,0060).
    pub modality: String,
    /// PhotometricInterpretation (0028,0004) as stored.
    pub photometric: String,
    /// TransferSyntaxUID (0002,0010).
    pub transfer_syntax: String,
    /// InstanceNumber (0020,0013).
    pub instance_number: Option<i64>,
    /// File (or zip member) relative to the scanned path.
    pub file: String,
    pub warnings: Vec<String>,
}

/// Loads the single image of a series (a radiograph, a secondary capture). With [`SeriesSelector::Auto`] the
/// scan must hold exactly one image series. A series of several images is refused: use [`load_2d_stack`].
pub fn load_2d(scan: &DicomScan, selector: &SeriesSelector) -> Result<Loaded2D, DicomError> {
    let (idx, notes) = scan.resolve(selector, Purpose::Planar)?;
    let inst = &scan.instances[idx];
    if inst.len() != 1 {
        return Err(DicomError::NotSingleImage {
            series: scan.series[idx].number,
            count: inst.len(),
        });
    }
    let mut l = load_one(scan, idx, &inst[0], None)?;
    l.warnings.splice(0..0, notes);
    Ok(l)
}

/// Loads every image of a series as 2D images, in slice order: by position along the slice normal when the
/// images carry geometry, else by InstanceNumber (then file name).
pub fn load_2d_stack(
    scan: &DicomScan,
    selector: &SeriesSelector,
) -> Result<Vec<Loaded2D>, DicomError> {
    let (idx, notes) = scan.resolve(selector, Purpose::Planar)?;
    let inst = &scan.instances[idx];
    let mut order: Vec<usize> = (0..inst.len()).collect();
    let geo = inst.iter().all(|(_, h)| h.has_geometry());
    let axes = inst[0].1.frame_axes();
    match (geo, axes) {
        (true, Some(ax)) => order.sort_by(|&a, &b| {
            let pa = dot(inst[a].1.ipp.unwrap_or_default(), ax[2]);
            let pb = dot(inst[b].1.ipp.unwrap_or_default(), ax[2]);
            pa.total_cmp(&pb)
        }),
        _ => order.sort_by(|&a, &b| {
            let (ha, hb) = (&inst[a].1, &inst[b].1);
            ha.instance_number
                .unwrap_or(i64::MAX)
                .cmp(&hb.instance_number.unwrap_or(i64::MAX))
                .then(inst[a].0.rel.cmp(&inst[b].0.rel))
        }),
    }
    let mut zip = match &scan.container {
        Container::Zip(p) => Some(open_zip(p)?),
        Container::Files => None,
    };
    let mut out = Vec::with_capacity(order.len());
    for (n, &i) in order.iter().enumerate() {
        let mut l = load_one(scan, idx, &inst[i], zip.as_mut())?;
        if n == 0 {
            l.warnings.splice(0..0, notes.iter().cloned());
        }
        out.push(l);
    }
    Ok(out)
}

fn load_one(
    scan: &DicomScan,
    idx: usize,
    (m, h): &(Member, InstanceHeader),
    zip: Option<&mut zip::ZipArchive<std::io::BufReader<std::fs::File>>>,
) -> Result<Loaded2D, DicomError> {
    let summary = scan.series[idx].clone();
    if h.frames > 1 {
        return Err(DicomError::MultiFrame {
            series: summary.number,
            frames: h.frames,
        });
    }
    let mut own_zip = match (&scan.container, &zip) {
        (Container::Zip(p), None) => Some(open_zip(p)?),
        _ => None,
    };
    let zip = zip.or(own_zip.as_mut());
    let obj = read_member(&scan.container, zip, m, false).map_err(|e| e.into_error(&m.rel))?;
    let s = samples(&obj, &m.rel)?;
    let mut warnings = Vec::new();
    let mut data = vec![0f32; s.rows * s.cols];
    match s.samples_per_pixel {
        1 => s.write_rescaled(h.slope, h.intercept, &mut data),
        _ => {
            s.write_luma(&mut data);
            warnings.push(format!(
                "colour image ({}) converted to greyscale (Rec. 601 luma)",
                if h.photometric.is_empty() {
                    "RGB"
                } else {
                    &h.photometric
                }
            ));
        }
    }
    if h.photometric == "PALETTE COLOR" {
        warnings.push("PALETTE COLOR image: palette indices returned, not colours".into());
    }
    let mut image = Image2D::new(s.cols, s.rows, data)?;
    image.inverted = h.photometric == "MONOCHROME1";
    image.spacing_mm = match (h.pixel_spacing, h.imager_pixel_spacing) {
        (Some(p), _) => Some((p, PixelSpacingSource::PixelSpacing)),
        (None, Some(p)) => {
            warnings.push(
                "pixel spacing from ImagerPixelSpacing (at the detector): distances are magnified by the projection".into(),
            );
            Some((p, PixelSpacingSource::ImagerPixelSpacing))
        }
        (None, None) => {
            warnings.push("no pixel spacing in the header: measurements in pixels only".into());
            None
        }
    };
    Ok(Loaded2D {
        image,
        modality: h.modality.clone(),
        photometric: h.photometric.clone(),
        transfer_syntax: h.transfer_syntax.clone(),
        instance_number: h.instance_number,
        file: m.rel.clone(),
        summary,
        warnings,
    })
}
