//! Prints the refusal statistics ([`spinekit_xr_detect::Plausibility`]) on the held-out AASCE images
//! and on out-of-distribution images that the tests do NOT use (other noise seeds, other CT slices,
//! sagittal MR slices), to choose the acceptance limits:
//! `cargo run --release -p spinekit-xr-detect --example calibrate -- /work/shared/data`

use rand::{Rng, SeedableRng};
use spinekit_image::Image2D;
use spinekit_xr_detect::data::{is_validation, load_samples};
use spinekit_xr_detect::{plausibility, Detector};
use std::path::PathBuf;

fn row(det: &Detector, name: &str, img: &Image2D) {
    let a = det.analyse(img);
    match &a.detection {
        Some(d) => {
            let p = plausibility(d);
            println!(
                "{name:<48} mean {:.2} weakest {:.2} span {:.2} gap {:.2}-{:.2} side {:.2} bad {:2} | {}",
                d.confidence,
                p.weakest_confidence,
                p.span_fraction_of_height,
                p.min_gap_ratio,
                p.max_gap_ratio,
                p.max_sideways_ratio,
                p.implausible_vertebrae,
                if a.refusals.is_empty() { "ACCEPT" } else { "refuse" }
            );
        }
        None => println!("{name:<48} no 17 peaks | refuse"),
    }
}

fn stretch(img: &Image2D, w: usize, h: usize) -> Image2D {
    let data = (0..w * h)
        .map(|i| img.get((i % w) * img.width / w, (i / w) * img.height / h))
        .collect();
    Image2D::new(w, h, data).unwrap()
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: calibrate SHARED_DATA_DIR"),
    );
    let det = Detector::load_default().expect("weights");
    println!("== held-out AASCE");
    let samples = load_samples(&root.join("xr-aasce-training")).unwrap();
    for s in samples.iter().filter(|s| is_validation(s.sorted_index)) {
        let img = spinekit_io::open_image2d(&s.path, &Default::default())
            .unwrap()
            .image;
        row(&det, &s.file_name, &img);
    }
    println!("== out of distribution");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(100);
    for k in 0..4 {
        let (w, h) = (400 + 50 * k, 1100 + 100 * k);
        let data: Vec<f32> = (0..w * h).map(|_| rng.random::<f32>() * 255.0).collect();
        row(
            &det,
            &format!("noise {k}"),
            &Image2D::new(w, h, data).unwrap(),
        );
        let b = 10 + 10 * k;
        let nb = (w / b + 1) * (h / b + 1);
        let blocks: Vec<f32> = (0..nb).map(|_| rng.random::<f32>() * 255.0).collect();
        let data: Vec<f32> = (0..w * h)
            .map(|i| blocks[(i / w / b) * (w / b + 1) + (i % w) / b])
            .collect();
        row(
            &det,
            &format!("block noise {b}"),
            &Image2D::new(w, h, data).unwrap(),
        );
    }
    if let Ok(o) =
        spinekit_io::open_volume(root.join("ct-ircadb-01/PATIENT_DICOM"), &Default::default())
    {
        let vol = o.volume;
        let [nx, ny, nz] = vol.dims();
        for k in [nz / 5, nz / 3, 2 * nz / 3] {
            let data: Vec<f32> = (0..nx * ny)
                .map(|i| vol.get_f64(i % nx, i / nx, k) as f32)
                .collect();
            let s = Image2D::new(nx, ny, data).unwrap();
            row(
                &det,
                &format!("CT slice {k} stretched tall"),
                &stretch(&s, 600, 1500),
            );
        }
        // Coronal reformat through the middle (rows = slices), stretched to a radiograph's shape.
        let j = ny / 2;
        let data: Vec<f32> = (0..nx * nz)
            .map(|i| vol.get_f64(i % nx, j, nz - 1 - i / nx) as f32)
            .collect();
        let c = Image2D::new(nx, nz, data).unwrap();
        row(
            &det,
            "CT coronal reformat stretched",
            &stretch(&c, 600, 1500),
        );
    }
    if let Ok(rd) = std::fs::read_dir(root.join("mr-lumbar-2d-slices/images")) {
        let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let img = spinekit_io::open_image2d(&p, &Default::default())
                .unwrap()
                .image;
            row(
                &det,
                &format!("MR {}", p.file_name().unwrap().to_string_lossy()),
                &stretch(&img, 500, 1300),
            );
        }
    }
}
