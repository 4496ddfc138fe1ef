//! SEG/SR round trips on a small synthetic CT series (spinekit-testdata's builder) (7×6 pixels so that 1-bit frames do not end on
//! a byte boundary; instance numbers run against the slice position).

use dicom_core::VR;
use dicom_dictionary_std::tags;
use dicom_object::{open_file, InMemDicomObject};
use spinekit_anatomy::Level;
use spinekit_dicom::{load_volume, scan, SeriesSelector};
use spinekit_dicom_report::*;
use spinekit_image::Volume;
use spinekit_testdata::ct_series::{Synth, CT_IMAGE as CT_STORAGE};
use std::path::Path;

const NX: usize = 7;
const NY: usize = 6;
const NZ: usize = 5;
const STUDY: &str = "1.2.826.0.1.3680043.9.7133.1.1";
const SERIES: &str = "1.2.826.0.1.3680043.9.7133.1.2";
const FOR: &str = "1.2.826.0.1.3680043.9.7133.1.3";

fn sop_uid(k: usize) -> String {
    format!("1.2.826.0.1.3680043.9.7133.1.10.{k}")
}

/// Slice k at z = 10 − 2.5 k (mm): position order is the reverse of k, so ordering is exercised.
fn write_series(dir: &Path) {
    for k in 0..NZ {
        let mut im = Synth::ct(SERIES, k as i32 + 1, NY as u16, NX as u16);
        im.sop_uid = sop_uid(k);
        im.sop_class = CT_STORAGE;
        im.ipp = Some([-3.5, -2.0, 10.0 - 2.5 * k as f64]);
        im.pixel_spacing = Some([0.8, 0.6]);
        im.pixels = (0..NX * NY).map(|p| (p as i16) * 10 - 100).collect();
        im.with(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100")
            .with(tags::STUDY_INSTANCE_UID, VR::UI, STUDY)
            .with(tags::FRAME_OF_REFERENCE_UID, VR::UI, FOR)
            .with(tags::PATIENT_NAME, VR::PN, "Test^Synthetic")
            .with(tags::PATIENT_ID, VR::LO, "SYN-001")
            .with(tags::PATIENT_BIRTH_DATE, VR::DA, "19600101")
            .with(tags::PATIENT_SEX, VR::CS, "F")
            .with(tags::STUDY_DATE, VR::DA, "20240102")
            .with(tags::STUDY_TIME, VR::TM, "101112")
            .with(tags::ACCESSION_NUMBER, VR::SH, "ACC42")
            .with(tags::REFERRING_PHYSICIAN_NAME, VR::PN, "Ref^Doc")
            .with(tags::STUDY_ID, VR::SH, "S7")
            .write(&dir.join(format!("im{k}.dcm")));
    }
}

/// Labels on the loaded grid: L2 (label 21) in slice 0 at a diagonal, L3 (22) in slices 1..=3 (a block whose
/// size changes per slice), L1 (20) nowhere.
fn labels_for(geom_vol: &Volume<i16>) -> Volume<u8> {
    let mut v = Volume::<u8>::zeros(geom_vol.dims(), *geom_vol.geometry()).unwrap();
    for i in 0..NX.min(NY) {
        v.set(i, i, 0, 21);
    }
    for k in 1..=3 {
        for j in 0..k + 1 {
            for i in 1..(2 + k) {
                v.set(i, j, k, 22);
            }
        }
    }
    v.set(NX - 1, NY - 1, 3, 22);
    v
}

fn text(o: &InMemDicomObject, tag: dicom_core::Tag) -> String {
    o.element(tag)
        .unwrap_or_else(|_| panic!("missing {tag}"))
        .to_str()
        .unwrap()
        .trim_end_matches(['\0', ' '])
        .to_string()
}

fn items(o: &InMemDicomObject, tag: dicom_core::Tag) -> Vec<InMemDicomObject> {
    o.element(tag)
        .unwrap_or_else(|_| panic!("missing {tag}"))
        .items()
        .unwrap()
        .to_vec()
}

fn floats(o: &InMemDicomObject, tag: dicom_core::Tag) -> Vec<f64> {
    o.element(tag).unwrap().to_multi_float64().unwrap()
}

struct Case {
    _dir: tempfile::TempDir,
    out: std::path::PathBuf,
    source: SourceSeries,
    ct: Volume<i16>,
    labels: Volume<u8>,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("series");
    std::fs::create_dir(&src).unwrap();
    write_series(&src);
    let sc = scan(&src).unwrap();
    let loaded = load_volume(&sc, &SeriesSelector::Auto).unwrap();
    let ct = loaded.volume.to_hu_i16().unwrap();
    let source = source_series(&sc, &SeriesSelector::Auto).unwrap();
    let labels = labels_for(&ct);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    Case {
        _dir: dir,
        out,
        source,
        ct,
        labels,
    }
}

fn specs() -> Vec<SegmentSpec> {
    vec![
        SegmentSpec::vertebra(Level::L1),
        SegmentSpec::vertebra(Level::L2),
        SegmentSpec::vertebra(Level::L3),
    ]
}

#[test]
fn source_series_follows_slice_order_and_copies_study() {
    let c = case();
    let s = &c.source;
    assert_eq!(s.instances.len(), NZ);
    // Volume slice k sits at the instance written as im{NZ-1-k} (z ascending).
    for (k, inst) in s.instances.iter().enumerate() {
        assert_eq!(inst.sop_instance_uid, sop_uid(NZ - 1 - k));
        assert_eq!(inst.sop_class_uid, CT_STORAGE);
        let p = c.ct.voxel_to_world([0, 0, k]);
        let q = inst.position_mm.unwrap();
        assert!((0..3).all(|a| (p[a] - q[a]).abs() < 1e-6), "{p:?} vs {q:?}");
    }
    assert_eq!(s.study_instance_uid, STUDY);
    assert_eq!(s.series_instance_uid, SERIES);
    assert_eq!(s.frame_of_reference_uid, FOR);
    assert_eq!(s.patient_id, "SYN-001");
    assert_eq!(s.accession_number, "ACC42");
    assert_eq!(s.specific_character_set, "ISO_IR 100");
}

#[test]
fn seg_round_trip_frames_equal_label_masks() {
    let c = case();
    let path = c.out.join("seg.dcm");
    let info = WriterInfo::default();
    let seg = write_seg(
        &path,
        &c.source,
        &[LabelLayer {
            labels: &c.labels,
            segments: specs(),
        }],
        &info,
    )
    .unwrap();
    // L1 has no voxel: left out; L2 = segment 1 (1 frame), L3 = segment 2 (3 frames).
    assert_eq!(
        seg.segments,
        vec![(1, "L2".to_string()), (2, "L3".to_string())]
    );
    assert_eq!(seg.frames, 4);
    assert_eq!(seg.frames_without_source, 0);

    let f = open_file(&path).unwrap();
    assert_eq!(
        f.meta()
            .media_storage_sop_class_uid()
            .trim_end_matches('\0'),
        SEGMENTATION_STORAGE
    );
    assert_eq!(
        f.meta().transfer_syntax().trim_end_matches('\0'),
        "1.2.840.10008.1.2.1"
    );
    let o: &InMemDicomObject = &f;
    for (tag, want) in [
        (tags::SOP_CLASS_UID, SEGMENTATION_STORAGE),
        (tags::MODALITY, "SEG"),
        (tags::SEGMENTATION_TYPE, "BINARY"),
        (tags::STUDY_INSTANCE_UID, STUDY),
        (tags::FRAME_OF_REFERENCE_UID, FOR),
        (tags::PATIENT_ID, "SYN-001"),
        (tags::PATIENT_NAME, "Test^Synthetic"),
        (tags::PATIENT_BIRTH_DATE, "19600101"),
        (tags::PATIENT_SEX, "F"),
        (tags::STUDY_DATE, "20240102"),
        (tags::STUDY_TIME, "101112"),
        (tags::ACCESSION_NUMBER, "ACC42"),
        (tags::REFERRING_PHYSICIAN_NAME, "Ref^Doc"),
        (tags::STUDY_ID, "S7"),
        (tags::MANUFACTURER, "spinekit"),
        (tags::SPECIFIC_CHARACTER_SET, "ISO_IR 100"),
    ] {
        assert_eq!(text(o, tag), want, "{tag}");
    }
    assert_eq!(text(o, tags::SOP_INSTANCE_UID), seg.sop_instance_uid);
    assert_eq!(text(o, tags::SERIES_INSTANCE_UID), seg.series_instance_uid);
    assert_ne!(seg.series_instance_uid, SERIES);
    assert!(!text(o, tags::SOFTWARE_VERSIONS).is_empty());
    for tag in [
        tags::CONTENT_DATE,
        tags::CONTENT_TIME,
        tags::DEVICE_SERIAL_NUMBER,
        tags::DIMENSION_ORGANIZATION_SEQUENCE,
    ] {
        assert!(o.element(tag).is_ok(), "{tag} missing");
    }
    // Referenced Series Sequence lists every source instance.
    let rs = items(o, tags::REFERENCED_SERIES_SEQUENCE);
    assert_eq!(text(&rs[0], tags::SERIES_INSTANCE_UID), SERIES);
    let mut refd: Vec<String> = items(&rs[0], tags::REFERENCED_INSTANCE_SEQUENCE)
        .iter()
        .map(|i| text(i, tags::REFERENCED_SOP_INSTANCE_UID))
        .collect();
    refd.sort();
    let mut all: Vec<String> = (0..NZ).map(sop_uid).collect();
    all.sort();
    assert_eq!(refd, all);
    // Segment sequence codes.
    let segs = items(o, tags::SEGMENT_SEQUENCE);
    assert_eq!(segs.len(), 2);
    let ty = items(&segs[1], tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE);
    assert_eq!(text(&ty[0], tags::CODE_VALUE), "36470004"); // L3 vertebra, CID 7603
    assert_eq!(text(&segs[1], tags::SEGMENT_LABEL), "L3");
    // Shared geometry.
    let shared = &items(o, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)[0];
    let ps = floats(
        &items(shared, tags::PIXEL_MEASURES_SEQUENCE)[0],
        tags::PIXEL_SPACING,
    );
    assert_eq!(ps, vec![0.8, 0.6]);
    let iop = floats(
        &items(shared, tags::PLANE_ORIENTATION_SEQUENCE)[0],
        tags::IMAGE_ORIENTATION_PATIENT,
    );
    assert_eq!(iop, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);

    // Frames: unpack the 1-bit stream (first pixel in the least significant bit, frames contiguous).
    let rows = o.element(tags::ROWS).unwrap().to_int::<usize>().unwrap();
    let cols = o.element(tags::COLUMNS).unwrap().to_int::<usize>().unwrap();
    assert_eq!((rows, cols), (NY, NX));
    let nf = o
        .element(tags::NUMBER_OF_FRAMES)
        .unwrap()
        .to_int::<usize>()
        .unwrap();
    assert_eq!(nf, 4);
    let bytes = o
        .element(tags::PIXEL_DATA)
        .unwrap()
        .to_bytes()
        .unwrap()
        .to_vec();
    assert!(bytes.len() >= (nf * rows * cols).div_ceil(8));
    let bit = |n: usize| (bytes[n / 8] >> (n % 8)) & 1 == 1;
    let per = items(o, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    assert_eq!(per.len(), nf);
    let mut seen = Vec::new();
    for (f, fg) in per.iter().enumerate() {
        let segno = items(fg, tags::SEGMENT_IDENTIFICATION_SEQUENCE)[0]
            .element(tags::REFERENCED_SEGMENT_NUMBER)
            .unwrap()
            .to_int::<u16>()
            .unwrap();
        let pos = floats(
            &items(fg, tags::PLANE_POSITION_SEQUENCE)[0],
            tags::IMAGE_POSITION_PATIENT,
        );
        let k = (0..NZ)
            .find(|&k| {
                let p = c.ct.voxel_to_world([0, 0, k]);
                (0..3).all(|a| (p[a] - pos[a]).abs() < 1e-4)
            })
            .expect("frame position is a slice position");
        let src = &items(
            &items(fg, tags::DERIVATION_IMAGE_SEQUENCE)[0],
            tags::SOURCE_IMAGE_SEQUENCE,
        )[0];
        assert_eq!(
            text(src, tags::REFERENCED_SOP_INSTANCE_UID),
            c.source.instances[k].sop_instance_uid
        );
        let div = items(fg, tags::FRAME_CONTENT_SEQUENCE)[0]
            .element(tags::DIMENSION_INDEX_VALUES)
            .unwrap()
            .to_multi_int::<u32>()
            .unwrap();
        assert_eq!(div, vec![u32::from(segno), k as u32 + 1]);
        let label = if segno == 1 { 21 } else { 22 };
        for j in 0..NY {
            for i in 0..NX {
                let got = bit(f * rows * cols + j * cols + i);
                assert_eq!(
                    got,
                    c.labels.get(i, j, k) == label,
                    "frame {f} pixel ({i},{j})"
                );
            }
        }
        seen.push((segno, k));
    }
    assert_eq!(seen, vec![(1, 0), (2, 1), (2, 2), (2, 3)]);
}

#[test]
fn sr_round_trip_values_units_and_references() {
    let c = case();
    let info = WriterInfo::default();
    let seg = write_seg(
        &c.out.join("seg.dcm"),
        &c.source,
        &[LabelLayer {
            labels: &c.labels,
            segments: specs(),
        }],
        &info,
    )
    .unwrap();
    let groups = vec![
        MeasurementGroup {
            tracking_id: "L3 vertebra".into(),
            finding: vertebra(),
            finding_site: Some(level_code(Level::L3)),
            referenced_segment: Some(2),
            method: None,
            measurements: vec![
                Measurement {
                    concept: volume(),
                    value: 41.25,
                    unit: UcumUnit::ml(),
                    method: None,
                    derivation: None,
                },
                Measurement {
                    concept: attenuation_coefficient(),
                    value: 187.123_456_789_012_3,
                    unit: UcumUnit::hu(),
                    method: None,
                    derivation: Some(mean()),
                },
            ],
        },
        MeasurementGroup {
            // spinekit-written text (a tracking id, a code meaning) with typographic characters: written as ASCII.
            tracking_id: "L3 body composition – 5 mm slab".into(),
            finding: Code::private("SPK-BODYCOMP", "Body composition at L3 (±2.5 mm)"),
            finding_site: Some(level_code(Level::L3)),
            referenced_segment: None,
            method: None,
            measurements: vec![Measurement {
                concept: area(),
                value: 152.5,
                unit: UcumUnit::cm2(),
                method: None,
                derivation: None,
            }],
        },
    ];
    let path = c.out.join("sr.dcm");
    let sr = write_sr(&path, &c.source, Some(&seg), &groups, &info).unwrap();
    assert_eq!(sr.tracking_uids.len(), 2);
    assert_ne!(sr.sop_instance_uid, seg.sop_instance_uid);
    assert_ne!(sr.series_instance_uid, seg.series_instance_uid);

    let f = open_file(&path).unwrap();
    let o: &InMemDicomObject = &f;
    assert_eq!(text(o, tags::SOP_CLASS_UID), COMPREHENSIVE_SR_STORAGE);
    assert_eq!(text(o, tags::STUDY_INSTANCE_UID), STUDY);
    assert_eq!(text(o, tags::PATIENT_ID), "SYN-001");
    let tmpl = items(o, tags::CONTENT_TEMPLATE_SEQUENCE);
    assert_eq!(text(&tmpl[0], tags::TEMPLATE_IDENTIFIER), "1500");
    // Private scheme declared.
    let cs = items(o, tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE);
    assert_eq!(text(&cs[0], tags::CODING_SCHEME_DESIGNATOR), PRIVATE_SCHEME);
    let name = |it: &InMemDicomObject| {
        text(
            &items(it, tags::CONCEPT_NAME_CODE_SEQUENCE)[0],
            tags::CODE_VALUE,
        )
    };
    let content = items(o, tags::CONTENT_SEQUENCE);
    let meas = content
        .iter()
        .find(|i| name(i) == "126010")
        .expect("Imaging Measurements");
    let gs = items(meas, tags::CONTENT_SEQUENCE);
    assert_eq!(gs.len(), 2);
    // Group 1: referenced segment 2 of this SEG, values and units.
    let g1 = items(&gs[0], tags::CONTENT_SEQUENCE);
    let refseg = g1.iter().find(|i| name(i) == "121191").unwrap();
    let r = &items(refseg, tags::REFERENCED_SOP_SEQUENCE)[0];
    assert_eq!(
        text(r, tags::REFERENCED_SOP_INSTANCE_UID),
        seg.sop_instance_uid
    );
    assert_eq!(
        r.element(tags::REFERENCED_SEGMENT_NUMBER)
            .unwrap()
            .to_int::<u16>()
            .unwrap(),
        2
    );
    let nums: Vec<(String, f64, String)> = g1
        .iter()
        .filter(|i| text(i, tags::VALUE_TYPE) == "NUM")
        .map(|i| {
            let mv = &items(i, tags::MEASURED_VALUE_SEQUENCE)[0];
            let v: f64 = text(mv, tags::NUMERIC_VALUE).parse().unwrap();
            let u = text(
                &items(mv, tags::MEASUREMENT_UNITS_CODE_SEQUENCE)[0],
                tags::CODE_VALUE,
            );
            (name(i), v, u)
        })
        .collect();
    assert_eq!(nums.len(), 2);
    assert_eq!(
        (nums[0].0.as_str(), nums[0].1, nums[0].2.as_str()),
        ("118565006", 41.25, "ml")
    );
    assert_eq!(nums[1].0, "112031");
    assert!((nums[1].1 - 187.123_456_789_012_3).abs() < 1e-9);
    assert_eq!(nums[1].2, "[hnsf'U]");
    let tmpl1 = items(&gs[0], tags::CONTENT_TEMPLATE_SEQUENCE);
    assert_eq!(text(&tmpl1[0], tags::TEMPLATE_IDENTIFIER), "1411");
    let g2 = items(&gs[1], tags::CONTENT_SEQUENCE);
    let tracking = g2.iter().find(|i| name(i) == "112039").unwrap();
    assert_eq!(
        text(tracking, tags::TEXT_VALUE),
        "L3 body composition - 5 mm slab"
    );
    let finding = g2.iter().find(|i| name(i) == "121071").unwrap();
    assert_eq!(
        text(
            &items(finding, tags::CONCEPT_CODE_SEQUENCE)[0],
            tags::CODE_MEANING
        ),
        "Body composition at L3 (?2.5 mm)"
    );
    let tmpl2 = items(&gs[1], tags::CONTENT_TEMPLATE_SEQUENCE);
    assert_eq!(text(&tmpl2[0], tags::TEMPLATE_IDENTIFIER), "1501");
    // Evidence lists the SEG and every source image.
    let ev = &items(o, tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE)[0];
    let series = items(ev, tags::REFERENCED_SERIES_SEQUENCE);
    assert_eq!(series.len(), 2);
    assert_eq!(items(&series[0], tags::REFERENCED_SOP_SEQUENCE).len(), NZ);
    assert_eq!(
        text(&series[1], tags::SERIES_INSTANCE_UID),
        seg.series_instance_uid
    );
}

#[test]
fn bad_input_gives_errors_and_no_file() {
    let c = case();
    let info = WriterInfo::default();
    // No voxel in any segment.
    let empty = Volume::<u8>::zeros(c.labels.dims(), *c.labels.geometry()).unwrap();
    let p = c.out.join("seg.dcm");
    let e = write_seg(
        &p,
        &c.source,
        &[LabelLayer {
            labels: &empty,
            segments: specs(),
        }],
        &info,
    )
    .unwrap_err();
    assert!(matches!(e, ReportError::Empty(_)), "{e}");
    assert!(!p.exists());
    // Labels on another grid (rotated in-plane axes).
    let mut g = *c.labels.geometry();
    g.direction = [g.direction[1], g.direction[0], [0.0, 0.0, -1.0]];
    let mut other = c.labels.clone();
    other.set_geometry(g).unwrap();
    let e = write_seg(
        &p,
        &c.source,
        &[LabelLayer {
            labels: &other,
            segments: specs(),
        }],
        &info,
    )
    .unwrap_err();
    assert!(matches!(e, ReportError::NotOnSourceGrid(_)), "{e}");
    // A source without FrameOfReferenceUID must go through complete_source first.
    let mut no_for = c.source.clone();
    no_for.frame_of_reference_uid.clear();
    let e = write_seg(
        &p,
        &no_for,
        &[LabelLayer {
            labels: &c.labels,
            segments: specs(),
        }],
        &info,
    )
    .unwrap_err();
    assert!(matches!(e, ReportError::Invalid(_)), "{e}");
    assert!(!p.exists());
    // SR: a group referencing a segment the SEG lacks; a non-finite value.
    let seg = write_seg(
        &p,
        &c.source,
        &[LabelLayer {
            labels: &c.labels,
            segments: specs(),
        }],
        &info,
    )
    .unwrap();
    let mut g = MeasurementGroup {
        tracking_id: "L1 vertebra".into(),
        finding: vertebra(),
        finding_site: None,
        referenced_segment: Some(9),
        method: None,
        measurements: vec![Measurement {
            concept: volume(),
            value: 1.0,
            unit: UcumUnit::ml(),
            method: None,
            derivation: None,
        }],
    };
    let sp = c.out.join("sr.dcm");
    assert!(matches!(
        write_sr(&sp, &c.source, Some(&seg), &[g.clone()], &info),
        Err(ReportError::Invalid(_))
    ));
    g.referenced_segment = Some(1);
    g.measurements[0].value = f64::NAN;
    assert!(matches!(
        write_sr(&sp, &c.source, Some(&seg), &[g], &info),
        Err(ReportError::Invalid(_))
    ));
    assert!(!sp.exists());
    // No stray temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(&c.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["seg.dcm".to_string()]);
}

#[test]
fn complete_source_fills_blank_uids_once() {
    let c = case();
    let mut s = c.source.clone();
    s.study_instance_uid.clear();
    s.frame_of_reference_uid.clear();
    let w = complete_source(&mut s);
    assert_eq!(w.len(), 2);
    assert!(s.study_instance_uid.starts_with("2.25."));
    assert_eq!(s.series_instance_uid, SERIES);
    // Warnings carry no patient data.
    assert!(w
        .iter()
        .all(|m| !m.contains("SYN-001") && !m.contains("Synthetic")));
    assert!(complete_source(&mut s).is_empty());
}

#[test]
fn level_codes_are_distinct_for_standard_levels() {
    let mut seen = std::collections::HashSet::new();
    for l in Level::ALL {
        let c = level_code(l);
        assert_eq!(c.scheme, "SCT");
        if !matches!(l, Level::T13 | Level::L6) {
            assert!(seen.insert(c.value.clone()), "{l:?} duplicates a code");
        }
    }
    assert_eq!(level_code(Level::L3).value, "36470004");
    assert_eq!(disc_code(Level::L4, Level::L5).unwrap().value, "84020006");
    assert!(disc_code(Level::L5, Level::L6).is_none());
}

/// A vertebra whose level is unknown is written as a generic "Vertebra" segment whose label and description
/// say so — never with a level code.
#[test]
fn unnamed_vertebra_segment_carries_no_level() {
    let c = case();
    let path = c.out.join("seg.dcm");
    let mut spec = SegmentSpec::unnamed_vertebra(Level::L3.verse_label(), 2);
    spec.tracking_id = Some("vertebra 2".into());
    // Typographic characters of spinekit's messages must not stop the write.
    spec.description = Some("level not identified: T11–T12 would be T10–T11 (≥ 1 rib)".into());
    let seg = write_seg(
        &path,
        &c.source,
        &[LabelLayer {
            labels: &c.labels,
            segments: vec![spec],
        }],
        &WriterInfo::default(),
    )
    .unwrap();
    assert_eq!(seg.segments, vec![(1, unnamed_label(2))]);
    let f = open_file(&path).unwrap();
    let o: &InMemDicomObject = &f;
    let s = &items(o, tags::SEGMENT_SEQUENCE)[0];
    assert_eq!(text(s, tags::SEGMENT_LABEL), "vertebra 2 (level unknown)");
    assert_eq!(
        text(s, tags::SEGMENT_DESCRIPTION),
        "level not identified: T11-T12 would be T10-T11 (>= 1 rib)"
    );
    let t = &items(s, tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE)[0];
    assert_eq!(text(t, tags::CODE_MEANING), vertebra().meaning);
    assert_ne!(text(t, tags::CODE_VALUE), level_code(Level::L3).value);
}
