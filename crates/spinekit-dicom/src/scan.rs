//! Header-only scanning: group instances into series, list them, choose one.

use crate::error::DicomError;
use crate::header::{dot, sop_class_name, transfer_syntax_name, InstanceHeader};
use crate::source::{discover, open_zip, read_member, Container, Member, ParseFail};
use listing::Listing;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The rule [`SeriesSelector::Auto`] applies to choose a 3D series (also quoted in error messages).
pub const AUTO_RULE: &str = "prefer CT, then MR, then other modalities; only series whose images all carry \
ImagePositionPatient/ImageOrientationPatient, at least 3 images, single-frame, not LOCALIZER in ImageType and \
not Secondary Capture; among those the most slices, then the thinnest slice spacing, then the lowest listing number";

/// One series found by [`scan`]. `number` is the 1-based position in the listing, which is sorted by folder,
/// SeriesNumber, SeriesDescription and UID so it does not depend on file-system order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSummary {
    /// 1-based listing number (what [`SeriesSelector::Number`] takes).
    pub number: usize,
    /// SeriesInstanceUID (0020,000E); empty when the files carry none (then files are grouped by folder,
    /// SeriesNumber and description).
    pub uid: String,
    /// Modality (0008,0060), e.g. `CT`, `MR`, `DX`.
    pub modality: String,
    /// SeriesDescription (0008,103E).
    pub description: String,
    /// SeriesNumber (0020,0011).
    pub series_number: Option<i64>,
    /// Number of instances (files) in the series.
    pub instance_count: usize,
    /// Rows (0028,0010) and Columns (0028,0011) of the first instance; `mixed_sizes` says whether all agree.
    pub rows: u32,
    pub cols: u32,
    pub mixed_sizes: bool,
    /// Largest NumberOfFrames (0028,0008) in the series (1 for classic single-frame images).
    pub max_frames: u32,
    /// TransferSyntaxUID (0002,0010) of the first instance and its name.
    pub transfer_syntax_uid: String,
    pub transfer_syntax_name: String,
    /// True when every instance has ImagePositionPatient (0020,0032) and ImageOrientationPatient (0020,0037).
    pub has_geometry: bool,
    /// SOPClassUID (0008,0016) of the first instance and its name (e.g. "Secondary Capture Image Storage").
    pub sop_class_uid: String,
    pub sop_class_name: String,
    /// ImageType (0008,0008) of some instance contains LOCALIZER (scout / topogram).
    pub is_localizer: bool,
    /// SOP class is Secondary Capture (1.2.840.10008.5.1.4.1.1.7[.n]): derived pictures, usually without geometry.
    pub is_secondary_capture: bool,
    /// Folder holding the series' files, relative to the scanned path (inside the archive for a zip), `/`-separated.
    pub folder: String,
    /// PixelSpacing (0028,0030) of the first instance: (row spacing, column spacing) mm.
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// Median distance between distinct slice positions along the slice normal, mm (geometry only).
    pub slice_spacing_mm: Option<f64>,
}

impl SeriesSummary {
    /// True for a series [`SeriesSelector::Auto`] may choose as a 3D volume (see [`AUTO_RULE`]).
    pub fn is_volume_candidate(&self) -> bool {
        self.has_geometry
            && self.rows > 0
            && self.cols > 0
            && !self.mixed_sizes
            && self.max_frames <= 1
            && self.instance_count >= 3
            && !self.is_localizer
            && !self.is_secondary_capture
    }
}

impl fmt::Display for SeriesSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {}",
            self.number,
            if self.modality.is_empty() {
                "??"
            } else {
                &self.modality
            }
        )?;
        if !self.description.is_empty() {
            write!(f, " '{}'", self.description)?;
        }
        if !self.folder.is_empty() {
            write!(f, " [{}]", self.folder)?;
        }
        let unit = if self.instance_count == 1 {
            "image"
        } else {
            "images"
        };
        write!(f, " {} {unit}", self.instance_count)?;
        if self.rows > 0 {
            write!(f, " {}x{}", self.cols, self.rows)?;
        }
        if self.max_frames > 1 {
            write!(f, " multi-frame({})", self.max_frames)?;
        }
        if let Some(s) = self.slice_spacing_mm {
            write!(f, " gap {s:.2} mm")?;
        }
        if !self.has_geometry {
            write!(f, " no geometry")?;
        }
        if self.is_localizer {
            write!(f, " localizer")?;
        }
        if self.is_secondary_capture {
            write!(f, " secondary capture")?;
        }
        Ok(())
    }
}

