//! Reference values for the shared-data pictures come from SimpleITK 2.5.7 (ITK's libjpeg / libpng readers),
//! an independent decoder; they were computed once and are written here as literals.

use image::{ExtendedColorType, ImageEncoder};
use spinekit_image::{Image2D, PixelSpacingSource};
use spinekit_picture::{
    decode_picture, read_picture, render_image2d, write_image2d_png, PictureError, Window,
};
use spinekit_testdata::shared_data;

#[test]
fn reads_aasce_radiographs_with_reference_sizes_and_means() {
    // (file, width, height, mean grey from SimpleITK/libjpeg)
    let cases = [
        (
            "sunhl-1th-02-Jan-2017-162 A AP.jpg",
            755,
            2125,
            84.05628920919361,
        ),
        (
            "sunhl-1th-10-Jan-2017-224 A AP.jpg",
            1052,
            2297,
            70.82153817758658,
        ),
        (
            "sunhl-1th-20-Jul-2016-8 B AP.jpg",
            1089,
            2633,
            72.53013126814183,
        ),
        (
            "sunhl-1th-30-Dec-2016-161 A AP.jpg",
            771,
            1572,
            143.43706662970334,
        ),
    ];
    for (name, w, h, mean) in cases {
        let Some(p) = shared_data(&format!("xr-aasce-training/images/{name}")) else {
            return;
        };
        let img = read_picture(&p).unwrap();
        assert_eq!((img.width, img.height), (w, h), "{name}");
        assert_eq!(img.spacing_mm, None);
        let m = img.data.iter().map(|&v| v as f64).sum::<f64>() / img.data.len() as f64;
        // JPEG decoders may differ by ±1 grey level per pixel (IDCT rounding); the mean must agree closely.
        assert!((m - mean).abs() < 0.5, "{name}: mean {m} vs libjpeg {mean}");
        assert!(img.data.iter().all(|&v| (0.0..=255.0).contains(&v)));
    }
}

#[test]
fn reads_lumbar_pngs_exactly() {
    // (file, sum of all pixels, pixel at (row 128, col 100)) from SimpleITK/libpng.
    let cases = [
        ("2.png", 1499695.0, 22.0),
        ("3.png", 2214209.0, 12.0),
        ("8.png", 1717155.0, 42.0),
        ("9.png", 2245050.0, 10.0),
        ("12.png", 1674959.0, 15.0),
        ("18.png", 2074328.0, 16.0),
    ];
    for (name, sum, px) in cases {
        let Some(p) = shared_data(&format!("mr-lumbar-2d-slices/images/{name}")) else {
            return;
        };
        let img = read_picture(&p).unwrap();
        assert_eq!((img.width, img.height), (256, 256), "{name}");
        assert_eq!(
            img.data.iter().map(|&v| v as f64).sum::<f64>(),
            sum,
            "{name}"
        );
        assert_eq!(img.get(100, 128), px, "{name}");
    }
    let Some(p) = shared_data("mr-lumbar-2d-slices/images/2.png") else {
        return;
    };
    let img = read_picture(&p).unwrap();
    // SimpleITK a[row, col]: a[0,0]=0, a[100,128]=21, a[255,255]=0, a[200,30]=15.
    assert_eq!(
        [
            img.get(0, 0),
            img.get(128, 100),
            img.get(255, 255),
            img.get(30, 200)
        ],
        [0.0, 21.0, 0.0, 15.0]
    );
}

#[test]
fn rgba_png_becomes_bt601_luma() {
    let Some(p) = shared_data("tables/spider-gradings/mid_sagittal_png/1_t2.png") else {
        return;
    };
    let img = read_picture(&p).unwrap();
    assert_eq!((img.width, img.height), (448, 578));
    // numpy on SimpleITK's RGBA array: sum of 0.299 R + 0.587 G + 0.114 B = 19694221; pixel (row 300, col 200) = 237.
    let sum: f64 = img.data.iter().map(|&v| v as f64).sum();
    assert!((sum - 19694221.0).abs() < 1.0, "{sum}");
    assert_eq!(img.get(200, 300), 237.0);
}

fn png_bytes(w: u32, h: u32, raw: &[u8], colour: ExtendedColorType) -> Vec<u8> {
    let mut v = Vec::new();
    image::codecs::png::PngEncoder::new(&mut v)
        .write_image(raw, w, h, colour)
        .unwrap();
    v
}

