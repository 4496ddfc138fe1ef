//! Marrow-density sweep: `cargo run --release -p spinekit-ct --example density_sweep -- VOXEL_MM HU [HU ...]`
//! (VOXEL_MM is one size for all axes, or `X,Y,Z` for a clinical anisotropic grid such as `0.8,0.8,3`)
//! segments the T10–sacrum phantom with each trabecular HU and prints the numbering status and the L1–L5
//! vertebra/body Dice against the truth (`VERBOSE=1` adds the reason, the evidence and every centroid).

use spinekit_anatomy::Level;
use spinekit_ct::{segment, SegmentOptions};
use spinekit_phantom::{generate, PhantomConfig};
fn main() {
    let mut args = std::env::args().skip(1);
    let vox: Vec<f64> = args
        .next()
        .expect("VOXEL_MM")
        .split(',')
        .map(|a| a.parse().expect("voxel size in mm"))
        .collect();
    let vox: [f64; 3] = match vox[..] {
        [v] => [v; 3],
        [x, y, z] => [x, y, z],
        _ => panic!("VOXEL_MM is one size or X,Y,Z"),
    };
    for hu in args.map(|a| a.parse::<f64>().unwrap()) {
        let mut c = PhantomConfig::small(Level::T10, Level::Sacrum);
        c.voxel_size_mm = vox;
        c.trabecular_hu = hu;
        let p = generate(&c, None).unwrap();
        let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
        let r: Vec<String> = [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5]
            .into_iter()
            .map(|l| {
                let lab = l.verse_label();
                let dv =
                    spinekit_morph::dice_labels(&seg.labels, lab, &p.labels, lab).unwrap_or(0.0);
                let db =
                    spinekit_morph::dice_labels(&seg.bodies, lab, &p.bodies, lab).unwrap_or(0.0);
                format!("{l} {dv:.3}/{db:.3}")
            })
            .collect();
        println!(
            "{hu} HU: {:?} | {}",
            seg.report.numbering.status,
            r.join("  ")
        );
        if std::env::var_os("VERBOSE").is_some() {
            println!("  {}", seg.report.numbering.reason);
            for e in &seg.report.numbering.evidence {
                println!("  ev: {e}");
            }
            for v in &seg.report.vertebrae {
                println!(
                    "  {} c={:?} vol={:.1} partial={}",
                    v.level,
                    v.centroid_mm.map(|x| x.round()),
                    v.volume_ml,
                    v.partial
                );
            }
            let t = spinekit_morph::region_props(&p.labels);
            for r in t {
                println!(
                    "  truth {} c={:?}",
                    r.label,
                    r.centroid_mm.map(|x| x.round())
                );
            }
        }
    }
}
