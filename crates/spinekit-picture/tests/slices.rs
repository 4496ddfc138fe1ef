//! Slice pictures: true aspect ratio and radiological orientation, checked on synthetic volumes whose anatomy is
//! defined in world (LPS) coordinates, so the expected picture does not depend on how the voxels are stored.

use image::GrayImage;
use spinekit_image::{Geometry, Volume};
use spinekit_picture::{
    label_colour, render_overlay, render_slice, write_overlay_png, write_slice_png, PictureError,
    Plane, SliceAt, SliceOptions, Window,
};

/// Builds a volume by evaluating `f(world)` at every voxel centre.
fn volume<T: spinekit_image::Voxel>(
    dims: [usize; 3],
    g: Geometry,
    f: impl Fn([f64; 3]) -> T,
) -> Volume<T> {
    let mut v = Volume::zeros(dims, g).unwrap();
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let w = v.voxel_to_world([i, j, k]);
                v.set(i, j, k, f(w));
            }
        }
    }
    v
}

/// Bounding box (min col, max col, min row, max row) and centroid of pixels ≥ `thr`.
fn blob(img: &GrayImage, thr: u8) -> Option<([u32; 4], [f64; 2])> {
    let mut bb = [u32::MAX, 0, u32::MAX, 0];
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[0] >= thr {
            bb = [bb[0].min(x), bb[1].max(x), bb[2].min(y), bb[3].max(y)];
            sx += x as f64;
            sy += y as f64;
            n += 1.0;
        }
    }
    (n > 0.0).then(|| (bb, [sx / n, sy / n]))
}

const SPHERE_C: [f64; 3] = [10.3, -20.7, 35.1];
const SPHERE_R: f64 = 20.0;

/// 1000 × the fraction of the voxel's slab (3 mm along z) inside the sphere: thick-slice partial volume, as a
/// CT scanner would record it.
fn sphere_value(w: [f64; 3], slab_mm: f64) -> f32 {
    let r2 = (w[0] - SPHERE_C[0]).powi(2) + (w[1] - SPHERE_C[1]).powi(2);
    if r2 >= SPHERE_R * SPHERE_R {
        return 0.0;
    }
    let hz = (SPHERE_R * SPHERE_R - r2).sqrt();
    let lo = (w[2] - slab_mm / 2.0).max(SPHERE_C[2] - hz);
    let hi = (w[2] + slab_mm / 2.0).min(SPHERE_C[2] + hz);
    (1000.0 * ((hi - lo).max(0.0) / slab_mm)) as f32
}

#[test]
fn thick_slices_keep_a_sphere_round_in_every_plane() {
    // Stored RAS-like (i → right, j → anterior, k → superior), 0.5 × 0.5 × 3 mm, covering 60 mm around the sphere.
    let g = Geometry {
        origin_mm: [SPHERE_C[0] + 30.0, SPHERE_C[1] + 30.0, SPHERE_C[2] - 28.6],
        spacing_mm: [0.5, 0.5, 3.0],
        direction: [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]],
    };
    let vol = volume([120, 120, 20], g, |w| sphere_value(w, 3.0));
    let win = Window {
        center: 500.0,
        width: 1000.0,
    };
    let opts = SliceOptions::default();
    for (plane, at) in [
        (Plane::Sagittal, SphereCentre::X),
        (Plane::Coronal, SphereCentre::Y),
        (Plane::Axial, SphereCentre::Z),
    ] {
        let (img, info) = render_slice(&vol, plane, at.slice(), win, &opts).unwrap();
        assert_eq!(info.pixel_mm, 0.5);
        if plane != Plane::Axial {
            // 120 × 0.5 mm wide, 20 × 3 mm = 60 mm = 120 px tall: square pixels.
            assert_eq!(img.dimensions(), (120, 120), "{plane:?}");
        }
        let (bb, _) = blob(&img, 128).unwrap();
        let w = (bb[1] - bb[0] + 1) as f64;
        let h = (bb[3] - bb[2] + 1) as f64;
        let ratio = w / h;
        assert!(
            (0.95..=1.05).contains(&ratio),
            "{plane:?}: blob {w}×{h} px, ratio {ratio}"
        );
        // Diameter 40 mm = 80 px of 0.5 mm.
        assert!(
            (w - 80.0).abs() <= 3.0 && (h - 80.0).abs() <= 4.0,
            "{plane:?}: blob {w}×{h} px"
        );
    }
}

