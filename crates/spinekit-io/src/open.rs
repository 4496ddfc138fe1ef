use crate::{detect, Format, IoError};
use spinekit_dicom::SeriesSelector;
use spinekit_image::{AnyVolume, Image2D, Volume};
use spinekit_nifti::LabelTable;
use std::path::Path;

/// Choices the caller can make when a path holds more than one image.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Which DICOM series to read (ignored for single-image formats).
    pub series: SeriesSelector,
}

/// A 3D volume read from any format, with what the reader had to say about it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub volume: AnyVolume,
    pub format: Format,
    /// DICOM Modality (0008,0060) when the format records it (`CT`, `MR`, …).
    pub modality: Option<String>,
    /// Label names, when the file carries a label table (NIfTI CaretExtension).
    pub labels: Option<LabelTable>,
    /// Everything the reader corrected or assumed, one line each.
    pub warnings: Vec<String>,
    /// DICOM details for `info` (transfer syntax, tilt, the chosen series).
    pub(crate) dicom: Option<DicomDetails>,
    pub(crate) nifti: Option<spinekit_nifti::NiftiInfo>,
}

/// What `info` reports about a DICOM read besides the voxels.
#[derive(Debug, Clone)]
pub(crate) struct DicomDetails {
    pub summary: spinekit_dicom::SeriesSummary,
    pub transfer_syntax: String,
    pub tilt_deg: Option<f64>,
    pub resampled: bool,
    pub photometric: Option<String>,
}

impl Opened {
    /// The volume as i16 Hounsfield units, refusing non-CT modalities and values that do not fit.
    pub fn into_ct_hu(self) -> Result<Volume<i16>, IoError> {
        if let Some(m) = self.modality.as_deref().filter(|m| *m != "CT") {
            return Err(IoError::NotCt {
                modality: m.to_string(),
            });
        }
        Ok(self.volume.to_hu_i16()?)
    }
}

/// A 2D image (radiograph, secondary capture, picture).
#[derive(Debug, Clone)]
pub struct Opened2D {
    pub image: Image2D,
    pub format: Format,
    pub modality: Option<String>,
    pub warnings: Vec<String>,
    pub(crate) dicom: Option<DicomDetails>,
}

/// Opens `path` as a 3D volume with exact LPS geometry, whatever its format.
pub fn open_volume(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Opened, IoError> {
    let path = path.as_ref();
    let format = detect(path)?;
    match format {
        Format::DicomFolder | Format::DicomZip | Format::DicomFile => {
            let scan = spinekit_dicom::scan(path)?;
            dicom_volume(&scan, format, &opts.series)
        }
        Format::Nifti => {
            let n = spinekit_nifti::read_nifti(path)?;
            Ok(Opened {
                volume: n.volume,
                format,
                modality: None,
                labels: n.labels,
                warnings: n.warnings,
                dicom: None,
                nifti: Some(n.info),
            })
        }
        Format::MetaImage => Ok(Opened {
            volume: spinekit_metaimage::read_metaimage(path)?,
            format,
            modality: None,
            labels: None,
            warnings: Vec::new(),
            dicom: None,
            nifti: None,
        }),
        Format::Picture => Err(IoError::NotAVolume {
            path: path.display().to_string(),
            what: "PNG/JPEG picture".into(),
        }),
    }
}

/// Opens `path` as a single 2D image: a DICOM radiograph (DX/CR/MG/secondary capture) or a PNG/JPEG.
pub fn open_image2d(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Opened2D, IoError> {
    let path = path.as_ref();
    let format = detect(path)?;
    match format {
        Format::Picture => Ok(Opened2D {
            image: spinekit_picture::read_picture(path)?,
            format,
            modality: None,
            warnings: Vec::new(),
            dicom: None,
        }),
        Format::DicomFolder | Format::DicomZip | Format::DicomFile => {
            let scan = spinekit_dicom::scan(path)?;
            dicom_image2d(&scan, format, &opts.series)
        }
        Format::Nifti | Format::MetaImage => Err(IoError::NotAnImage2D {
            path: path.display().to_string(),
        }),
    }
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|m| !m.is_empty())
}

pub(crate) fn dicom_volume(
    scan: &spinekit_dicom::DicomScan,
    format: Format,
    sel: &SeriesSelector,
) -> Result<Opened, IoError> {
    let l = spinekit_dicom::load_volume(scan, sel)?;
    Ok(Opened {
        volume: l.volume,
        format,
        modality: non_empty(l.modality),
        labels: None,
        warnings: l.warnings,
        dicom: Some(DicomDetails {
            summary: l.summary,
            transfer_syntax: l.transfer_syntax,
            tilt_deg: Some(l.tilt_deg),
            resampled: l.resampled,
            photometric: None,
        }),
        nifti: None,
    })
}

pub(crate) fn dicom_image2d(
    scan: &spinekit_dicom::DicomScan,
    format: Format,
    sel: &SeriesSelector,
) -> Result<Opened2D, IoError> {
    let l = spinekit_dicom::load_2d(scan, sel)?;
    Ok(Opened2D {
        image: l.image,
        format,
        modality: non_empty(l.modality),
        warnings: l.warnings,
        dicom: Some(DicomDetails {
            summary: l.summary,
            transfer_syntax: l.transfer_syntax,
            tilt_deg: None,
            resampled: false,
            photometric: Some(l.photometric),
        }),
    })
}
