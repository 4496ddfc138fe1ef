//! Probe of the engine on the degenerative spine of older adults (narrowed discs, osteophytes that may bridge a
//! disc, vacuum discs, aortic calcification):
//!
//! `cargo run --release -p spinekit-ct --example degen_probe -- [degen=moderate,severe] [vox=1/2/0.8,0.8,3]
//! [hu=170,60] [seed=1]`
//!
//! For each case it generates the T10–sacrum phantom, segments it and prints the numbering status and reason,
//! whether every reported vertebra lies within 20 mm of the truth centroid of the same label (VerSe
//! identification rule), the L1–L5 vertebra/body Dice, the discs found, and what explains a failure: reported
//! vertebrae that cover two truth vertebrae (merged across a disc), truth vertebrae split over two reports, and
//! aorta or aortic-calcification voxels labelled as vertebra. `degen=none` gives the baseline; `severe:narrow`
//! (or `:vacuum`, `:spurs`, `:plaques`) keeps only that component of a preset.

use spinekit_anatomy::{Level, Tissue};
use spinekit_ct::{segment, SegmentOptions};
use spinekit_phantom::{generate, Degeneration, DegenerationPreset, PhantomConfig};
use std::collections::BTreeMap;

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

/// One component of a preset (`narrow`, `vacuum`, `spurs` with their bridges, `plaques`), or `all`.
fn only(mut d: Degeneration, part: &str) -> Degeneration {
    assert!(
        ["all", "narrow", "vacuum", "spurs", "plaques"].contains(&part),
        "component {part}"
    );
    if part == "all" {
        return d;
    }
    for x in &mut d.discs {
        if part != "narrow" {
            x.height_factor = 1.0;
        }
        if part != "vacuum" {
            x.vacuum = false;
        }
        if part != "spurs" {
            x.osteophyte_mm = 0.0;
            x.bridging = false;
        }
    }
    if part != "plaques" {
        d.aortic_plaques = 0;
    }
    d
}