enum SphereCentre {
    X,
    Y,
    Z,
}
impl SphereCentre {
    fn slice(&self) -> SliceAt {
        SliceAt::WorldMm(match self {
            SphereCentre::X => SPHERE_C[0],
            SphereCentre::Y => SPHERE_C[1],
            SphereCentre::Z => SPHERE_C[2],
        })
    }
}

/// Patient-space box [-40, 40] mm on every axis; the marker sits at the patient's left (+x), anterior (−y),
/// superior (+z) corner region.
const MARKER: [f64; 3] = [20.0, -20.0, 20.0];

fn marker_value(w: [f64; 3]) -> i16 {
    let inside = (0..3).all(|a| (w[a] - MARKER[a]).abs() <= 6.0);
    if inside {
        1000
    } else {
        0
    }
}

/// The same patient in three storage orders, one of them oblique by 5°; each field of view is centred on the
/// world origin and about 80 mm wide.
fn storages() -> Vec<(&'static str, [usize; 3], Geometry)> {
    let (c, s) = (5f64.to_radians().cos(), 5f64.to_radians().sin());
    // i → anterior (tilted toward inferior), j → left, k → inferior (tilted toward anterior... posterior).
    let mut oblique = Geometry {
        origin_mm: [0.0; 3],
        spacing_mm: [1.0, 1.0, 1.1],
        direction: [[0.0, -c, -s], [1.0, 0.0, 0.0], [0.0, s, -c]],
    };
    let centre = oblique.index_to_world([39.5, 39.5, 39.5]);
    oblique.origin_mm = [-centre[0], -centre[1], -centre[2]];
    vec![
        (
            "LPS",
            [81, 81, 41],
            Geometry {
                origin_mm: [-40.0, -40.0, -40.0],
                spacing_mm: [1.0, 1.0, 2.0],
                direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            },
        ),
        (
            // i → superior, j → right, k → anterior; anisotropic spacing.
            "SRA",
            [41, 101, 68],
            Geometry {
                origin_mm: [40.0, 40.0, -40.0],
                spacing_mm: [2.0, 0.8, 1.2],
                direction: [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]],
            },
        ),
        ("oblique ALI", [80, 80, 80], oblique),
    ]
}

#[test]
fn orientation_is_radiological_whatever_the_storage() {
    let win = Window {
        center: 500.0,
        width: 1000.0,
    };
    for (name, dims, g) in storages() {
        let vol = volume(dims, g, marker_value);
        for (plane, pos, expect_right, expect_top) in [
            // axial: patient's left → picture right; anterior → top.
            (Plane::Axial, MARKER[2], true, true),
            // coronal: left → right; superior → top.
            (Plane::Coronal, MARKER[1], true, true),
            // sagittal: anterior → left; superior → top.
            (Plane::Sagittal, MARKER[0], false, true),
        ] {
            let (img, info) = render_slice(
                &vol,
                plane,
                SliceAt::WorldMm(pos),
                win,
                &SliceOptions::default(),
            )
            .unwrap();
            let (_, [cx, cy]) =
                blob(&img, 128).unwrap_or_else(|| panic!("{name} {plane:?}: marker not in slice"));
            let (w, h) = (img.width() as f64, img.height() as f64);
            assert_eq!(
                cx > w / 2.0,
                expect_right,
                "{name} {plane:?}: centroid x {cx} of {w}"
            );
            assert_eq!(
                cy < h / 2.0,
                expect_top,
                "{name} {plane:?}: centroid y {cy} of {h}"
            );
            // The marker is centred 20 mm from the middle of an 80 mm field in both directions: 3/4 or 1/4.
            let fx = if expect_right { 0.75 } else { 0.25 };
            // (The 5° oblique volume shifts this by up to ~0.03.)
            assert!(
                (cx / w - fx).abs() < 0.06,
                "{name} {plane:?}: x fraction {}",
                cx / w
            );
            assert!(
                (cy / h - 0.25).abs() < 0.06,
                "{name} {plane:?}: y fraction {}",
                cy / h
            );
            assert!(
                (info.position_mm - pos).abs() <= 1.2,
                "{name} {plane:?}: slice at {}",
                info.position_mm
            );
        }
    }
}