/// Which series to load.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SeriesSelector {
    /// Let spinekit choose by [`AUTO_RULE`] (3D), or the only image series (2D).
    #[default]
    Auto,
    /// SeriesInstanceUID (0020,000E), exact.
    Uid(String),
    /// 1-based listing number from [`DicomScan::series`].
    Number(usize),
    /// SeriesDescription (0008,103E): exact (case-insensitive) match first, else a unique substring match.
    Description(String),
    /// The series' folder relative to the scanned path (for a zip, inside the archive): the full folder or its
    /// trailing components, e.g. `bone` or `MASKS_DICOM/bone`.
    Folder(String),
}

impl fmt::Display for SeriesSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesSelector::Auto => write!(f, "automatic choice"),
            SeriesSelector::Uid(u) => write!(f, "series UID {u}"),
            SeriesSelector::Number(n) => write!(f, "series number {n}"),
            SeriesSelector::Description(d) => write!(f, "series description '{d}'"),
            SeriesSelector::Folder(d) => write!(f, "folder '{d}'"),
        }
    }
}

/// The result of [`scan`]: every series under the path, from headers only.
#[derive(Debug, Clone)]
pub struct DicomScan {
    /// The path given to [`scan`].
    pub source: PathBuf,
    /// Series in listing order (`series[i].number == i + 1`).
    pub series: Vec<SeriesSummary>,
    /// Files skipped because they are not DICOM (no `DICM` marker) or are DICOMDIR index files.
    pub non_dicom_files: usize,
    /// DICOM files whose header could not be read, as `relative/path: reason`.
    pub damaged_files: Vec<String>,
    pub(crate) container: Container,
    /// Per series (same order as `series`): its instances, sorted by relative path.
    pub(crate) instances: Vec<Vec<(Member, InstanceHeader)>>,
}

/// Scans a folder (recursively), a zip archive (members read in memory), a single file, or a folder inside a zip
/// written as `archive.zip/inner/folder`. Reads headers only (stops before PixelData (7FE0,0010)).
///
/// DICOM is recognised by `DICM` at byte 128 (PS3.10 7.1); raw Implicit VR Little Endian data sets without
/// preamble are accepted too. Other files are skipped and counted in [`DicomScan::non_dicom_files`]; zip archives
/// inside a scanned folder are not opened (scan the archive itself). Files with the marker but an unreadable header
/// are listed in [`DicomScan::damaged_files`] (or are the error when nothing else was found).
pub fn scan(path: impl AsRef<Path>) -> Result<DicomScan, DicomError> {
    let path = path.as_ref();
    let disp = path.display().to_string();
    let (container, members) = discover(path)?;
    let single_file = matches!(container, Container::Files) && members.len() == 1 && path.is_file();

    let results: Vec<Result<InstanceHeader, ParseFail>> = match &container {
        Container::Files => members
            .par_iter()
            .map(|m| {
                read_member(&container, None, m, true).map(|o| InstanceHeader::from_object(&o))
            })
            .collect(),
        Container::Zip(zp) => {
            // One archive handle per worker thread: zip readers are not shareable.
            open_zip(zp)?;
            members
                .par_iter()
                .map_init(
                    || open_zip(zp).ok(),
                    |z, m| match z.as_mut() {
                        Some(z) => read_member(&container, Some(z), m, true)
                            .map(|o| InstanceHeader::from_object(&o)),
                        None => Err(ParseFail::Io("cannot reopen the zip archive".into())),
                    },
                )
                .collect()
        }
    };

    let mut non_dicom = 0usize;
    let mut dicomdirs = 0usize;
    let mut damaged = Vec::new();
    let mut first_damage: Option<DicomError> = None;
    let mut groups: BTreeMap<String, Vec<(Member, InstanceHeader)>> = BTreeMap::new();
    for (m, r) in members.into_iter().zip(results) {
        match r {
            Ok(h) => {
                // DICOMDIR (Media Storage Directory Storage, PS3.10) indexes files; it is not an image.
                if h.sop_class == "1.2.840.10008.1.3.10" {
                    non_dicom += 1;
                    dicomdirs += 1;
                    continue;
                }
                let key = if h.series_uid.is_empty() {
                    format!(
                        "\u{1}no-uid|{}|{:?}|{}",
                        parent_folder(&m.rel),
                        h.series_number,
                        h.description
                    )
                } else {
                    h.series_uid.clone()
                };
                groups.entry(key).or_default().push((m, h));
            }
            Err(ParseFail::NotDicom) => non_dicom += 1,
            Err(ParseFail::Damaged(d)) | Err(ParseFail::Io(d)) => {
                if first_damage.is_none() {
                    first_damage = Some(DicomError::Damaged {
                        path: if single_file {
                            disp.clone()
                        } else {
                            m.rel.clone()
                        },
                        detail: d.clone(),
                    });
                }
                damaged.push(format!("{}: {d}", m.rel));
            }
        }
    }

    if groups.is_empty() {
        if let Some(e) = first_damage {
            return Err(e);
        }
        return Err(match &container {
            _ if single_file && dicomdirs == 1 => DicomError::DicomDirOnly { path: disp },
            _ if single_file => DicomError::NotDicom { path: disp },
            Container::Zip(_) => DicomError::NoDicomInZip {
                path: disp,
                other_files: non_dicom,
            },
            Container::Files => DicomError::NoDicomInFolder {
                path: disp,
                other_files: non_dicom,
            },
        });
    }

    let mut built: Vec<(SeriesSummary, Vec<(Member, InstanceHeader)>)> =
        groups.into_values().map(|v| (summarize(&v), v)).collect();
    built.sort_by(|a, b| {
        let (x, y) = (&a.0, &b.0);
        x.folder
            .cmp(&y.folder)
            .then(
                x.series_number
                    .unwrap_or(i64::MAX)
                    .cmp(&y.series_number.unwrap_or(i64::MAX)),
            )
            .then(x.description.cmp(&y.description))
            .then(x.uid.cmp(&y.uid))
            .then(a.1[0].0.rel.cmp(&b.1[0].0.rel))
    });
    let mut series = Vec::with_capacity(built.len());
    let mut instances = Vec::with_capacity(built.len());
    for (i, (mut s, v)) in built.into_iter().enumerate() {
        s.number = i + 1;
        series.push(s);
        instances.push(v);
    }
    Ok(DicomScan {
        source: path.to_path_buf(),
        series,
        non_dicom_files: non_dicom,
        damaged_files: damaged,
        container,
        instances,
    })
}

