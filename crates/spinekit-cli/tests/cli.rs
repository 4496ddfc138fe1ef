//! The command line as a user meets it: real inputs give reports; bad inputs give one error line and exit 1.

mod common;

use common::{lumbar_phantom, spinekit};
use spinekit_testdata::shared_data;
use std::io::Write;
use std::path::{Path, PathBuf};

fn info_json(path: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["info", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = spinekit(&args);
    assert_eq!(code, 0, "info failed: {err}");
    serde_json::from_str(&out).unwrap()
}

fn close(v: &serde_json::Value, want: f64, tol: f64) -> bool {
    (v.as_f64().unwrap() - want).abs() <= tol
}

#[test]
fn info_reports_ircadb_geometry() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let j = info_json(&p, &[]);
    let v = &j["volume"];
    assert_eq!(v["dims"], serde_json::json!([512, 512, 129]));
    assert!(close(&v["spacing_mm"][0], 0.57, 1e-6) && close(&v["spacing_mm"][2], 1.6, 1e-6));
    assert_eq!(v["orientation"], "LPS");
    assert_eq!(v["modality"], "CT");
    assert_eq!(v["intensity_unit"], "HU");
    assert_eq!(j["series"].as_array().unwrap().len(), 1);
}

#[test]
fn info_reports_totalseg_nifti_and_dicom_facts() {
    let Some(n) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let Some(d) = shared_data("ct-totalseg-example/dicom") else {
        return;
    };
    let j = info_json(&n, &[]);
    assert_eq!(j["volume"]["dims"], serde_json::json!([122, 101, 112]));
    assert_eq!(j["volume"]["orientation"], "RAS");
    for a in 0..3 {
        assert!(close(&j["volume"]["spacing_mm"][a], 3.0, 1e-5));
    }
    let j = info_json(&d, &[]);
    let v = &j["volume"];
    assert_eq!(v["dims"], serde_json::json!([512, 512, 20]));
    // Spacing from positions (2 mm), not SliceThickness (3 mm).
    assert!(close(&v["spacing_mm"][2], 2.0, 1e-6));
    assert!(v["transfer_syntax"]
        .as_str()
        .unwrap()
        .contains("1.2.840.10008.1.2.4.90"));
    // World box of the series, as dcm2niix's NIfTI of it gives (converted to LPS).
    assert!(close(&v["world_extent_mm"]["min"][2], -804.5, 1e-3));
    assert!(close(&v["world_extent_mm"]["max"][2], -766.5, 1e-3));
}