#[test]
fn slice_index_is_along_the_stored_axis() {
    let (_, dims, g) = storages().swap_remove(1); // SRA: sagittal normal (x) is stored axis 1, running right.
    let vol = volume(dims, g, marker_value);
    let win = Window::from_range(0.0, 1000.0);
    let (_, info) = render_slice(
        &vol,
        Plane::Sagittal,
        SliceAt::Index(0),
        win,
        &SliceOptions::default(),
    )
    .unwrap();
    assert_eq!((info.voxel_axis, info.slice_index), (1, 0));
    assert!(
        (info.position_mm - 40.0).abs() < 1e-9,
        "index 0 of a right-running axis is x = +40 mm"
    );
    let (_, mid) = render_slice(
        &vol,
        Plane::Axial,
        SliceAt::Middle,
        win,
        &SliceOptions::default(),
    )
    .unwrap();
    assert_eq!((mid.voxel_axis, mid.slice_index), (0, 20));
    assert!((mid.position_mm - 0.0).abs() < 1e-9);
    // Slice that lands on the marker by index must show it; far from it must not.
    let k = ((40.0 - MARKER[0]) / 0.8) as usize; // x = 40 − 0.8·index
    let (img, _) = render_slice(
        &vol,
        Plane::Sagittal,
        SliceAt::Index(k),
        win,
        &SliceOptions::default(),
    )
    .unwrap();
    assert!(blob(&img, 128).is_some());
    let (img, _) = render_slice(
        &vol,
        Plane::Sagittal,
        SliceAt::Index(0),
        win,
        &SliceOptions::default(),
    )
    .unwrap();
    assert!(blob(&img, 128).is_none());
}

#[test]
fn bad_requests_are_refused_with_one_line() {
    let (_, dims, g) = storages().swap_remove(0);
    let vol = volume(dims, g, marker_value);
    let o = SliceOptions::default();
    let w = Window::SOFT_TISSUE;
    let cases: Vec<PictureError> = vec![
        render_slice(&vol, Plane::Axial, SliceAt::Index(41), w, &o).unwrap_err(),
        render_slice(&vol, Plane::Axial, SliceAt::WorldMm(45.0), w, &o).unwrap_err(),
        render_slice(&vol, Plane::Axial, SliceAt::WorldMm(f64::NAN), w, &o).unwrap_err(),
        render_slice(
            &vol,
            Plane::Axial,
            SliceAt::Middle,
            Window {
                center: 0.0,
                width: -1.0,
            },
            &o,
        )
        .unwrap_err(),
        render_slice(
            &vol,
            Plane::Axial,
            SliceAt::Middle,
            w,
            &SliceOptions {
                pixel_mm: Some(0.001),
                ..o
            },
        )
        .unwrap_err(),
        render_overlay(
            &vol,
            &vol.map(|_| 0u8),
            Plane::Axial,
            SliceAt::Middle,
            w,
            &SliceOptions {
                label_alpha: 1.5,
                ..o
            },
        )
        .unwrap_err(),
    ];
    assert!(matches!(cases[0], PictureError::SliceOutside { .. }));
    assert!(
        matches!(cases[1], PictureError::SliceOutside { .. }),
        "{}",
        cases[1]
    );
    assert!(
        cases[1].to_string().contains("-40.0 to 40.0 mm"),
        "{}",
        cases[1]
    );
    assert!(matches!(cases[2], PictureError::SliceOutside { .. }));
    assert!(matches!(cases[3], PictureError::BadWindow { .. }));
    assert!(matches!(cases[4], PictureError::BadOption(_)));
    assert!(matches!(cases[5], PictureError::BadOption(_)));
    for e in &cases {
        assert!(!e.to_string().contains('\n'));
    }
    // 45° between two patient axes: no nearest plane.
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let g45 = Geometry {
        direction: [[h, h, 0.0], [-h, h, 0.0], [0.0, 0.0, 1.0]],
        ..Geometry::default()
    };
    let v45: Volume<i16> = Volume::zeros([4, 4, 4], g45).unwrap();
    let e = render_slice(&v45, Plane::Axial, SliceAt::Middle, w, &o).unwrap_err();
    assert!(matches!(e, PictureError::Image(_)), "{e}");
}