#[test]
fn sixteen_bit_png_keeps_values_and_rgb_converts() {
    let vals: [u16; 6] = [0, 1, 1000, 40000, 65535, 12345];
    // The encoder takes 16-bit samples as native-endian bytes of a &[u16].
    let raw: Vec<u8> = vals.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let img = decode_picture(&png_bytes(3, 2, &raw, ExtendedColorType::L16)).unwrap();
    assert_eq!(img.data, vals.iter().map(|&v| v as f32).collect::<Vec<_>>());
    let rgb = [255u8, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10];
    let img = decode_picture(&png_bytes(2, 2, &rgb, ExtendedColorType::Rgb8)).unwrap();
    let expect = [0.299 * 255.0, 0.587 * 255.0, 0.114 * 255.0, 10.0];
    for (g, e) in img.data.iter().zip(expect) {
        assert!((*g as f64 - e).abs() < 1e-3, "{g} vs {e}");
    }
}

/// A valid PNG whose IHDR claims `w`×`h` (CRC recomputed), followed by the data of a 1×1 image.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = png_bytes(1, 1, &[7], ExtendedColorType::L8);
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&b[12..29]);
    b[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    b
}

fn one_line(e: &PictureError) {
    let m = e.to_string();
    assert!(!m.is_empty() && !m.contains('\n'), "{m:?}");
}

#[test]
fn bad_pictures_are_refused() {
    let e = decode_picture(b"ObjectType = Image\nNDims = 3\n").unwrap_err();
    assert!(matches!(e, PictureError::NotAnImage), "{e}");
    one_line(&e);
    let e = decode_picture(&[]).unwrap_err();
    assert!(matches!(e, PictureError::NotAnImage), "{e}");

    let e = decode_picture(&png_claiming(30_000, 10)).unwrap_err();
    assert!(
        matches!(
            e,
            PictureError::TooLarge {
                width: 30_000,
                height: 10,
                ..
            }
        ),
        "{e}"
    );
    one_line(&e);
    let e = decode_picture(&png_claiming(0, 10)).unwrap_err();
    assert!(
        matches!(e, PictureError::Empty { .. } | PictureError::Decode(_)),
        "{e}"
    );

    // Truncated PNG (cut inside the pixel data).
    let raw: Vec<u8> = (0..64 * 64).map(|i| (i * 7 % 251) as u8).collect();
    let full = png_bytes(64, 64, &raw, ExtendedColorType::L8);
    assert!(decode_picture(&full).is_ok());
    let e = decode_picture(&full[..full.len() / 2]).unwrap_err();
    assert!(matches!(e, PictureError::Decode(_)), "{e}");
    one_line(&e);
    // Truncated in the header.
    let e = decode_picture(&full[..20]).unwrap_err();
    assert!(matches!(e, PictureError::Decode(_)), "{e}");

    let e = read_picture("/nonexistent/spinekit.png").unwrap_err();
    assert!(matches!(e, PictureError::Io { .. }), "{e}");
}

#[test]
fn truncated_jpeg_is_refused() {
    let Some(p) = shared_data("xr-aasce-training/images/sunhl-1th-02-Jan-2017-162 A AP.jpg") else {
        return;
    };
    let bytes = std::fs::read(p).unwrap();
    assert!(decode_picture(&bytes).is_ok());
    for cut in [bytes.len() - 2, bytes.len() / 3, 1000, 100, 3] {
        let e = decode_picture(&bytes[..cut]).unwrap_err();
        assert!(matches!(e, PictureError::Decode(_)), "cut at {cut}: {e}");
        one_line(&e);
    }
}

#[test]
fn image2d_png_round_trip_with_window_aspect_and_inversion() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = Image2D::new(
        4,
        2,
        vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0],
    )
    .unwrap();
    let p = dir.path().join("a.png");
    write_image2d_png(&p, &img, None).unwrap();
    let back = image::open(&p).unwrap().to_luma8();
    assert_eq!(back.dimensions(), (4, 2));
    assert_eq!(back.get_pixel(0, 0).0[0], 0);
    assert_eq!(back.get_pixel(3, 1).0[0], 255);
    assert_eq!(back.get_pixel(2, 0).0[0], 73); // 200/700·255 = 72.9
                                               // Window: C 100, W 200 → 0 at 0, 255 from 200 up.
    let g = render_image2d(
        &img,
        Some(Window {
            center: 100.0,
            width: 200.0,
        }),
    )
    .unwrap();
    assert_eq!(&g.as_raw()[..4], &[0, 128, 255, 255]);
    // Rows 2 mm apart, columns 1 mm: the picture is twice as tall, pixels square at 1 mm.
    img.spacing_mm = Some(([2.0, 1.0], PixelSpacingSource::User));
    assert_eq!(render_image2d(&img, None).unwrap().dimensions(), (4, 4));
    // MONOCHROME1: high values dark.
    img.spacing_mm = None;
    img.inverted = true;
    let g = render_image2d(&img, None).unwrap();
    assert_eq!((g.as_raw()[0], g.as_raw()[7]), (255, 0));
    let e = render_image2d(
        &img,
        Some(Window {
            center: 0.0,
            width: 0.0,
        }),
    )
    .unwrap_err();
    assert!(matches!(e, PictureError::BadWindow { .. }), "{e}");
}