fn parent_folder(rel: &str) -> &str {
    rel.rfind('/').map(|i| &rel[..i]).unwrap_or("")
}

fn summarize(v: &[(Member, InstanceHeader)]) -> SeriesSummary {
    let h0 = &v[0].1;
    // Common folder of all members.
    let mut folder: Vec<&str> = parent_folder(&v[0].0.rel)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    for (m, _) in v.iter().skip(1) {
        let p: Vec<&str> = parent_folder(&m.rel)
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let n = folder.iter().zip(&p).take_while(|(a, b)| a == b).count();
        folder.truncate(n);
    }
    let has_geometry = v.iter().all(|(_, h)| h.has_geometry());
    let slice_spacing_mm = if has_geometry && v.len() > 1 {
        h0.frame_axes().and_then(|ax| {
            let mut d: Vec<f64> = v
                .iter()
                .filter_map(|(_, h)| h.ipp.map(|p| dot(p, ax[2])))
                .collect();
            d.sort_by(f64::total_cmp);
            let mut gaps: Vec<f64> = d
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|g| *g > 1e-3)
                .collect();
            gaps.sort_by(f64::total_cmp);
            gaps.get(gaps.len() / 2).copied()
        })
    } else {
        None
    };
    SeriesSummary {
        number: 0,
        uid: h0.series_uid.clone(),
        modality: h0.modality.clone(),
        description: h0.description.clone(),
        series_number: h0.series_number,
        instance_count: v.len(),
        rows: h0.rows,
        cols: h0.cols,
        mixed_sizes: v
            .iter()
            .any(|(_, h)| h.rows != h0.rows || h.cols != h0.cols),
        max_frames: v.iter().map(|(_, h)| h.frames).max().unwrap_or(1),
        transfer_syntax_uid: h0.transfer_syntax.clone(),
        transfer_syntax_name: transfer_syntax_name(&h0.transfer_syntax),
        has_geometry,
        sop_class_uid: h0.sop_class.clone(),
        sop_class_name: sop_class_name(&h0.sop_class).to_string(),
        is_localizer: v.iter().any(|(_, h)| h.is_localizer()),
        is_secondary_capture: v.iter().any(|(_, h)| h.is_secondary_capture()),
        folder: folder.join("/"),
        pixel_spacing_mm: h0.pixel_spacing,
        slice_spacing_mm,
    }
}

/// What a series is being chosen for (the automatic rule differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Volume,
    Planar,
}

impl DicomScan {
    /// One line per series, `; `-separated, for messages (capped so a huge study stays readable).
    pub fn listing(&self) -> String {
        Listing(&self.series).to_string()
    }

