//! The header attributes spinekit needs from one instance (DICOM PS3.3 tag numbers in comments).

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

/// Header of one image instance, read without its pixels.
#[derive(Debug, Clone, Default)]
pub(crate) struct InstanceHeader {
    /// SeriesInstanceUID (0020,000E); may be empty in badly anonymised data.
    pub series_uid: String,
    /// Modality (0008,0060).
    pub modality: String,
    /// SeriesDescription (0008,103E).
    pub description: String,
    /// SeriesNumber (0020,0011).
    pub series_number: Option<i64>,
    /// InstanceNumber (0020,0013).
    pub instance_number: Option<i64>,
    /// SOPClassUID (0008,0016), else MediaStorageSOPClassUID (0002,0002).
    pub sop_class: String,
    /// TransferSyntaxUID (0002,0010).
    pub transfer_syntax: String,
    /// ImageType (0008,0008), upper case.
    pub image_type: Vec<String>,
    /// Rows (0028,0010), Columns (0028,0011).
    pub rows: u32,
    pub cols: u32,
    /// SamplesPerPixel (0028,0002).
    pub samples_per_pixel: u16,
    /// PhotometricInterpretation (0028,0004).
    pub photometric: String,
    /// BitsAllocated (0028,0100), BitsStored (0028,0101), PixelRepresentation (0028,0103: 1 = signed).
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    /// NumberOfFrames (0028,0008), 1 when absent.
    pub frames: u32,
    /// ImagePositionPatient (0020,0032): centre of the first transmitted pixel, LPS mm.
    pub ipp: Option<[f64; 3]>,
    /// ImageOrientationPatient (0020,0037): row cosine (direction of increasing column), then column cosine.
    pub iop: Option<[f64; 6]>,
    /// PixelSpacing (0028,0030): (row spacing = between rows, column spacing = between columns), mm.
    pub pixel_spacing: Option<[f64; 2]>,
    /// ImagerPixelSpacing (0018,1164): at the detector, mm.
    pub imager_pixel_spacing: Option<[f64; 2]>,
    /// SliceThickness (0018,0050) and SpacingBetweenSlices (0018,0088), informational only.
    pub slice_thickness: Option<f64>,
    pub spacing_between_slices: Option<f64>,
    /// RescaleSlope (0028,1053), RescaleIntercept (0028,1052): the modality LUT, stored → output units.
    pub slope: f64,
    pub intercept: f64,
}

impl InstanceHeader {
    pub fn from_object(obj: &DefaultDicomObject) -> Self {
        let text = |t: Tag| -> String {
            obj.get(t)
                .and_then(|e| e.to_str().ok())
                .map(|s| {
                    s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                        .to_string()
                })
                .unwrap_or_default()
        };
        let int = |t: Tag| -> Option<i64> { obj.get(t).and_then(|e| e.to_int::<i64>().ok()) };
        let floats = |t: Tag| -> Option<Vec<f64>> {
            obj.get(t)
                .and_then(|e| e.to_multi_float64().ok())
                .filter(|v| v.iter().all(|x| x.is_finite()))
        };
        let arr3 = |t| {
            floats(t)
                .filter(|v| v.len() == 3)
                .map(|v| [v[0], v[1], v[2]])
        };
        let arr2 = |t| {
            floats(t)
                .filter(|v| v.len() == 2 && v[0] > 0.0 && v[1] > 0.0)
                .map(|v| [v[0], v[1]])
        };
        let pos = |t| {
            floats(t)
                .and_then(|v| v.first().copied())
                .filter(|x| *x > 0.0)
        };
        let meta = obj.meta();
        let mut sop_class = text(tags::SOP_CLASS_UID);
        if sop_class.is_empty() {
            sop_class = meta
                .media_storage_sop_class_uid()
                .trim_end_matches('\0')
                .to_string();
        }
        let image_type = obj
            .get(tags::IMAGE_TYPE)
            .and_then(|e| e.to_multi_str().ok().map(|v| v.to_vec()))
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
        let slope = floats(tags::RESCALE_SLOPE)
            .and_then(|v| v.first().copied())
            .filter(|s| *s != 0.0)
            .unwrap_or(1.0);
        let intercept = floats(tags::RESCALE_INTERCEPT)
            .and_then(|v| v.first().copied())
            .unwrap_or(0.0);
        Self {
            series_uid: text(tags::SERIES_INSTANCE_UID),
            modality: text(tags::MODALITY).to_ascii_uppercase(),
            description: text(tags::SERIES_DESCRIPTION),
            series_number: int(tags::SERIES_NUMBER),
            instance_number: int(tags::INSTANCE_NUMBER),
            sop_class,
            transfer_syntax: meta.transfer_syntax().trim_end_matches('\0').to_string(),
            image_type,
            rows: int(tags::ROWS)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
            cols: int(tags::COLUMNS)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
            samples_per_pixel: int(tags::SAMPLES_PER_PIXEL)
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or(1),
            photometric: text(tags::PHOTOMETRIC_INTERPRETATION).to_ascii_uppercase(),
            bits_allocated: int(tags::BITS_ALLOCATED)
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or(0),
            bits_stored: int(tags::BITS_STORED)
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or(0),
            signed: int(tags::PIXEL_REPRESENTATION) == Some(1),
            frames: int(tags::NUMBER_OF_FRAMES)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
                .unwrap_or(1),
            ipp: arr3(tags::IMAGE_POSITION_PATIENT),
            iop: floats(tags::IMAGE_ORIENTATION_PATIENT)
                .filter(|v| v.len() == 6)
                .map(|v| [v[0], v[1], v[2], v[3], v[4], v[5]]),
            pixel_spacing: arr2(tags::PIXEL_SPACING),
            imager_pixel_spacing: arr2(tags::IMAGER_PIXEL_SPACING),
            slice_thickness: pos(tags::SLICE_THICKNESS),
            spacing_between_slices: pos(tags::SPACING_BETWEEN_SLICES),
            slope,
            intercept,
        }
    }

