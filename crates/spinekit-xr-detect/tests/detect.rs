//! The shipped detector on real held-out AASCE radiographs (accepted, accurate) and on images that
//! are not AP spine radiographs (refused).

use rand::{Rng, SeedableRng};
use spinekit_image::Image2D;
use spinekit_testdata::shared_data;
use spinekit_xr_detect::data::{is_validation, load_samples};
use spinekit_xr_detect::{DetectError, Detector, N_POINTS};

/// Mean landmark error allowed on the first 12 held-out images, as % of image height. The shipped
/// model measures about 1 % on them (README); predicting the training-set mean landmark shape gives
/// 4.3 % on the held-out images (4.6 % on the first six), and landmarks shifted by one vertebra
/// (about 5 % of the height) exceed it too.
const MAX_MEAN_ERROR_PCT_OF_HEIGHT: f64 = 2.0;

fn detector() -> Detector {
    Detector::load_default().expect("shipped weights must load")
}

#[test]
fn held_out_aasce_images_are_accepted_and_accurate() {
    let Some(root) = shared_data("xr-aasce-training") else {
        return;
    };
    let det = detector();
    let samples = load_samples(&root).unwrap();
    let val: Vec<_> = samples
        .iter()
        .filter(|s| is_validation(s.sorted_index))
        .take(12)
        .collect();
    assert_eq!(val.len(), 12);
    let mut total_pct = 0.0;
    let mut accepted = 0;
    for s in &val {
        // The model refuses about 5 % of held-out radiographs (its own detection looks implausible,
        // README); those are counted, not measured.
        let d = match det.detect_path(&s.path) {
            Ok(d) => d,
            Err(DetectError::NotApSpine(m)) => {
                eprintln!("{} refused: {m}", s.file_name);
                continue;
            }
            Err(e) => panic!("{}: {e}", s.file_name),
        };
        accepted += 1;
        assert!((0.0..=1.0).contains(&d.confidence));
        let err = (0..N_POINTS)
            .map(|k| {
                let (p, g) = (d.landmarks_px[k], s.landmarks_px[k]);
                (p[0] - g[0]).hypot(p[1] - g[1])
            })
            .sum::<f64>()
            / N_POINTS as f64;
        let pct = 100.0 * err / d.image_height_px as f64;
        eprintln!(
            "{}: mean error {err:.1} px ({pct:.2} % of height), confidence {:.2}",
            s.file_name, d.confidence
        );
        total_pct += pct;
        // Order: T1 above L5, and every vertebra's top-left corner left of its top-right one.
        assert!(d.landmarks_px[0][1] < d.landmarks_px[N_POINTS - 1][1]);
        for v in 0..17 {
            assert!(d.landmarks_px[4 * v][0] < d.landmarks_px[4 * v + 1][0]);
        }
        let a = d.angles().unwrap();
        assert!(a.main_deg.is_finite() && a.main_deg >= 0.0);
    }
    assert!(
        accepted >= 10,
        "only {accepted} of 12 held-out radiographs accepted"
    );
    let mean = total_pct / accepted as f64;
    eprintln!("mean over {accepted} accepted held-out images: {mean:.2} % of height");
    assert!(
        mean < MAX_MEAN_ERROR_PCT_OF_HEIGHT,
        "mean error {mean:.2} % of height"
    );
}

#[test]
fn horizontal_mirror_gives_mirrored_landmarks() {
    // Equivariance: detecting on the mirrored radiograph and mirroring back (x → W − x, left/right
    // corners swapped) must land near the direct detection.
    let Some(root) = shared_data("xr-aasce-training") else {
        return;
    };
    let det = detector();
    let samples = load_samples(&root).unwrap();
    let s = samples
        .iter()
        .find(|s| is_validation(s.sorted_index))
        .unwrap();
    let img = spinekit_io::open_image2d(&s.path, &Default::default())
        .unwrap()
        .image;
    let (w, h) = (img.width, img.height);
    let mut m = img.clone();
    for r in 0..h {
        for c in 0..w {
            m.data[r * w + c] = img.data[r * w + w - 1 - c];
        }
    }
    let a = det.detect(&img).unwrap();
    let b = det.detect(&m).unwrap();
    let mut err = 0.0;
    for v in 0..17 {
        for (c, partner) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
            let p = a.landmarks_px[4 * v + c];
            let q = b.landmarks_px[4 * v + partner];
            err += (p[0] - (w as f64 - q[0])).hypot(p[1] - q[1]) / N_POINTS as f64;
        }
    }
    eprintln!(
        "mirror disagreement {err:.1} px ({:.2} % of height)",
        100.0 * err / h as f64
    );
    assert!(err < 0.02 * h as f64, "mirror disagreement {err:.1} px");
}

