//! Benchmark driver for `bench/read_series.sh`: reads a DICOM series N times and prints the median wall time.
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: read_series PATH [REPEATS]");
    let repeats: usize = args
        .next()
        .map(|r| r.parse().expect("REPEATS must be a number"))
        .unwrap_or(5);
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeats {
        drop(last.take());
        let t0 = Instant::now();
        let o = spinekit_io::open_volume(&path, &Default::default()).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(1)
        });
        times.push(t0.elapsed().as_secs_f64());
        last = Some(o);
    }
    times.sort_by(f64::total_cmp);
    let o = last.expect("at least one repeat");
    let d = o.volume.dims();
    let bytes_per_voxel = match o.volume.voxel_type() {
        spinekit_image::VoxelType::U8 => 1,
        spinekit_image::VoxelType::I16 | spinekit_image::VoxelType::U16 => 2,
        spinekit_image::VoxelType::I32 | spinekit_image::VoxelType::F32 => 4,
    };
    let bytes = d.iter().product::<usize>() * bytes_per_voxel;
    println!("median_s={:.4}", times[times.len() / 2]);
    println!("dims={}x{}x{}", d[0], d[1], d[2]);
    println!("decoded_bytes={bytes}");
}
