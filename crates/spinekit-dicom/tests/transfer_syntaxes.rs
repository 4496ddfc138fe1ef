//! The same pixels through different encodings must load to identical volumes.

use dicom_core::value::{PixelFragmentSequence, Value};
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_transfer_syntax_registry::entries;
use spinekit_dicom::{load_2d, load_volume, scan, DicomError, SeriesSelector};
use spinekit_testdata::ct_series::Synth;
use spinekit_testdata::shared_data;
use std::path::Path;

/// A 4-slice synthetic series with distinctive signed values, written in transfer syntax `ts`.
fn write_series(dir: &Path, ts: &str) {
    for k in 0..4 {
        let mut s = Synth::ct("1.2.3.20", k + 1, 6, 7);
        s.ipp = Some([1.0, 2.0, 2.5 * k as f64]);
        s.intercept = -1024.0;
        s.pixels = (0..42).map(|p| (p * 97 + k * 1000) as i16 - 300).collect();
        s.write_ts(&dir.join(format!("s{k}")), ts);
    }
}

fn load(dir: &Path) -> spinekit_dicom::LoadedSeries {
    load_volume(&scan(dir).unwrap(), &SeriesSelector::Auto).unwrap()
}

#[test]
fn native_encodings_agree() {
    let base = tempfile::tempdir().unwrap();
    write_series(base.path(), "1.2.840.10008.1.2.1");
    let reference = load(base.path());
    assert_eq!(
        reference.volume.get_f64(3, 2, 1),
        (17 * 97 + 1000 - 300 - 1024) as f64
    );
    // Implicit VR LE, deflated explicit VR LE, explicit VR big endian.
    for ts in [
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.2",
    ] {
        let d = tempfile::tempdir().unwrap();
        write_series(d.path(), ts);
        let l = load(d.path());
        assert_eq!(l.transfer_syntax, ts);
        assert_eq!(l.volume, reference.volume, "transfer syntax {ts}");
    }
}

#[test]
fn raw_implicit_dataset_without_preamble() {
    // Old exports: an Implicit VR LE data set with no preamble, no 'DICM' and no file meta group.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("raw.dcm");
    let mut s = Synth::ct("1.2.3.21", 1, 3, 2);
    s.pixels = vec![1, 2, 3, 4, 5, 6];
    s.write(&p);
    let obj = dicom_object::open_file(&p).unwrap();
    let mut buf = Vec::new();
    obj.write_dataset_with_ts(&mut buf, &entries::IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .unwrap();
    std::fs::write(&p, &buf).unwrap();
    let sc = scan(&p).unwrap();
    assert_eq!(sc.series[0].uid, "1.2.3.21");
    let l = load_2d(&sc, &SeriesSelector::Auto).unwrap();
    assert_eq!(l.image.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn unsupported_transfer_syntax_is_named() {
    // MPEG-2 video (1.2.840.10008.1.2.4.100) cannot be decoded by this reader.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("video.dcm");
    let s = Synth::ct("1.2.3.22", 1, 4, 4);
    s.write(&p);
    let mut obj = dicom_object::open_file(&p).unwrap();
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        Value::PixelSequence(PixelFragmentSequence::new(vec![], vec![vec![0u8; 16]])),
    ));
    obj.meta_mut()
        .set_transfer_syntax(&entries::MPEG2_MAIN_PROFILE_MAIN_LEVEL);
    obj.write_to_file(&p).unwrap();
    let sc = scan(&p).unwrap();
    assert_eq!(sc.series[0].transfer_syntax_uid, "1.2.840.10008.1.2.4.100");
    let e = load_2d(&sc, &SeriesSelector::Auto).unwrap_err();
    println!("error: {e}");
    assert!(
        matches!(e, DicomError::UnsupportedTransferSyntax { .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("1.2.840.10008.1.2.4.100")
            && e.to_string().contains("not supported")
    );
}

/// JPEG-LS lossless round trip of five real CT slices (encoded here with CharLS through dicom-pixeldata).
#[cfg(feature = "jpeg-ls")]
#[test]
fn jpeg_ls_lossless_matches_uncompressed() {
    use dicom_pixeldata::Transcode;
    let Some(src) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let (raw, jls) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for k in 40..45 {
        let f = src.join(format!("image_{k}"));
        std::fs::copy(&f, raw.path().join(format!("image_{k}"))).unwrap();
        let mut o = dicom_object::open_file(&f).unwrap();
        o.transcode(&entries::JPEG_LS_LOSSLESS_IMAGE_COMPRESSION.erased())
            .unwrap();
        o.write_to_file(jls.path().join(format!("image_{k}")))
            .unwrap();
    }
    let (a, b) = (load(raw.path()), load(jls.path()));
    assert_eq!(b.transfer_syntax, "1.2.840.10008.1.2.4.80");
    assert_eq!(a.volume, b.volume);
}

#[cfg(not(feature = "jpeg-ls"))]
#[test]
fn jpeg_ls_absent_gives_clear_error() {
    let _ = shared_data;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("jls.dcm");
    Synth::ct("1.2.3.23", 1, 4, 4).write(&p);
    let mut obj = dicom_object::open_file(&p).unwrap();
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        Value::PixelSequence(PixelFragmentSequence::new(vec![], vec![vec![0u8; 16]])),
    ));
    obj.meta_mut()
        .set_transfer_syntax(&entries::JPEG_LS_LOSSLESS_IMAGE_COMPRESSION);
    obj.write_to_file(&p).unwrap();
    let e = load_2d(&scan(&p).unwrap(), &SeriesSelector::Auto).unwrap_err();
    assert!(
        e.to_string()
            .contains("JPEG-LS not supported in this build"),
        "{e}"
    );
}