    /// Resolves a selector to an index into `series`, plus notes for the caller's warnings.
    pub(crate) fn resolve(
        &self,
        sel: &SeriesSelector,
        purpose: Purpose,
    ) -> Result<(usize, Vec<String>), DicomError> {
        let listing = || self.listing();
        let pick =
            |matches: Vec<usize>, wanted: String| -> Result<(usize, Vec<String>), DicomError> {
                match matches.len() {
                    0 => Err(DicomError::SeriesNotFound {
                        wanted,
                        listing: listing(),
                    }),
                    1 => Ok((matches[0], Vec::new())),
                    n => Err(DicomError::AmbiguousSeries {
                        wanted,
                        count: n,
                        listing: Listing(
                            &matches
                                .iter()
                                .map(|&i| self.series[i].clone())
                                .collect::<Vec<_>>(),
                        )
                        .to_string(),
                    }),
                }
            };
        match sel {
            SeriesSelector::Uid(u) => pick(
                (0..self.series.len())
                    .filter(|&i| self.series[i].uid == u.trim())
                    .collect(),
                sel.to_string(),
            ),
            SeriesSelector::Number(n) => {
                if *n >= 1 && *n <= self.series.len() {
                    Ok((n - 1, Vec::new()))
                } else {
                    pick(Vec::new(), sel.to_string())
                }
            }
            SeriesSelector::Description(d) => {
                let d = d.trim().to_lowercase();
                let exact: Vec<usize> = (0..self.series.len())
                    .filter(|&i| self.series[i].description.to_lowercase() == d)
                    .collect();
                if !exact.is_empty() {
                    return pick(exact, sel.to_string());
                }
                pick(
                    (0..self.series.len())
                        .filter(|&i| {
                            !d.is_empty() && self.series[i].description.to_lowercase().contains(&d)
                        })
                        .collect(),
                    sel.to_string(),
                )
            }
            SeriesSelector::Folder(f) => {
                let f = f.trim().trim_matches('/').replace('\\', "/");
                pick(
                    (0..self.series.len())
                        .filter(|&i| {
                            let folder = &self.series[i].folder;
                            *folder == f || folder.ends_with(&format!("/{f}"))
                        })
                        .collect(),
                    sel.to_string(),
                )
            }
            SeriesSelector::Auto => match purpose {
                Purpose::Volume => self.auto_volume(),
                Purpose::Planar => {
                    let images: Vec<usize> = (0..self.series.len())
                        .filter(|&i| self.series[i].rows > 0)
                        .collect();
                    match images.len() {
                        1 => Ok((images[0], Vec::new())),
                        0 => pick(Vec::new(), "an image series".into()),
                        n => Err(DicomError::AmbiguousSeries {
                            wanted: "automatic choice of a 2D image".into(),
                            count: n,
                            listing: listing(),
                        }),
                    }
                }
            },
        }
    }

    fn auto_volume(&self) -> Result<(usize, Vec<String>), DicomError> {
        let rank = |m: &str| match m {
            "CT" => 0,
            "MR" => 1,
            _ => 2,
        };
        let key = |s: &SeriesSummary| {
            (
                rank(&s.modality),
                std::cmp::Reverse(s.instance_count),
                s.slice_spacing_mm.unwrap_or(f64::INFINITY),
            )
        };
        let mut cands: Vec<&SeriesSummary> = self
            .series
            .iter()
            .filter(|s| s.is_volume_candidate())
            .collect();
        if cands.is_empty() {
            return Err(DicomError::NoVolumeSeries {
                rule: AUTO_RULE,
                listing: self.listing(),
            });
        }
        cands.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0)
                .then(ka.1.cmp(&kb.1))
                .then(ka.2.total_cmp(&kb.2))
                .then(a.number.cmp(&b.number))
        });
        let best = cands[0];
        let mut notes = Vec::new();
        let ties: Vec<usize> = cands
            .iter()
            .skip(1)
            .filter(|s| {
                let (ka, kb) = (key(best), key(s));
                ka.0 == kb.0 && ka.1 == kb.1 && (ka.2 - kb.2).abs() < 1e-6
            })
            .map(|s| s.number)
            .collect();
        if !ties.is_empty() {
            notes.push(format!(
                "automatic choice: series #{} ties with series {:?} under the rule; the lowest number was taken — pick explicitly if that is wrong",
                best.number, ties
            ));
        }
        Ok((best.number - 1, notes))
    }
}

mod listing {
    use super::SeriesSummary;
    use std::fmt;

    /// `; `-separated series list, capped at 40 entries.
    pub(crate) struct Listing<'a>(pub &'a [SeriesSummary]);

    impl fmt::Display for Listing<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            const MAX: usize = 40;
            for (i, s) in self.0.iter().take(MAX).enumerate() {
                if i > 0 {
                    write!(f, "; ")?;
                }
                write!(f, "{s}")?;
            }
            if self.0.len() > MAX {
                write!(f, "; … and {} more", self.0.len() - MAX)?;
            }
            if self.0.is_empty() {
                write!(f, "(none)")?;
            }
            Ok(())
        }
    }
}