fn main() {
    let mut degens = vec!["moderate".to_string(), "severe".to_string()];
    let mut voxels: Vec<[f64; 3]> = vec![[1.0; 3], [2.0; 3], [0.8, 0.8, 3.0]];
    let mut hus = vec![170.0, 60.0];
    let mut seed = 1u64;
    for a in std::env::args().skip(1) {
        let (k, v) = a.split_once('=').expect("arguments are key=value");
        match k {
            "degen" => degens = v.split(',').map(str::to_string).collect(),
            "vox" => {
                voxels = v
                    .split('/')
                    .map(|s| {
                        let x: Vec<f64> = s.split(',').map(|t| t.parse().expect("mm")).collect();
                        match x[..] {
                            [v] => [v; 3],
                            [a, b, c] => [a, b, c],
                            _ => panic!("a voxel size is one number or X,Y,Z"),
                        }
                    })
                    .collect()
            }
            "hu" => hus = v.split(',').map(|t| t.parse().expect("HU")).collect(),
            "seed" => seed = v.parse().expect("seed"),
            _ => panic!("unknown argument {k}"),
        }
    }
    let lumbar = [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5];
    let (lumen, plaque) = (Tissue::Aorta.code(), Tissue::Calcification.code());
    for d in &degens {
        for &vox in &voxels {
            for &hu in &hus {
                let mut c = PhantomConfig::small(Level::T10, Level::Sacrum);
                c.voxel_size_mm = vox;
                c.trabecular_hu = hu;
                c.seed = seed;
                c.degeneration = match d.as_str() {
                    "none" => None,
                    g => {
                        let (grade, part) = g.split_once(':').unwrap_or((g, "all"));
                        let preset = Degeneration::preset(
                            grade.parse::<DegenerationPreset>().expect("degen"),
                        );
                        Some(only(preset, part))
                    }
                };
                let t0 = std::time::Instant::now();
                let p = generate(&c, None).unwrap();
                let t1 = std::time::Instant::now();
                let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
                let t2 = std::time::Instant::now();
                let truth = spinekit_morph::region_props(&p.labels);
                let n = &seg.report.numbering;
                println!(
                    "== {d} {vox:?} mm {hu} HU (gen {:.0} s, segment {:.0} s)",
                    (t1 - t0).as_secs_f64(),
                    (t2 - t1).as_secs_f64()
                );
                println!("  numbering {:?}: {}", n.status, n.reason);
                let mut wrong = Vec::new();
                for v in &seg.report.vertebrae {
                    let same = truth
                        .iter()
                        .find(|t| t.label == v.label as u32)
                        .map(|t| dist(t.centroid_mm, v.centroid_mm));
                    if same.is_none_or(|x| x > 20.0) {
                        let near = truth
                            .iter()
                            .min_by(|a, b| {
                                dist(a.centroid_mm, v.centroid_mm)
                                    .total_cmp(&dist(b.centroid_mm, v.centroid_mm))
                            })
                            .map(|t| (t.label, dist(t.centroid_mm, v.centroid_mm).round()));
                        wrong.push(format!(
                            "{} (same label {:?} mm; nearest truth label, mm {near:?})",
                            v.level,
                            same.map(f64::round)
                        ));
                    }
                }
                println!(
                    "  names right: {}{}",
                    wrong.is_empty(),
                    if wrong.is_empty() {
                        String::new()
                    } else {
                        format!(" — misplaced: {}", wrong.join("; "))
                    }
                );
                let dice: Vec<String> = lumbar
                    .iter()
                    .map(|&l| {
                        let lab = l.verse_label();
                        let dv = spinekit_morph::dice_labels(&seg.labels, lab, &p.labels, lab)
                            .unwrap_or(0.0);
                        let db = spinekit_morph::dice_labels(&seg.bodies, lab, &p.bodies, lab)
                            .unwrap_or(0.0);
                        format!("{l} {dv:.3}/{db:.3}")
                    })
                    .collect();
                println!("  Dice vertebra/body: {}", dice.join("  "));
                let disc_dice: Vec<String> = [Level::L2, Level::L3, Level::L4, Level::L5]
                    .iter()
                    .map(|&l| {
                        // Ours carry 100 + the label above; the phantom's the label above.
                        let lab = l.verse_label();
                        let d = spinekit_morph::dice_labels(&seg.discs, 100 + lab, &p.discs, lab)
                            .unwrap_or(0.0);
                        format!("{l}- {d:.3}")
                    })
                    .collect();
                println!("  disc Dice (below): {}", disc_dice.join("  "));
                let found: Vec<String> = seg
                    .report
                    .discs
                    .iter()
                    .map(|d| d.upper.short_name().to_string() + "-" + d.lower.short_name())
                    .collect();
                let missing: Vec<String> = p
                    .truth
                    .discs
                    .iter()
                    .filter(|t| t.disc.upper >= Level::T10)
                    .filter(|t| !seg.report.discs.iter().any(|d| d.upper == t.disc.upper))
                    .map(|t| t.disc.name())
                    .collect();
                println!(
                    "  discs found: {}{}",
                    found.join(" "),
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!(" — MISSING {}", missing.join(" "))
                    }
                );
                // Overlap of each reported label with the truth labels, and aorta voxels taken as vertebra.
                let mut overlap: BTreeMap<u8, BTreeMap<u8, usize>> = BTreeMap::new();
                let mut aortic = BTreeMap::new();
                for ((&s, &t), &tis) in seg
                    .labels
                    .data()
                    .iter()
                    .zip(p.labels.data())
                    .zip(p.tissues.data())
                {
                    if s == 0 {
                        continue;
                    }
                    *overlap.entry(s).or_default().entry(t).or_insert(0) += 1;
                    if tis == lumen || tis == plaque {
                        let e = aortic.entry(s).or_insert([0usize; 2]);
                        e[usize::from(tis == plaque)] += 1;
                    }
                }
                let mut merged = Vec::new();
                for (s, m) in &overlap {
                    let bone: usize = m.iter().filter(|(t, _)| **t != 0).map(|(_, c)| c).sum();
                    let big: Vec<String> = m
                        .iter()
                        .filter(|(t, c)| **t != 0 && **c * 5 >= bone)
                        .map(|(t, c)| format!("{t}:{c}"))
                        .collect();
                    if big.len() > 1 {
                        merged.push(format!("reported {s} covers truth {}", big.join(",")));
                    }
                }
                let mut split = Vec::new();
                for t in &truth {
                    let parts: Vec<String> = overlap
                        .iter()
                        .filter_map(|(s, m)| {
                            let c = m.get(&(t.label as u8)).copied().unwrap_or(0);
                            (c as f64 >= 0.2 * t.voxels as f64).then(|| format!("{s}:{c}"))
                        })
                        .collect();
                    if parts.len() > 1 {
                        split.push(format!("truth {} over {}", t.label, parts.join(",")));
                    }
                }
                if !merged.is_empty() {
                    println!("  MERGED: {}", merged.join("; "));
                }
                if !split.is_empty() {
                    println!("  SPLIT: {}", split.join("; "));
                }
                if !aortic.is_empty() {
                    println!(
                        "  AORTA in vertebra labels (label: [lumen, calcified wall] voxels): {aortic:?}"
                    );
                }
                if std::env::var_os("VERBOSE").is_some() {
                    for t in &p.truth.discs {
                        println!(
                            "  truth disc {} at slice {:.1}, {:.1} mm high",
                            t.disc.name(),
                            p.ct.geometry().world_to_index(t.center_mm)[2],
                            t.height_mm
                        );
                    }
                    for e in &n.evidence {
                        println!("  ev: {e}");
                    }
                    for v in &seg.report.vertebrae {
                        println!(
                            "  {} c={:?} vol={:.1} ml partial={}",
                            v.level,
                            v.centroid_mm.map(|x| x.round()),
                            v.volume_ml,
                            v.partial
                        );
                    }
                }
            }
        }
    }
}