#[test]
fn info_says_secondary_capture_has_no_geometry_and_loads_pictures() {
    let Some(sc) = shared_data("mr-lumbar-secondary-capture/LumbarDicomExample") else {
        return;
    };
    let j = info_json(&sc, &[]);
    assert_eq!(j["series"][0]["has_geometry"], false);
    let warnings = j["warnings"].to_string();
    assert!(warnings.contains("no patient geometry"), "{warnings}");
    let Some(xr) = shared_data("xr-aasce-training/images") else {
        return;
    };
    let mut n = 0;
    for e in std::fs::read_dir(xr).unwrap().take(5) {
        let j = info_json(&e.unwrap().path(), &[]);
        assert!(j["image2d"]["width"].as_u64().unwrap() >= 355);
        assert!(j["image2d"]["height"].as_u64().unwrap() >= 973);
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn convert_and_picture_write_outputs() {
    let Some(p) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let Some(l) = shared_data("ct-totalseg-example/labels/vertebrae.nii.gz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lps.nii.gz");
    let (code, _, err) = spinekit(&[
        "convert",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--orient",
        "LPS",
    ]);
    assert_eq!(code, 0, "{err}");
    let j = info_json(&out, &[]);
    assert_eq!(j["volume"]["orientation"], "LPS");
    let png = dir.path().join("sag.png");
    let (code, _, err) = spinekit(&[
        "picture",
        p.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "--window",
        "bone",
        "--labels",
        l.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let img = image::open(&png).unwrap();
    assert!(img.width() > 50 && img.height() > 50);
}

/// A minimal NIfTI-1 header (int16) with the given dims, followed by `data_bytes` zero bytes.
fn nifti_bytes(dims: [i16; 3], data_bytes: usize) -> Vec<u8> {
    let mut hdr = vec![0u8; 352];
    hdr[0..4].copy_from_slice(&348i32.to_le_bytes());
    let dim: [i16; 8] = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
    for (i, v) in dim.iter().enumerate() {
        hdr[40 + 2 * i..42 + 2 * i].copy_from_slice(&v.to_le_bytes());
    }
    hdr[70..72].copy_from_slice(&4i16.to_le_bytes()); // datatype int16
    hdr[72..74].copy_from_slice(&16i16.to_le_bytes()); // bitpix
    for i in 0..4 {
        hdr[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes()); // pixdim
    }
    hdr[108..112].copy_from_slice(&352f32.to_le_bytes()); // vox_offset
    hdr[344..348].copy_from_slice(b"n+1\0");
    hdr.extend(std::iter::repeat_n(0u8, data_bytes));
    hdr
}

/// Each bad input gives exit status 1, exactly one line on stderr starting `spinekit: error:`, nothing on stdout.
#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = d.join(name);
        std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    };
    let zp = d.join("nodicom.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zp).unwrap());
        z.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"no images here").unwrap();
        z.finish().unwrap();
    }
    let mut cases: Vec<(PathBuf, &str)> = vec![
        (write("wrong_magic.dcm", &[7u8; 400]), "not a recognised"),
        (zp, "no dicom"),
        (write("zero.nii", &nifti_bytes([4, 4, 0], 0)), "size 0"),
        (write("short.nii", &nifti_bytes([4, 4, 4], 10)), "holds"),
        (d.join("missing.nii.gz"), "no such file"),
        (write("empty.nii.gz", &[]), ""),
    ];
    if let Some(ct) = shared_data("ct-ircadb-01/PATIENT_DICOM/image_0") {
        let bytes = std::fs::read(ct).unwrap();
        cases.push((write("truncated.dcm", &bytes[..bytes.len() / 3]), ""));
        cases.push((write("header_cut.dcm", &bytes[..300]), ""));
    }
    for (path, key) in &cases {
        let p = path.to_str().unwrap();
        let (code, out, err) = spinekit(&["info", p]);
        assert_eq!(code, 1, "{p}: exit {code}, stderr {err}");
        assert!(out.is_empty(), "{p}: wrote to stdout: {out}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{p}: {err}");
        assert!(lines[0].starts_with("spinekit: error: "), "{p}: {err}");
        assert!(!lines[0].contains("panicked"), "{p}: {err}");
        assert!(
            lines[0].to_lowercase().contains(key),
            "{p}: '{}' lacks '{key}'",
            lines[0]
        );
    }
    // A 2D picture where a 3D volume is needed: refused, and nothing written.
    let png = d.join("flat.png");
    image::GrayImage::new(8, 8).save(&png).unwrap();
    let out = d.join("out.nii.gz");
    let (code, _, err) = spinekit(&[
        "convert",
        png.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("needs a 3D volume"), "{err}");
    assert!(!out.exists(), "no output may be written on failure");
    // A series that is not there.
    if let Some(sc) = shared_data("mr-lumbar-secondary-capture/LumbarDicomExample") {
        let (code, _, err) = spinekit(&["info", sc.to_str().unwrap(), "--series", "1.2.3.4"]);
        assert_eq!(code, 1);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A single slice where a volume is needed.
    if let Some(ct) = shared_data("ct-ircadb-01/PATIENT_DICOM/image_0") {
        let (code, _, err) =
            spinekit(&["convert", ct.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert!(
            err.contains("3D volume") && err.contains("1 image"),
            "{err}"
        );
        assert!(!out.exists());
    }
}

/// `spinekit phantom` writes every map with its label names, truth and pictures, and refuses bad options.
#[test]
fn phantom_writes_volumes_truth_and_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ph");
    let o = out.to_str().unwrap();
    let (code, stdout, err) = spinekit(&[
        "phantom",
        "-o",
        o,
        "--seed",
        "7",
        "--levels",
        "L1-L5",
        "--voxel-mm",
        "2",
        "--fit-fov-mm",
        "300",
        "--fracture",
        "L2:moderate:wedge",
        "--projection",
        "ap",
        "--aorta-hu",
        "450",
        "--oral-contrast-hu",
        "400",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("L1–L5"), "{stdout}");
    for f in [
        "ct.nii.gz",
        "labels.nii.gz",
        "bodies.nii.gz",
        "discs.nii.gz",
        "canal.nii.gz",
        "tissues.nii.gz",
        "truth.json",
        "sagittal.png",
        "coronal.png",
        "drr_ap.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let j = info_json(&out.join("labels.nii.gz"), &[]);
    let names: Vec<String> = j["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    for want in ["L1", "L2", "L3", "L4", "L5"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    assert!(close(&j["volume"]["spacing_mm"][2], 2.0, 1e-9));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap();
    let l2 = truth["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "L2")
        .unwrap();
    assert_eq!(l2["genant_grade"], "moderate");
    assert_eq!(truth["config"]["aorta_hu"], 450.0);
    assert_eq!(truth["config"]["oral_contrast_hu"], 400.0);
    assert!(truth["projection_ap"]["landmarks"].is_object());
    // Bad options: one line, exit 1, nothing written.
    let bad = dir.path().join("bad");
    for args in [
        vec!["--levels", "L1-X9"],
        vec!["--fracture", "L2:huge:wedge"],
        vec!["--voxel-mm", "0.1"],
        vec!["--scoliosis", "40"],
        vec!["--oral-contrast-hu", "5000"],
    ] {
        let mut a = vec!["phantom", "-o", bad.to_str().unwrap()];
        a.extend(args.iter());
        let (code, _, err) = spinekit(&a);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!bad.join("ct.nii.gz").exists());
    }
}

/// The README's main job, on a small grid so the test stays quick.
#[test]
fn demo_runs_without_data() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = spinekit(&[
        "demo",
        "-o",
        dir.path().to_str().unwrap(),
        "--voxel-mm",
        "2",
        "--dims",
        "200,200,150",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("NOT A MEDICAL DEVICE"));
    assert!(out.contains("levels in view"));
    assert!(dir.path().join("truth.json").is_file());
    // The demo ends with the analyze report and its comparison against the phantom's truth.
    assert!(dir.path().join("analyze/report.html").is_file());
    assert!(out.contains("analyze versus the phantom's truth"), "{out}");
    let cmp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("analyze/truth_comparison.json")).unwrap(),
    )
    .unwrap();
    let rows = cmp["rows"].as_array().unwrap();
    let total = cmp["total"].as_u64().unwrap();
    let ok = cmp["within_tolerance"].as_u64().unwrap();
    assert_eq!(rows.len() as u64, total);
    assert_eq!(
        rows.iter()
            .filter(|r| r["within_tolerance"] == true)
            .count() as u64,
        ok
    );
    // L1–L5: three heights, a grade and a density each, plus Cobb, lordosis and three L3 areas.
    assert!(total >= 30, "only {total} rows");
    let lordosis = rows
        .iter()
        .find(|r| {
            r["quantity"]
                .as_str()
                .unwrap()
                .starts_with("lumbar lordosis")
        })
        .expect("a lordosis row");
    assert!(lordosis["measured"].is_string(), "{lordosis}");
    assert!(
        ok * 10 >= total * 9,
        "{ok} of {total} within tolerance:\n{out}"
    );
}

/// `spinekit segment` writes its maps and report; refusals have their own exit statuses.
#[test]
fn segment_writes_maps_and_refuses_non_ct_with_distinct_status() {
    let dir = tempfile::tempdir().unwrap();
    let ph = lumbar_phantom(dir.path());
    let out = dir.path().join("seg");
    let (code, stdout, err) = spinekit(&[
        "segment",
        ph.join("ct.nii.gz").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("numbering"), "{stdout}");
    for f in [
        "bone.nii.gz",
        "labels.nii.gz",
        "bodies.nii.gz",
        "discs.nii.gz",
        "canal.nii.gz",
        "spine.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let spine: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("spine.json")).unwrap()).unwrap();
    assert!(spine["disclaimer"]
        .as_str()
        .unwrap()
        .contains("not a medical device"));
    assert!(!spine["report"]["vertebrae"].as_array().unwrap().is_empty());
    // Same grid as the input.
    let a = info_json(&ph.join("ct.nii.gz"), &[]);
    let b = info_json(&out.join("labels.nii.gz"), &[]);
    assert_eq!(a["volume"]["dims"], b["volume"]["dims"]);
    assert_eq!(a["volume"]["origin_mm"], b["volume"]["origin_mm"]);

    // An MR passed as CT: status 3. A single slice: status 5. Nothing written.
    let bad_out = dir.path().join("bad");
    if let Some(mr) = shared_data("mr-totalseg-example/mr.nii.gz") {
        let (code, _, err) = spinekit(&[
            "segment",
            mr.to_str().unwrap(),
            "-o",
            bad_out.to_str().unwrap(),
        ]);
        assert_eq!(code, 3, "{err}");
        assert_eq!(err.lines().count(), 1);
    }
    // A DICOM series whose Modality says MR: refused before the engine runs, also status 3.
    if let Some(sc) = shared_data("mr-lumbar-secondary-capture/LumbarDicomExample") {
        let (code, _, err) = spinekit(&[
            "segment",
            sc.to_str().unwrap(),
            "--series",
            "1",
            "-o",
            bad_out.to_str().unwrap(),
        ]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("not CT"), "{err}");
    }
    let g = spinekit_image::Geometry::identity([0.8, 0.8, 1.0]);
    let slab = spinekit_image::Volume::<i16>::from_vec(
        [64, 64, 1],
        g,
        (0..64 * 64).map(|i| (i % 2000) as i16 - 1000).collect(),
    )
    .unwrap();
    let slab_path = dir.path().join("slab.nii.gz");
    spinekit_nifti::write_nifti(&slab_path, &slab, None, &Default::default()).unwrap();
    let (code, _, err) = spinekit(&[
        "segment",
        slab_path.to_str().unwrap(),
        "-o",
        bad_out.to_str().unwrap(),
    ]);
    assert_eq!(code, 5, "{err}");
    // Water and air only: a CT without a spine, status 4.
    let g = spinekit_image::Geometry::identity([2.0; 3]);
    let mut body = spinekit_image::Volume::<i16>::zeros([100, 100, 60], g).unwrap();
    for k in 0..60 {
        for j in 0..100 {
            for i in 0..100 {
                let r2 = (i as i32 - 50).pow(2) + (j as i32 - 50).pow(2);
                body.set(
                    i,
                    j,
                    k,
                    if r2 < 40 * 40 {
                        if (i + j) % 7 == 0 {
                            -100
                        } else {
                            40
                        }
                    } else {
                        -1000
                    },
                );
            }
        }
    }
    let body_path = dir.path().join("nospine.nii.gz");
    spinekit_nifti::write_nifti(&body_path, &body, None, &Default::default()).unwrap();
    let (code, _, err) = spinekit(&[
        "segment",
        body_path.to_str().unwrap(),
        "-o",
        bad_out.to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "{err}");
    assert!(!bad_out.join("labels.nii.gz").exists());
}
