//! Annotated pictures: size kept, landmarks and lines drawn, PNG written atomically and readable.

use image::GrayImage;
use spinekit_xr::ap::{aasce_angles, ApLandmarks};
use spinekit_xr::draw::{annotate_ap, write_png};

#[test]
fn ap_picture_marks_corners_and_lines_and_round_trips_as_png() {
    let mut c = [[[0.0; 2]; 4]; 17];
    for (v, cv) in c.iter_mut().enumerate() {
        let (x, y) = (200.0, 60.0 + 40.0 * v as f64);
        let t = if v == 8 { 0.3 } else { 0.0 };
        *cv = [
            [x - 30.0, y - 12.0 - 30.0 * t],
            [x + 30.0, y - 12.0 + 30.0 * t],
            [x - 30.0, y + 12.0 - 30.0 * t],
            [x + 30.0, y + 12.0 + 30.0 * t],
        ];
    }
    let l = ApLandmarks::new(c).unwrap();
    let gray = GrayImage::from_pixel(400, 800, image::Luma([40]));
    let a = aasce_angles(&l, 800.0);
    let img = annotate_ap(&gray, &l, &a);
    assert_eq!(img.dimensions(), (400, 800));
    // T1's top-left corner is a red dot; T3 (no end vertebra of any curve) has its line, row 140, in green
    // between its sides (end vertebrae such as T1 get the yellow extended line instead).
    assert_eq!(img.get_pixel(170, 48).0, [255, 60, 60]);
    assert!(a
        .curves
        .iter()
        .all(|c| c.upper_end_index != 2 && c.lower_end_index != 2));
    assert_eq!(img.get_pixel(200, 140).0, [80, 220, 80]);
    assert_eq!(img.get_pixel(200, 60).0, [255, 220, 0]);
    // The main curve's end-vertebra lines are extended to the image borders in yellow (T9 is tilted: main T1–T9
    // pairs with a level vertebra; its line crosses x = 0 at y = 380 − 200·0.3 = 320).
    let m = &a.curves[0];
    assert!(m.angle_deg > 16.0);
    let yellow = [255, 220, 0];
    assert!((0..800).any(|y| img.get_pixel(0, y).0 == yellow));
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.png");
    write_png(&p, &img).unwrap();
    let back = image::open(&p).unwrap().to_rgb8();
    assert_eq!(back, img);
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
}