#[test]
fn windows_map_linearly_and_clip() {
    let w = Window::BONE; // 400 ± 900
    assert_eq!(w.apply(-500.0), 0);
    assert_eq!(w.apply(-1000.0), 0);
    assert_eq!(w.apply(1300.0), 255);
    assert_eq!(w.apply(400.0), 128);
    assert_eq!(w.apply(f64::NAN), 0);
    assert_eq!(Window::SOFT_TISSUE.apply(40.0 - 100.0), 64); // quarter of the window
    assert_eq!(Window::from_range(5.0, 5.0).width, 1.0);
}

#[test]
fn pngs_are_written_atomically_and_decode() {
    let dir = tempfile::tempdir().unwrap();
    let storage = storages().swap_remove(1);
    let vol = volume(storage.1, storage.2, marker_value);
    let labels = vol.map(|v| if v > 0 { 3u8 } else { 0 });
    let o = SliceOptions::default();
    let p1 = dir.path().join("sag.png");
    let p2 = dir.path().join("sag-overlay.png");
    write_slice_png(
        &p1,
        &vol,
        Plane::Sagittal,
        SliceAt::WorldMm(MARKER[0]),
        Window::BONE,
        &o,
    )
    .unwrap();
    write_overlay_png(
        &p2,
        &vol,
        &labels,
        Plane::Sagittal,
        SliceAt::WorldMm(MARKER[0]),
        Window::BONE,
        &o,
    )
    .unwrap();
    let (grey, _) = render_slice(
        &vol,
        Plane::Sagittal,
        SliceAt::WorldMm(MARKER[0]),
        Window::BONE,
        &o,
    )
    .unwrap();
    let back = image::open(&p1).unwrap();
    assert_eq!(back.to_luma8(), grey);
    let back = image::open(&p2).unwrap().to_rgb8();
    assert_eq!(back.dimensions(), grey.dimensions());
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["sag-overlay.png", "sag.png"]);
    // Writing into a missing folder fails cleanly.
    let e = write_slice_png(
        dir.path().join("no/such.png"),
        &vol,
        Plane::Axial,
        SliceAt::Middle,
        Window::BONE,
        &o,
    )
    .unwrap_err();
    assert!(matches!(e, PictureError::Io { .. }), "{e}");
}

#[test]
fn overlay_colours_labels_where_they_are_even_on_another_grid() {
    let win = Window {
        center: 500.0,
        width: 1000.0,
    };
    let all = storages();
    let (_, dims, g) = all[1];
    let vol = volume(dims, g, marker_value);
    // Labels stored in a different order and grid (LPS, 1 mm): must still land on the marker.
    let (_, ldims, lg) = all[0];
    let labels: Volume<u16> = volume(ldims, lg, |w| if marker_value(w) > 0 { 300 } else { 0 });
    let opts = SliceOptions {
        label_alpha: 0.6,
        ..SliceOptions::default()
    };
    let (rgb, info) = render_overlay(
        &vol,
        &labels,
        Plane::Coronal,
        SliceAt::WorldMm(MARKER[1]),
        win,
        &opts,
    )
    .unwrap();
    let (grey, ginfo) = render_slice(
        &vol,
        Plane::Coronal,
        SliceAt::WorldMm(MARKER[1]),
        win,
        &opts,
    )
    .unwrap();
    assert_eq!(info, ginfo);
    assert_eq!(rgb.dimensions(), grey.dimensions());
    let colour = label_colour(300);
    assert_eq!(
        colour,
        label_colour(300 - 19),
        "the table repeats every 19 labels"
    );
    let (mut agree, mut total) = (0, 0);
    for (x, y, p) in rgb.enumerate_pixels() {
        let g = grey.get_pixel(x, y).0[0];
        let coloured = p.0 != [g, g, g];
        if coloured {
            for (got, want) in p.0.iter().zip(colour) {
                let expect = (g as f64 * 0.4 + want as f64 * 0.6).round() as u8;
                assert!(got.abs_diff(expect) <= 1, "blend at ({x},{y})");
            }
        }
        // Labels and bright marker coincide (up to a pixel or so at the edges of the 1 mm label grid).
        total += 1;
        if coloured == (g >= 128) {
            agree += 1;
        }
    }
    assert!(
        agree as f64 / total as f64 > 0.99,
        "labels off the marker: {agree}/{total}"
    );
}
