//! The degenerative model: off changes nothing; spurs grow from the rims and carry their vertebra's label; a
//! bridge joins two vertebrae over the disc and is split at its mid-plane; narrowed discs shorten the column and
//! the truth measures them; vacuum gas and aortic plaques are where the truth says.

use spinekit_anatomy::{Level, Tissue};
use spinekit_image::{Volume, Voxel};
use spinekit_phantom::{
    generate, Degeneration, DegenerationPreset, DiscDegeneration, Phantom, PhantomConfig,
};

fn cfg(first: Level, last: Level, voxel_mm: f64) -> PhantomConfig {
    PhantomConfig {
        voxel_size_mm: [voxel_mm; 3],
        ..PhantomConfig::small(first, last)
    }
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

fn sample<T: Voxel + Default>(v: &Volume<T>, p: [f64; 3]) -> T {
    let idx = v.geometry().world_to_index(p);
    let d = v.dims();
    let r: Vec<i64> = idx.iter().map(|x| x.round() as i64).collect();
    if (0..3).any(|a| r[a] < 0 || r[a] >= d[a] as i64) {
        return T::default();
    }
    v.get(r[0] as usize, r[1] as usize, r[2] as usize)
}

fn world(v: &Volume<u8>, n: usize) -> [f64; 3] {
    let [ni, nj, _] = v.dims();
    let (i, j, k) = (n % ni, (n / ni) % nj, n / (ni * nj));
    v.geometry().index_to_world([i as f64, j as f64, k as f64])
}

fn axis(ph: &Phantom, l: Level) -> [f64; 3] {
    ph.truth
        .levels
        .iter()
        .find(|t| t.level == l)
        .expect("level in truth")
        .axis_superior
}

#[test]
fn no_degeneration_changes_no_byte_and_no_json() {
    let base = cfg(Level::L2, Level::L4, 2.5);
    let off = generate(&base, None).unwrap();
    let empty = generate(
        &PhantomConfig {
            degeneration: Some(Degeneration::default()),
            ..base.clone()
        },
        None,
    )
    .unwrap();
    assert_eq!(off.ct.data(), empty.ct.data());
    for (a, b) in [
        (&off.labels, &empty.labels),
        (&off.bodies, &empty.bodies),
        (&off.discs, &empty.discs),
        (&off.canal, &empty.canal),
        (&off.tissues, &empty.tissues),
    ] {
        assert_eq!(a.data(), b.data());
    }
    assert_eq!(off.truth.levels, empty.truth.levels);
    assert_eq!(off.truth.discs, empty.truth.discs);
    // Configurations and truths without degeneration serialise as before (no new key).
    assert!(!serde_json::to_string(&base)
        .unwrap()
        .contains("degeneration"));
    assert!(!serde_json::to_string(&off.truth)
        .unwrap()
        .contains("degeneration"));
    assert!(off.truth.degeneration.is_none());
    assert!(empty.truth.degeneration.is_some());
}

#[test]
fn spurs_grow_from_the_rims_with_their_vertebra_label_and_a_bridge_is_split_at_mid_disc() {
    let base = cfg(Level::L2, Level::L4, 1.0);
    let mut on = base.clone();
    // Full disc height, so the column is the same as without degeneration and every new bone voxel is a spur.
    on.degeneration = Some(Degeneration {
        discs: vec![
            DiscDegeneration {
                upper: Level::L2,
                height_factor: 1.0,
                vacuum: false,
                osteophyte_mm: 6.0,
                bridging: false,
            },
            DiscDegeneration {
                upper: Level::L3,
                height_factor: 1.0,
                vacuum: false,
                osteophyte_mm: 6.0,
                bridging: true,
            },
        ],
        aortic_plaques: 0,
    });
    let off = generate(&base, None).unwrap();
    let ph = generate(&on, None).unwrap();
    assert_eq!(
        off.bodies.data(),
        ph.bodies.data(),
        "spurs are not vertebral body"
    );
    let dt = ph.truth.degeneration.as_ref().expect("degeneration truth");
    assert_eq!(dt.discs.len(), 2);
    let (free, bridged) = (&dt.discs[0], &dt.discs[1]);
    assert_eq!(free.disc.upper, Level::L2);
    assert!(free.bridge_points_mm.is_empty());
    assert!(free.upper_spurs >= 10 && free.lower_spurs >= 10);
    assert!(
        bridged.bridge_points_mm.len() >= 9,
        "anterior and anterolateral bridges"
    );
    let split_n = bridged.bridge_split_normal.expect("bridge split plane");

    // Every new bone voxel lies next to one of the two discs, on its own vertebra's side of the disc's mid-plane.
    let mid_plane = |d: &spinekit_phantom::DegeneratedDiscTruth| {
        let c = ph
            .truth
            .discs
            .iter()
            .find(|t| t.disc == d.disc)
            .unwrap()
            .center_mm;
        let (u, l) = (axis(&ph, d.disc.upper), axis(&ph, d.disc.lower));
        let n = [u[0] + l[0], u[1] + l[1], u[2] + l[2]];
        let nn = norm(n);
        (c, n.map(|x| x / nn))
    };
    let (c_free, n_free) = mid_plane(free);
    let (c_br, _) = mid_plane(bridged);
    let mut per_label = std::collections::BTreeMap::new();
    let (mut hu_sum, mut wrong_side, mut near_plane) = (0.0, 0usize, 0usize);
    for n in 0..ph.labels.data().len() {
        let (l_on, l_off) = (ph.labels.data()[n], off.labels.data()[n]);
        if l_on == l_off {
            continue;
        }
        assert_eq!(l_off, 0, "a spur took over another vertebra's voxel");
        *per_label.entry(l_on).or_insert(0usize) += 1;
        hu_sum += ph.ct.data()[n] as f64;
        let p = world(&ph.labels, n);
        let d = if norm(sub(p, c_free)) < norm(sub(p, c_br)) {
            free
        } else {
            bridged
        };
        // Signed distance to the plane that splits the spurs between the two vertebrae.
        let s = if d.bridge_points_mm.is_empty() {
            dot(sub(p, c_free), n_free)
        } else {
            let m = d
                .bridge_points_mm
                .iter()
                .min_by(|a, b| norm(sub(p, **a)).total_cmp(&norm(sub(p, **b))))
                .unwrap();
            if norm(sub(p, *m)) < 6.0 {
                dot(sub(p, *m), split_n)
            } else {
                dot(sub(p, c_br), split_n)
            }
        };
        assert!(
            norm(sub(p, c_free)).min(norm(sub(p, c_br))) < 45.0,
            "spur voxel far from its disc"
        );
        let upper_side = s > 0.0;
        let is_upper = l_on == d.disc.upper.verse_label();
        assert!(
            is_upper || l_on == d.disc.lower.verse_label(),
            "label {l_on} at {}",
            d.disc.name()
        );
        if s.abs() < 1.0 {
            near_plane += 1;
        } else if upper_side != is_upper {
            wrong_side += 1;
        }
    }
    let total: usize = per_label.values().sum();
    eprintln!("spur voxels per label {per_label:?}, {near_plane} within 1 mm of a split plane");
    for l in [Level::L2, Level::L3, Level::L4] {
        assert!(
            per_label.get(&l.verse_label()).copied().unwrap_or(0) > 150,
            "{l}: {per_label:?}"
        );
    }
    assert_eq!(
        wrong_side, 0,
        "spur voxels on the other vertebra's side of the disc"
    );
    let mean_hu = hu_sum / total as f64;
    assert!(
        mean_hu > 400.0,
        "spurs are cortical-dense: mean {mean_hu} HU"
    );

    // Each bridge is bone at its meeting point, the upper vertebra just above it and the lower just below.
    let (lu, ll) = (
        bridged.disc.upper.verse_label(),
        bridged.disc.lower.verse_label(),
    );
    let mut joined = 0;
    for m in &bridged.bridge_points_mm {
        let at = |t: f64| sample(&ph.labels, [0, 1, 2].map(|a| m[a] + split_n[a] * t));
        eprintln!(
            "bridge {m:.1?}: {:?} {} HU",
            [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0].map(at),
            sample(&ph.ct, *m)
        );
        // The meeting point is the spurs' sclerotic core (trabecular 170 + 120 HU) under partial volume.
        if at(1.0) == lu && at(-1.0) == ll && sample(&ph.ct, *m) > 200 {
            joined += 1;
        }
        // Off the bridge, outside the rims, the disc level is not bone.
        assert_eq!(sample(&off.labels, *m), 0);
    }
    assert!(
        joined * 10 >= bridged.bridge_points_mm.len() * 8,
        "{joined} of {} bridges join",
        bridged.bridge_points_mm.len()
    );
}

#[test]
fn narrowed_discs_shorten_the_column_and_the_truth_measures_them() {
    let base = cfg(Level::L3, Level::Sacrum, 1.0);
    let on = PhantomConfig {
        degeneration: Some(Degeneration::preset(DegenerationPreset::Severe)),
        ..base.clone()
    };
    let off = generate(&base, None).unwrap();
    let ph = generate(&on, None).unwrap();
    let dt = ph.truth.degeneration.as_ref().unwrap();
    let disc = |p: &Phantom, upper: Level| {
        p.truth
            .discs
            .iter()
            .find(|d| d.disc.upper == upper)
            .unwrap()
            .clone()
    };
    let mut lost = 0.0;
    for upper in [Level::L3, Level::L4, Level::L5] {
        let (a, b) = (disc(&off, upper), disc(&ph, upper));
        let g = dt.discs.iter().find(|d| d.disc.upper == upper).unwrap();
        assert_eq!(g.height_mm, b.height_mm);
        assert!((g.normal_height_mm - a.height_mm).abs() < 1e-9);
        let ratio = b.height_mm / a.height_mm;
        eprintln!(
            "{}: {:.1} → {:.1} mm ({ratio:.2}, asked {})",
            b.disc.name(),
            a.height_mm,
            b.height_mm,
            g.height_factor
        );
        assert!((ratio - g.height_factor).abs() < 1e-6, "{ratio}");
        lost += a.height_mm - b.height_mm;
        // The disc map along the disc's axis through its centre is as much thinner as the truth says.
        let (cu, cl) = (axis(&ph, upper), axis(&ph, b.disc.lower));
        let n = [cu[0] + cl[0], cu[1] + cl[1], cu[2] + cl[2]].map(|x| x / 2.0);
        let run = |p: &Phantom, c: [f64; 3]| {
            let lab = upper.verse_label();
            let at = |t: f64| sample(&p.discs, [0, 1, 2].map(|k| c[k] + n[k] * t)) == lab;
            let (mut up, mut dn) = (0.0, 0.0);
            while at(up + 0.05) {
                up += 0.05;
            }
            while at(dn - 0.05) {
                dn -= 0.05;
            }
            up - dn
        };
        let thinner = run(&off, a.center_mm) - run(&ph, b.center_mm);
        assert!(
            (thinner - (a.height_mm - b.height_mm)).abs() <= 2.0,
            "{}: disc map {thinner:.1} mm thinner, truth {:.1} mm",
            b.disc.name(),
            a.height_mm - b.height_mm
        );
    }
    // The column shortens by what the discs lost (L3 centre to the S1 endplate; lordosis makes it ≤).
    let dist = |p: &Phantom| {
        let l3 = p
            .truth
            .levels
            .iter()
            .find(|t| t.level == Level::L3)
            .unwrap()
            .body_center_mm;
        norm(sub(l3, p.truth.pelvis.s1_endplate.center_mm))
    };
    let shorter = dist(&off) - dist(&ph);
    assert!(
        shorter > 0.8 * lost && shorter < 1.05 * lost,
        "column {shorter:.1} mm shorter, discs lost {lost:.1} mm"
    );
    // Narrowed lordotic discs lose some of their wedge: lordosis falls, measured on the geometry.
    let ll = |p: &Phantom| p.truth.alignment.lumbar_lordosis.as_ref().map(|a| a.deg);
    eprintln!("lumbar lordosis {:?} → {:?}", ll(&off), ll(&ph));
    // Vertebral bodies keep their shape.
    for (a, b) in off.truth.levels.iter().zip(&ph.truth.levels) {
        assert_eq!(a.heights.is_some(), b.heights.is_some());
        if let (Some(x), Some(y)) = (&a.heights, &b.heights) {
            assert!((x.middle_mm - y.middle_mm).abs() < 1e-9);
        }
    }

    // Vacuum discs: gas at the centre the truth gives, still labelled as the disc.
    let mut vac = 0;
    for g in &dt.discs {
        if let Some(c) = g.vacuum_center_mm {
            let hu = sample(&ph.ct, c);
            assert!(hu < -500, "{}: {hu} HU at the vacuum centre", g.disc.name());
            assert_eq!(sample(&ph.discs, c), g.label);
            vac += 1;
        }
    }
    assert_eq!(vac, 2, "severe: vacuum at L4-L5 and L5-S1");

    // Aortic plaques: more calcified aortic wall than the background plaques, dense, in the truth's z ranges.
    assert_eq!(dt.aortic_plaques.len(), 24);
    let calc = Tissue::Calcification.code();
    let count = |p: &Phantom| p.tissues.data().iter().filter(|&&t| t == calc).count();
    assert!(
        count(&ph) > 2 * count(&off).max(1),
        "{} vs {}",
        count(&ph),
        count(&off)
    );
    let mut dense = 0usize;
    for n in 0..ph.tissues.data().len() {
        if ph.tissues.data()[n] == calc && ph.ct.data()[n] >= 400 {
            let z = world(&ph.tissues, n)[2];
            if dt
                .aortic_plaques
                .iter()
                .any(|p| (p.z_from_mm - 1.0..=p.z_to_mm + 1.0).contains(&z))
            {
                dense += 1;
            }
        }
    }
    assert!(dense > 100, "{dense} plaque voxels ≥ 400 HU");

    // The truth with degeneration survives JSON.
    let j = serde_json::to_string(&ph.truth).unwrap();
    let back: spinekit_phantom::Truth = serde_json::from_str(&j).unwrap();
    assert_eq!(back, ph.truth);
}

#[test]
fn bad_degeneration_is_refused_with_a_message() {
    let bad = |d: DiscDegeneration| {
        PhantomConfig {
            degeneration: Some(Degeneration {
                discs: vec![d],
                aortic_plaques: 0,
            }),
            ..PhantomConfig::default()
        }
        .validate()
        .unwrap_err()
        .to_string()
    };
    let ok = DiscDegeneration {
        upper: Level::L4,
        height_factor: 0.5,
        vacuum: true,
        osteophyte_mm: 5.0,
        bridging: true,
    };
    assert!(bad(DiscDegeneration {
        height_factor: 0.1,
        ..ok
    })
    .contains("height_factor"));
    assert!(bad(DiscDegeneration {
        osteophyte_mm: 12.0,
        ..ok
    })
    .contains("osteophyte_mm"));
    assert!(bad(DiscDegeneration {
        osteophyte_mm: 1.0,
        ..ok
    })
    .contains("bridging"));
    assert!(bad(DiscDegeneration {
        upper: Level::Sacrum,
        ..ok
    })
    .contains("no disc below"));
    for p in [DegenerationPreset::Moderate, DegenerationPreset::Severe] {
        let c = PhantomConfig {
            degeneration: Some(Degeneration::preset(p)),
            ..PhantomConfig::default()
        };
        c.validate().unwrap();
        let back: PhantomConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!(p.name().parse::<DegenerationPreset>().unwrap(), p);
    }
    let partial: PhantomConfig = serde_json::from_str(
        r#"{"degeneration": {"discs": [{"upper": "l4", "height_factor": 0.4}]}}"#,
    )
    .unwrap();
    let d = partial.degeneration.unwrap();
    assert_eq!(d.discs[0].osteophyte_mm, 0.0);
    assert_eq!(d.aortic_plaques, 0);
    assert!("mild".parse::<DegenerationPreset>().is_err());
}
