//! Reproduces the shipped weights:
//! `cargo run --release -p spinekit-xr-detect --example train -- --data /work/shared/data/xr-aasce-training --out crates/spinekit-xr-detect/weights/`
//! Options: --epochs N (schedule length), --stop-after K (stop after K epochs of that schedule),
//! --seed S, --batch B, --lr X, --channels C, --eval-every E, --log FILE.

use spinekit_xr_detect::train::{train, TrainConfig};
use std::io::Write;
use std::path::PathBuf;

fn main() {
    let mut cfg = TrainConfig::default();
    let mut data = None;
    let mut out = None;
    let mut log_path = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let value = |i: usize| -> String {
        args.get(i + 1).cloned().unwrap_or_else(|| {
            eprintln!("missing value after {}", args[i]);
            std::process::exit(2)
        })
    };
    let num = |s: String| -> f64 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("not a number: {s}");
            std::process::exit(2)
        })
    };
    while i < args.len() {
        match args[i].as_str() {
            "--data" => data = Some(PathBuf::from(value(i))),
            "--out" => out = Some(PathBuf::from(value(i))),
            "--log" => log_path = Some(PathBuf::from(value(i))),
            "--epochs" => cfg.epochs = num(value(i)) as usize,
            "--stop-after" => cfg.stop_after = Some(num(value(i)) as usize),
            "--seed" => cfg.seed = num(value(i)) as u64,
            "--batch" => cfg.batch_size = num(value(i)) as usize,
            "--lr" => cfg.lr = num(value(i)),
            "--channels" => cfg.base_channels = num(value(i)) as usize,
            "--eval-every" => cfg.eval_every = num(value(i)) as usize,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    let (Some(data), Some(out)) = (data, out) else {
        eprintln!("usage: train --data DIR --out DIR [--epochs N] [--stop-after K] [--seed S] [--log FILE]");
        std::process::exit(2)
    };
    let mut file = log_path.map(|p| std::fs::File::create(p).expect("cannot create the log file"));
    let mut log = |s: &str| {
        println!("{s}");
        if let Some(f) = file.as_mut() {
            let _ = writeln!(f, "{s}");
            let _ = f.flush();
        }
    };
    log(&format!("config: {cfg:?}"));
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    log(&format!(
        "machine: {cpu}, {} threads",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    ));
    if let Err(e) = train(&data, &out, &cfg, &mut log) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