fn assert_refused(det: &Detector, img: &Image2D, what: &str) {
    let a = det.analyse(img);
    eprintln!("{what}: refusals {:?}", a.refusals);
    match det.detect(img) {
        Err(DetectError::NotApSpine(msg)) => assert!(!msg.is_empty()),
        Err(e) => panic!("{what}: wrong error {e}"),
        Ok(d) => panic!("{what} was accepted (confidence {:.2})", d.confidence),
    }
}

#[test]
fn random_noise_is_refused() {
    let det = detector();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (w, h) = (500, 1300);
    let data: Vec<f32> = (0..w * h).map(|_| rng.random::<f32>() * 255.0).collect();
    let img = Image2D::new(w, h, data).unwrap();
    assert_refused(&det, &img, "uniform noise");
    // Smooth noise (blocks of 25 px) looks more like anatomy than pixel noise does.
    let blocks: Vec<f32> = (0..(w / 25 + 1) * (h / 25 + 1))
        .map(|_| rng.random::<f32>() * 255.0)
        .collect();
    let data: Vec<f32> = (0..w * h)
        .map(|i| blocks[(i / w / 25) * (w / 25 + 1) + (i % w) / 25])
        .collect();
    assert_refused(&det, &Image2D::new(w, h, data).unwrap(), "block noise");
}

/// Nearest-neighbour enlargement so that the size check alone cannot refuse the image.
fn enlarge(img: &Image2D, f: usize) -> Image2D {
    let (w, h) = (img.width * f, img.height * f);
    let data = (0..w * h)
        .map(|i| img.get((i % w) / f, (i / w) / f))
        .collect();
    Image2D::new(w, h, data).unwrap()
}

#[test]
fn phantom_lateral_projection_is_refused() {
    use spinekit_anatomy::Level;
    use spinekit_phantom::{generate, project, PhantomConfig, ProjectionView};
    let det = detector();
    let ph = generate(&PhantomConfig::small(Level::T1, Level::L5), None).unwrap();
    let lat = project(&ph, ProjectionView::Lateral).image;
    assert_refused(&det, &lat, "phantom lateral projection");
    assert_refused(
        &det,
        &enlarge(&lat, 3),
        "phantom lateral projection, enlarged 3x",
    );
}

#[test]
fn ct_slice_png_is_refused() {
    let Some(ct) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let det = detector();
    let vol = spinekit_io::open_volume(&ct, &Default::default())
        .unwrap()
        .volume;
    let [nx, ny, nz] = vol.dims();
    let k = nz / 2;
    let data: Vec<f32> = (0..nx * ny)
        .map(|i| vol.get_f64(i % nx, i / nx, k) as f32)
        .collect();
    let slice = Image2D::new(nx, ny, data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("ct-slice.png");
    spinekit_picture::write_image2d_png(
        &png,
        &slice,
        Some(spinekit_picture::Window::from_range(-1000.0, 1000.0)),
    )
    .unwrap();
    match det.detect_path(&png) {
        Err(DetectError::NotApSpine(msg)) => eprintln!("CT slice refused: {msg}"),
        Err(e) => panic!("wrong error {e}"),
        Ok(d) => panic!("CT slice accepted (confidence {:.2})", d.confidence),
    }
    // A tall crop of the slice (spine-like aspect ratio), enlarged, must be refused by the model's
    // own checks, not by the aspect ratio.
    let (cw, ch) = (nx / 3, ny);
    let crop: Vec<f32> = (0..cw * ch)
        .map(|i| slice.get(nx / 3 + i % cw, i / cw))
        .collect();
    let crop = enlarge(&Image2D::new(cw, ch, crop).unwrap(), 3);
    assert_refused(&det, &crop, "tall crop of a CT slice");
}