    /// Patient geometry present: ImagePositionPatient and a usable ImageOrientationPatient.
    pub fn has_geometry(&self) -> bool {
        self.ipp.is_some() && self.frame_axes().is_some()
    }

    /// Orthonormalised (row, column, normal) unit vectors from ImageOrientationPatient.
    pub fn frame_axes(&self) -> Option<[[f64; 3]; 3]> {
        let o = self.iop?;
        let r = normalize([o[0], o[1], o[2]])?;
        let c0 = [o[3], o[4], o[5]];
        let d = dot(r, c0);
        let c = normalize([c0[0] - d * r[0], c0[1] - d * r[1], c0[2] - d * r[2]])?;
        // Cosines more than ~1° from perpendicular are not a valid orientation.
        if d.abs() > 0.02 {
            return None;
        }
        Some([r, c, cross(r, c)])
    }

    pub fn is_localizer(&self) -> bool {
        self.image_type.iter().any(|t| t == "LOCALIZER")
    }

    /// Secondary Capture Image Storage and its multi-frame variants (PS3.4 B.5: 1.2.840.10008.5.1.4.1.1.7[.n]).
    pub fn is_secondary_capture(&self) -> bool {
        self.sop_class == "1.2.840.10008.5.1.4.1.1.7"
            || self.sop_class.starts_with("1.2.840.10008.5.1.4.1.1.7.")
    }
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn normalize(v: [f64; 3]) -> Option<[f64; 3]> {
    let n = dot(v, v).sqrt();
    (n.is_finite() && n > 1e-6).then(|| [v[0] / n, v[1] / n, v[2] / n])
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Human name of a transfer syntax UID (PS3.6 Annex A).
pub(crate) fn transfer_syntax_name(uid: &str) -> String {
    use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
    match TransferSyntaxRegistry.get(uid) {
        Some(ts) => ts.name().to_string(),
        None => "unknown transfer syntax".to_string(),
    }
}

/// Human name of common image storage SOP classes (PS3.4 Annex B).
pub(crate) fn sop_class_name(uid: &str) -> &'static str {
    match uid {
        "1.2.840.10008.5.1.4.1.1.2" => "CT Image Storage",
        "1.2.840.10008.5.1.4.1.1.2.1" => "Enhanced CT Image Storage",
        "1.2.840.10008.5.1.4.1.1.4" => "MR Image Storage",
        "1.2.840.10008.5.1.4.1.1.4.1" => "Enhanced MR Image Storage",
        "1.2.840.10008.5.1.4.1.1.1" => "Computed Radiography Image Storage",
        "1.2.840.10008.5.1.4.1.1.1.1" => "Digital X-Ray Image Storage - For Presentation",
        "1.2.840.10008.5.1.4.1.1.1.1.1" => "Digital X-Ray Image Storage - For Processing",
        "1.2.840.10008.5.1.4.1.1.1.2" => {
            "Digital Mammography X-Ray Image Storage - For Presentation"
        }
        "1.2.840.10008.5.1.4.1.1.7" => "Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.7.1" => "Multi-frame Single Bit Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.7.2" => {
            "Multi-frame Grayscale Byte Secondary Capture Image Storage"
        }
        "1.2.840.10008.5.1.4.1.1.7.3" => {
            "Multi-frame Grayscale Word Secondary Capture Image Storage"
        }
        "1.2.840.10008.5.1.4.1.1.7.4" => "Multi-frame True Color Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.66.4" => "Segmentation Storage",
        "1.2.840.10008.5.1.4.1.1.128" => "PET Image Storage",
        "1.2.840.10008.5.1.4.1.1.20" => "NM Image Storage",
        "1.2.840.10008.5.1.4.1.1.481.1" => "RT Image Storage",
        "1.2.840.10008.5.1.4.1.1.481.3" => "RT Structure Set Storage",
        "1.2.840.10008.5.1.4.1.1.88.11"
        | "1.2.840.10008.5.1.4.1.1.88.22"
        | "1.2.840.10008.5.1.4.1.1.88.33" => "Structured Report",
        "" => "unknown SOP class",
        _ => "other SOP class",
    }
}
