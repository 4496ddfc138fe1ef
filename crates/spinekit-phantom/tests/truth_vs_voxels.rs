//! Acceptance tests of issue 3: the truth agrees with the voxels.

use spinekit_anatomy::{Enumeration, FractureShape, GenantGrade, Level, Tissue};
use spinekit_image::Volume;
use spinekit_phantom::{
    generate, project, FractureSpec, GridSize, LevelTruth, Phantom, PhantomConfig, PhantomError,
    ProjectionView, Scoliosis, Side, Visibility,
};

fn small(first: Level, last: Level, voxel_mm: f64) -> PhantomConfig {
    PhantomConfig {
        voxel_size_mm: [voxel_mm; 3],
        ..PhantomConfig::small(first, last)
    }
}

fn level(ph: &Phantom, l: Level) -> &LevelTruth {
    ph.truth
        .levels
        .iter()
        .find(|t| t.level == l)
        .expect("level in truth")
}

/// FNV-1a over bytes.
fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

fn hash(ph: &Phantom) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for v in ph.ct.data() {
        fnv(&mut h, &v.to_le_bytes());
    }
    for m in [&ph.labels, &ph.bodies, &ph.discs, &ph.canal, &ph.tissues] {
        fnv(&mut h, m.data());
    }
    h
}

fn sample(v: &Volume<u8>, p: [f64; 3]) -> u8 {
    let idx = v.geometry().world_to_index(p);
    let d = v.dims();
    let r: Vec<i64> = idx.iter().map(|x| x.round() as i64).collect();
    if (0..3).any(|a| r[a] < 0 || r[a] >= d[a] as i64) {
        return 0;
    }
    v.get(r[0] as usize, r[1] as usize, r[2] as usize)
}

/// Length of the run of `label` along the line through the midpoint of (sup, inf), nearest-neighbour sampled.
fn run_length(v: &Volume<u8>, label: u8, sup: [f64; 3], inf: [f64; 3]) -> f64 {
    let mid = [0, 1, 2].map(|a| 0.5 * (sup[a] + inf[a]));
    let len = ((0..3).map(|a| (sup[a] - inf[a]).powi(2)).sum::<f64>()).sqrt();
    let dir = [0, 1, 2].map(|a| (sup[a] - inf[a]) / len);
    let step = 0.02;
    let at = |t: f64| sample(v, [0, 1, 2].map(|a| mid[a] + dir[a] * t)) == label;
    assert!(
        at(0.0),
        "midpoint of the height segment lies in the body map"
    );
    let mut up = 0.0;
    while at(up + step) {
        up += step;
    }
    let mut down = 0.0;
    while at(down - step) {
        down -= step;
    }
    up - down + step
}

#[test]
fn same_seed_gives_the_same_bytes_on_any_thread_count() {
    let cfg = small(Level::L2, Level::L4, 2.5);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| generate(&cfg, None).unwrap());
    let b = two.install(|| generate(&cfg, None).unwrap());
    assert_eq!(hash(&a), hash(&b));
    assert_eq!(a.truth, b.truth);
    let other = generate(&PhantomConfig { seed: 99, ..cfg }, None).unwrap();
    assert_ne!(
        a.ct.data(),
        other.ct.data(),
        "a different seed changes the noise"
    );
    assert_eq!(
        a.labels.data(),
        other.labels.data(),
        "the seed does not move the skeleton"
    );
}

#[test]
fn every_requested_level_has_labels_and_a_body() {
    let cfg = small(Level::T12, Level::Sacrum, 2.0);
    let ph = generate(&cfg, None).unwrap();
    let want = [
        Level::T12,
        Level::L1,
        Level::L2,
        Level::L3,
        Level::L4,
        Level::L5,
        Level::Sacrum,
    ];
    for l in want {
        let t = level(&ph, l);
        assert_eq!(t.visibility, Visibility::Full, "{l}");
        let n = ph
            .labels
            .data()
            .iter()
            .filter(|&&v| v == l.verse_label())
            .count();
        let nb = ph
            .bodies
            .data()
            .iter()
            .filter(|&&v| v == l.verse_label())
            .count();
        assert!(
            n > 1000 && nb > 500,
            "{l}: {n} vertebra voxels, {nb} body voxels"
        );
        assert_eq!(n, t.voxel_count);
        assert_eq!(nb, t.body_voxel_count);
        // The body centroid lies near the body centre of the frame.
        let c = t.body_centroid_mm.unwrap();
        let d = (0..3)
            .map(|a| (c[a] - t.body_center_mm[a]).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            d < 3.0,
            "{l}: body centroid {d:.2} mm from the frame origin"
        );
    }
    // Discs carry the upper vertebra's label and sit between the bodies.
    for (label, upper) in [(24u8, Level::L5), (20, Level::L1)] {
        assert!(ph.discs.data().contains(&label), "disc below {upper}");
    }
    assert!(ph.canal.data().contains(&1) && ph.canal.data().contains(&2));
    // Geometry: LPS identity, centred in x and y.
    let g = ph.ct.geometry();
    assert_eq!(
        g.direction,
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    );
    let (lo, hi) = ph.ct.world_extent_mm();
    assert!(
        (lo[0] + hi[0]).abs() < 1e-9
            && (lo[1] + hi[1]).abs() < 1e-9
            && (lo[2] + hi[2]).abs() < 1e-9
    );
    for m in [&ph.labels, &ph.bodies, &ph.discs, &ph.canal, &ph.tissues] {
        assert_eq!(m.geometry(), g);
        assert_eq!(m.dims(), ph.ct.dims());
    }
}

#[test]
fn heights_on_the_label_map_agree_with_truth_within_a_voxel() {
    let mut cfg = small(Level::T11, Level::L5, 2.0);
    cfg.fractures = vec![
        FractureSpec {
            level: Level::T12,
            grade: GenantGrade::Severe,
            shape: FractureShape::Wedge,
            height_loss: None,
        },
        FractureSpec {
            level: Level::L2,
            grade: GenantGrade::Moderate,
            shape: FractureShape::Biconcave,
            height_loss: None,
        },
        FractureSpec {
            level: Level::L4,
            grade: GenantGrade::Mild,
            shape: FractureShape::Crush,
            height_loss: None,
        },
    ];
    let ph = generate(&cfg, None).unwrap();
    let voxel = 2.0;
    let mut checked = 0;
    let mut worst: f64 = 0.0;
    for t in ph
        .truth
        .levels
        .iter()
        .filter(|t| t.visibility == Visibility::Full)
    {
        let Some(h) = &t.heights else { continue };
        for (truth_mm, pts) in [
            (h.anterior_mm, h.anterior_points_mm),
            (h.middle_mm, h.middle_points_mm),
            (h.posterior_mm, h.posterior_points_mm),
        ] {
            let m = run_length(&ph.bodies, t.verse_label, pts[0], pts[1]);
            worst = worst.max((m - truth_mm).abs());
            assert!(
                (m - truth_mm).abs() <= voxel,
                "{}: label-map height {m:.2} mm vs truth {truth_mm:.2} mm",
                t.level
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked} heights checked");
    eprintln!("worst height difference {worst:.2} mm over {checked} heights");
}

#[test]
fn fractures_reduce_the_right_height_to_the_requested_grade() {
    // Fine voxels so that ratios measured on the label map are precise.
    let cases = [
        (Level::L1, FractureShape::Wedge, GenantGrade::Moderate),
        (Level::L2, FractureShape::Biconcave, GenantGrade::Severe),
        (Level::L3, FractureShape::Crush, GenantGrade::Moderate),
        (Level::L4, FractureShape::Wedge, GenantGrade::Mild),
    ];
    let mut cfg = small(Level::T12, Level::L5, 0.8);
    cfg.grid = GridSize::FitLevels {
        inplane_fov_mm: 120.0,
        margin_mm: 5.0,
    };
    cfg.noise_sigma_hu = 0.0;
    cfg.fractures = cases
        .iter()
        .map(|&(level, shape, grade)| FractureSpec {
            level,
            grade,
            shape,
            height_loss: None,
        })
        .collect();
    let ph = generate(&cfg, None).unwrap();
    let meas = |l: Level| -> [f64; 3] {
        let t = level(&ph, l);
        let h = t.heights.as_ref().unwrap();
        [
            h.anterior_points_mm,
            h.middle_points_mm,
            h.posterior_points_mm,
        ]
        .map(|p| run_length(&ph.bodies, t.verse_label, p[0], p[1]))
    };
    for (l, shape, grade) in cases {
        let t = level(&ph, l);
        let f = t.fracture.as_ref().unwrap();
        assert_eq!(f.grade, grade, "{l} truth grade");
        assert_eq!(t.genant_grade, grade);
        let (lo, hi) = grade.height_loss_range();
        assert!(
            f.height_loss >= lo && f.height_loss <= hi,
            "{l}: loss {}",
            f.height_loss
        );
        assert!((f.height_loss - f.requested_height_loss).abs() < 1e-9);
        let [ha, hm, hp] = meas(l);
        let n = t.normal_heights.as_ref().unwrap();
        let loss = match shape {
            FractureShape::Wedge => {
                // Only the anterior height drops.
                assert!(
                    ha < n.anterior_mm - 3.0 && (hp - n.posterior_mm).abs() < 1.0,
                    "{l}"
                );
                1.0 - ha / hp
            }
            FractureShape::Biconcave => {
                assert!(
                    hm < n.middle_mm - 3.0 && (hp - n.posterior_mm).abs() < 1.5,
                    "{l}"
                );
                1.0 - hm / hp
            }
            FractureShape::Crush => {
                assert!(hp < n.posterior_mm - 3.0 && ha < n.anterior_mm - 3.0, "{l}");
                1.0 - hp / f.reference_height_mm
            }
        };
        eprintln!(
            "{l} {shape}: label-map loss {loss:.3}, truth {:.3}",
            f.height_loss
        );
        assert!(
            (loss - f.height_loss).abs() < 0.04,
            "{l}: loss on the label map {loss:.3} vs truth {:.3}",
            f.height_loss
        );
    }
    // Unfractured neighbours stay normal.
    for l in [Level::T12, Level::L5] {
        assert_eq!(level(&ph, l).genant_grade, GenantGrade::Normal);
        assert!(level(&ph, l).fracture.is_none());
    }
}

/// Eigenvector of the smallest eigenvalue of a symmetric 3×3 matrix (Jacobi rotations).
fn smallest_eigenvector(mut a: [[f64; 3]; 3]) -> [f64; 3] {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-15 {
                continue;
            }
            let theta = 0.5 * (a[q][q] - a[p][p]) / a[p][q];
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for row in a.iter_mut() {
                let (akp, akq) = (row[p], row[q]);
                row[p] = c * akp - s * akq;
                row[q] = s * akp + c * akq;
            }
            let (rp, rq) = (a[p], a[q]);
            a[p] = std::array::from_fn(|k| c * rp[k] - s * rq[k]);
            a[q] = std::array::from_fn(|k| s * rp[k] + c * rq[k]);
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    let m = (0..3).min_by(|&i, &j| a[i][i].total_cmp(&a[j][j])).unwrap();
    [v[0][m], v[1][m], v[2][m]]
}

/// Coronal tilt of a body from the second moments of its label-map voxels: the axis of least extent is
/// the body's superior axis (height < depth < width), whose coronal lean gives the endplate tilt.
fn coronal_tilt_from_labels(v: &Volume<u8>, label: u8) -> f64 {
    let g = v.geometry();
    let [ni, nj, nk] = v.dims();
    let mut s = [0.0f64; 3];
    let mut ss = [[0.0f64; 3]; 3];
    let mut n = 0.0;
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                if v.get(i, j, k) == label {
                    let p = g.index_to_world([i as f64, j as f64, k as f64]);
                    for a in 0..3 {
                        s[a] += p[a];
                        for b in 0..3 {
                            ss[a][b] += p[a] * p[b];
                        }
                    }
                    n += 1.0;
                }
            }
        }
    }
    let mut cov = [[0.0; 3]; 3];
    for a in 0..3 {
        for b in 0..3 {
            cov[a][b] = ss[a][b] / n - s[a] * s[b] / (n * n);
        }
    }
    let mut e = smallest_eigenvector(cov);
    if e[2] < 0.0 {
        e = e.map(|x| -x);
    }
    (-e[0]).atan2(e[2]).to_degrees()
}

#[test]
fn coronal_cobb_matches_the_request_in_truth_and_on_the_label_map() {
    for (cobb, convex) in [(30.0, Side::Right), (18.0, Side::Left)] {
        let mut cfg = small(Level::T5, Level::L1, 1.2);
        cfg.grid = GridSize::FitLevels {
            inplane_fov_mm: 180.0,
            margin_mm: 5.0,
        };
        cfg.noise_sigma_hu = 0.0;
        cfg.scoliosis = Some(Scoliosis {
            cobb_deg: cobb,
            apex: Level::T9,
            half_span_levels: 4,
            convex,
        });
        let ph = generate(&cfg, None).unwrap();
        let t = ph
            .truth
            .alignment
            .coronal_curves
            .iter()
            .max_by(|a, b| a.curve.cobb_deg.total_cmp(&b.curve.cobb_deg))
            .expect("a curve");
        let main = &t.curve;
        assert!(
            (main.cobb_deg - cobb).abs() < 0.5,
            "truth Cobb {}",
            main.cobb_deg
        );
        assert_eq!(
            (main.upper_end, main.lower_end, main.apex),
            (Level::T5, Level::L1, Level::T9)
        );
        assert!(t.in_fov);
        assert_eq!(main.convex, convex);
        // From the truth endplates.
        let sup = level(&ph, Level::T5)
            .superior_endplate
            .as_ref()
            .unwrap()
            .coronal_tilt_deg;
        let inf = level(&ph, Level::L1)
            .inferior_endplate
            .as_ref()
            .unwrap()
            .coronal_tilt_deg;
        assert!(((sup - inf).abs() - cobb).abs() < 0.5);
        // Independently from the label map.
        let tu = coronal_tilt_from_labels(&ph.bodies, Level::T5.verse_label());
        let tl = coronal_tilt_from_labels(&ph.bodies, Level::L1.verse_label());
        let measured = (tu - tl).abs();
        eprintln!(
            "requested {cobb}°, truth {:.4}°, label map {measured:.3}°",
            main.cobb_deg
        );
        assert!(
            (measured - cobb).abs() < 0.5,
            "label-map Cobb {measured:.2} vs {cobb}"
        );
        // The apex lies on the convex side of the line joining the end vertebrae's centroids.
        let c = |l: Level| level(&ph, l).centroid_mm.unwrap();
        let (u, a, lo) = (c(Level::T5), c(Level::T9), c(Level::L1));
        let t = (a[2] - lo[2]) / (u[2] - lo[2]);
        let off = a[0] - (lo[0] + t * (u[0] - lo[0]));
        assert!(
            if convex == Side::Right {
                off < -3.0
            } else {
                off > 3.0
            },
            "apex offset {off:.1} mm"
        );
    }
}

#[test]
fn enumeration_variants_give_the_right_label_sets() {
    let labels_of = |ph: &Phantom| {
        let mut seen = [false; 256];
        for &v in ph.labels.data() {
            seen[v as usize] = true;
        }
        seen
    };
    let gen = |e: Enumeration, first: Level, last: Level| {
        let mut c = small(first, last, 3.0);
        c.enumeration = e;
        generate(&c, None).unwrap()
    };
    let ph = gen(Enumeration::L6, Level::L4, Level::Sacrum);
    let s = labels_of(&ph);
    assert!(s[23] && s[24] && s[25] && s[26], "L4, L5, L6, sacrum");
    assert!(ph.discs.data().contains(&25), "L6-S1 disc carries 25");

    let ph = gen(Enumeration::T13, Level::T12, Level::L1);
    let s = labels_of(&ph);
    assert!(s[19] && s[28] && s[20], "T12, T13, L1");
    assert!(level(&ph, Level::T13).ribs);

    let ph = gen(Enumeration::ElevenRibs, Level::T10, Level::L1);
    let s = labels_of(&ph);
    assert!(s[17] && s[18] && s[20] && !s[19], "T10, T11, L1 and no T12");
    assert_eq!(ph.truth.enumeration.pattern, "7C-11T-5L");

    let ph = gen(Enumeration::SacralisedL5, Level::L3, Level::Sacrum);
    let s = labels_of(&ph);
    assert!(
        s[22] && s[23] && s[26] && !s[24],
        "L3, L4, sacrum and no L5"
    );
    assert_eq!(level(&ph, Level::Sacrum).segment, "fused L5");

    // Ribs: non-vertebral bone at the rib heads of T13; none at the same place relative to L1.
    let ph = gen(Enumeration::T13, Level::T13, Level::L2);
    let t13 = level(&ph, Level::T13);
    let l1 = level(&ph, Level::L1);
    assert!(l1.rib_heads_mm.is_none() && !l1.ribs);
    let heads = t13.rib_heads_mm.expect("T13 has rib heads");
    let to_local = |t: &LevelTruth, p: [f64; 3]| {
        let d = [0, 1, 2].map(|a| p[a] - t.body_center_mm[a]);
        let dot = |ax: [f64; 3]| d[0] * ax[0] + d[1] * ax[1] + d[2] * ax[2];
        [
            dot(t.axis_left),
            dot(t.axis_posterior),
            dot(t.axis_superior),
        ]
    };
    let to_world = |t: &LevelTruth, q: [f64; 3]| {
        [0, 1, 2].map(|a| {
            t.body_center_mm[a]
                + q[0] * t.axis_left[a]
                + q[1] * t.axis_posterior[a]
                + q[2] * t.axis_superior[a]
        })
    };
    let rib_bone_near = |c: [f64; 3]| {
        let g = ph.ct.geometry();
        let [ni, nj, nk] = ph.ct.dims();
        let mut n = 0;
        for k in 0..nk {
            for j in 0..nj {
                for i in 0..ni {
                    let p = g.index_to_world([i as f64, j as f64, k as f64]);
                    let d2: f64 = (0..3).map(|a| (p[a] - c[a]).powi(2)).sum();
                    if d2 < 64.0
                        && ph.tissues.get(i, j, k) == Tissue::Bone.code()
                        && ph.labels.get(i, j, k) == 0
                    {
                        n += 1;
                    }
                }
            }
        }
        n
    };
    for h in heads {
        assert!(rib_bone_near(h) > 0, "rib head of T13");
        let same_place_at_l1 = to_world(l1, to_local(t13, h));
        assert_eq!(rib_bone_near(same_place_at_l1), 0, "no rib beside L1");
    }
}

#[test]
fn trabecular_hu_matches_the_request() {
    let mut cfg = small(Level::L1, Level::L3, 1.0);
    cfg.grid = GridSize::FitLevels {
        inplane_fov_mm: 200.0,
        margin_mm: 5.0,
    };
    cfg.trabecular_hu = 120.0;
    cfg.noise_sigma_hu = 20.0;
    let ph = generate(&cfg, None).unwrap();
    let t = level(&ph, Level::L2);
    let h = t.heights.as_ref().unwrap();
    let (a, b) = (0.5 * t.body_width_mm, 0.5 * t.body_depth_mm);
    let g = ph.ct.geometry();
    let [ni, nj, nk] = ph.ct.dims();
    let (mut s, mut n) = (0.0, 0.0);
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let p = g.index_to_world([i as f64, j as f64, k as f64]);
                let d = [0, 1, 2].map(|c| p[c] - t.body_center_mm[c]);
                let dot = |ax: [f64; 3]| d[0] * ax[0] + d[1] * ax[1] + d[2] * ax[2];
                let (x, y, z) = (
                    dot(t.axis_left),
                    dot(t.axis_posterior),
                    dot(t.axis_superior),
                );
                // Core: 5 mm inside the cortex in every direction (a central oval cylinder).
                if (x / (a - 5.0)).powi(2) + (y / (b - 5.0)).powi(2) < 1.0
                    && z.abs() < 0.5 * h.middle_mm - 5.0
                {
                    s += ph.ct.get(i, j, k) as f64;
                    n += 1.0;
                }
            }
        }
    }
    let mean = s / n;
    eprintln!("L2 core mean {mean:.2} HU over {n} voxels");
    // Noise (≈ 24 HU at the centre, correlated over ≈ 2 voxels) and texture (≈ 11 HU SD, 1.3 mm cells)
    // averaged over n voxels; 4 standard errors.
    let se = ((24.0f64.powi(2) * 4.0 + 11.0f64.powi(2) * 2.2) / n).sqrt();
    assert!(n > 3000.0, "{n} core voxels");
    assert!(
        (mean - 120.0).abs() < 4.0 * se + 1.0,
        "core mean {mean:.1} HU over {n} voxels (se {se:.2})"
    );
    assert_eq!(t.trabecular_hu, 120.0);
}

#[test]
fn projections_put_the_landmarks_on_the_vertebrae() {
    let mut cfg = small(Level::L1, Level::Sacrum, 2.0);
    cfg.grid = GridSize::FitLevels {
        inplane_fov_mm: 420.0,
        margin_mm: 110.0,
    };
    let ph = generate(&cfg, None).unwrap();
    assert!(ph.truth.pelvis.femoral_heads_in_fov);
    for view in [ProjectionView::Ap, ProjectionView::Lateral] {
        let p = project(&ph, view);
        let [ni, nj, nk] = ph.bodies.dims();
        assert_eq!(p.image.height, nk);
        let w = p.image.width;
        // Projected body masks per label.
        let mask = |label: u8| -> Vec<bool> {
            let mut m = vec![false; w * nk];
            for k in 0..nk {
                for j in 0..nj {
                    for i in 0..ni {
                        if ph.bodies.get(i, j, k) == label {
                            let col = if view == ProjectionView::Ap { i } else { j };
                            m[(nk - 1 - k) * w + col] = true;
                        }
                    }
                }
            }
            m
        };
        let mut checked = 0;
        for v in p.truth.vertebrae.iter().filter(|v| v.in_image) {
            let label = v.level.verse_label();
            if level(&ph, v.level).visibility != Visibility::Full {
                continue;
            }
            let m = mask(label);
            let near = |px: [f64; 2], r: f64| {
                let (c0, r0) = (px[0].round() as i64, px[1].round() as i64);
                let ri = r.ceil() as i64;
                (-ri..=ri).any(|dr| {
                    (-ri..=ri).any(|dc| {
                        let (c, rr) = (c0 + dc, r0 + dr);
                        c >= 0
                            && rr >= 0
                            && (c as usize) < w
                            && (rr as usize) < nk
                            && m[rr as usize * w + c as usize]
                    })
                })
            };
            assert!(
                near(v.center_px, 0.0),
                "{:?} {}: centre on the body",
                view,
                v.level
            );
            for c in v.corners_px {
                assert!(
                    near(c, 1.5),
                    "{:?} {}: corner {c:?} off the body",
                    view,
                    v.level
                );
            }
            // On the AP view the spine is brighter than the typical ray through the patient on the same row.
            if view == ProjectionView::Ap {
                let row = v.center_px[1].round() as usize;
                let col = v.center_px[0].round() as usize;
                let mut inside: Vec<f32> = (0..w)
                    .map(|c| p.image.get(c, row))
                    .filter(|&x| x > 1.0)
                    .collect();
                inside.sort_by(f32::total_cmp);
                assert!(
                    p.image.get(col, row) > inside[inside.len() / 2],
                    "{:?} {}",
                    view,
                    v.level
                );
            }
            checked += 1;
        }
        assert!(checked >= 6, "{checked} vertebrae checked");
        for h in &p.truth.femoral_heads {
            assert!(h.in_image);
            let v = p.image.get(
                h.center_px[0].round() as usize,
                h.center_px[1].round() as usize,
            );
            assert!(v > 0.0);
        }
        assert!(p.truth.s1_endplate.in_image);
        assert!(p.image.spacing_mm.is_some());
    }
}

#[test]
fn body_composition_follows_the_habitus() {
    let base = small(Level::L2, Level::L4, 2.0);
    let a = generate(&base, None).unwrap();
    let ba = a.truth.body_composition_l3.clone().expect("L3 in view");
    // Areas are the tissue-map counts on the recorded slice.
    let n = a.tissues.dims()[0] * a.tissues.dims()[1];
    let sl = &a.tissues.data()[ba.slice_index * n..(ba.slice_index + 1) * n];
    let count = |t: Tissue| {
        sl.iter().filter(|&&v| v == t.code()).count() as f64 * ba.pixel_area_mm2 / 100.0
    };
    assert!((count(Tissue::Psoas) - ba.psoas_area_cm2).abs() < 1e-9);
    assert!(
        ba.psoas_area_cm2 > 5.0
            && ba.paraspinal_area_cm2 > 20.0
            && ba.subcutaneous_fat_area_cm2 > 50.0
    );
    assert!(ba.skeletal_muscle_area_cm2 > 80.0 && ba.skeletal_muscle_area_cm2 < 300.0);
    let mu = ba.muscle_mean_hu.expect("muscle on the L3 slice");
    assert!((mu - 45.0).abs() < 15.0, "muscle {mu:.1} HU");
    let mut thin = base.clone();
    thin.body.muscle_scale = 0.6;
    thin.body.subcutaneous_fat_mm = 35.0;
    let b = generate(&thin, None).unwrap();
    let bb = b.truth.body_composition_l3.unwrap();
    assert!(bb.skeletal_muscle_area_cm2 < 0.8 * ba.skeletal_muscle_area_cm2);
    assert!(bb.psoas_area_cm2 < 0.6 * ba.psoas_area_cm2);
    assert!(bb.subcutaneous_fat_area_cm2 > 1.3 * ba.subcutaneous_fat_area_cm2);
}

#[test]
fn screws_put_metal_in_the_pedicles() {
    let mut cfg = small(Level::L3, Level::L5, 1.0);
    cfg.grid = GridSize::FitLevels {
        inplane_fov_mm: 200.0,
        margin_mm: 5.0,
    };
    cfg.screws = vec![Level::L4, Level::L5];
    let ph = generate(&cfg, None).unwrap();
    assert_eq!(ph.truth.screws.len(), 4);
    let g = ph.ct.geometry();
    for s in &ph.truth.screws {
        // Midway along the screw the CT is metal and the label is the instrumented vertebra.
        let m = [0, 1, 2].map(|a| 0.5 * (s.entry_mm[a] + s.tip_mm[a]));
        let idx = g.world_to_index(m).map(|x| x.round() as usize);
        assert!(
            ph.ct.get(idx[0], idx[1], idx[2]) > 2500,
            "{} {}",
            s.level,
            s.side
        );
        assert_eq!(ph.labels.get(idx[0], idx[1], idx[2]), s.level.verse_label());
        assert!(
            s.diameter_mm <= level(&ph, s.level).pedicles.as_ref().unwrap()[0].isthmus_width_mm
        );
    }
    let p = level(&ph, Level::L3).pedicles.as_ref().unwrap();
    assert_eq!(p[0].side, "right");
    assert!((p[0].isthmus_width_mm - 8.7).abs() < 1e-9);
    assert!((p[1].transverse_angle_deg - 15.0).abs() < 1e-6);
    // The entry point lies on the posterior bone surface, the isthmus inside the vertebra.
    let lab = |q: [f64; 3]| {
        let i = g.world_to_index(q).map(|x| x.round() as usize);
        ph.labels.get(i[0], i[1], i[2])
    };
    assert_eq!(lab(p[1].isthmus_center_mm), 22);
    let out = [0, 1, 2].map(|a| p[1].entry_point_mm[a] - 3.0 * p[1].direction[a]);
    assert_eq!(lab(out), 0);
}

#[test]
fn truth_round_trips_through_json_and_bad_fields_of_view_are_refused() {
    let ph = generate(&small(Level::L3, Level::L4, 3.0), None).unwrap();
    let j = serde_json::to_string(&ph.truth).unwrap();
    let back: spinekit_phantom::Truth = serde_json::from_str(&j).unwrap();
    assert_eq!(back, ph.truth);
    assert!(
        j.contains("\"anterior_mm\"") && j.contains("\"cobb_deg\"") || j.contains("coronal_curves")
    );
    let cfg = PhantomConfig {
        first_level: Level::T1,
        grid: GridSize::Dims { dims: [64, 64, 50] },
        voxel_size_mm: [3.0; 3],
        ..PhantomConfig::default()
    };
    let err = generate(&cfg, None).unwrap_err();
    assert!(matches!(err, PhantomError::FieldOfView(_)), "{err}");
    assert!(err.to_string().contains("T1"));
    // Progress is reported, ending at 1.
    let last = std::cell::Cell::new(0.0f32);
    let cb = |_: &str, f: f32| last.set(f);
    generate(&small(Level::L3, Level::L3, 3.0), Some(&cb)).unwrap();
    assert_eq!(last.get(), 1.0);
}

#[test]
fn lordosis_kyphosis_and_pelvis_in_truth_follow_the_request() {
    let mut cfg = small(Level::T4, Level::Sacrum, 3.0);
    cfg.sagittal.lumbar_lordosis_deg = 48.0;
    cfg.sagittal.thoracic_kyphosis_deg = 35.0;
    cfg.sagittal.sacral_slope_deg = 36.0;
    cfg.sagittal.pelvic_tilt_deg = 18.0;
    let ph = generate(&cfg, None).unwrap();
    let a = &ph.truth.alignment;
    let ll = a.lumbar_lordosis.as_ref().unwrap();
    let tk = a.thoracic_kyphosis.as_ref().unwrap();
    assert!((ll.deg - 48.0).abs() < 1e-6 && ll.in_fov);
    assert!((tk.deg - 35.0).abs() < 1e-6 && tk.in_fov && tk.lower == Level::T12);
    let p = &ph.truth.pelvis;
    assert!((p.sacral_slope_deg - 36.0).abs() < 1e-6);
    assert!((p.pelvic_tilt_deg - 18.0).abs() < 1e-6);
    assert!((p.pelvic_incidence_deg - 54.0).abs() < 1e-6);
    assert!(a.coronal_curves.is_empty() && a.max_coronal_cobb_deg == 0.0);
}

/// Positive oral contrast: the small bowel's fluid reads the configured HU (noise aside), the rest of the body is
/// unchanged, and the default (none) leaves the fluid at water.
#[test]
fn oral_contrast_fills_the_small_bowel() {
    let mut cfg = small(Level::L1, Level::Sacrum, 3.0);
    cfg.noise_sigma_hu = 0.0;
    let plain = generate(&cfg, None).unwrap();
    cfg.oral_contrast_hu = Some(400.0);
    let oral = generate(&cfg, None).unwrap();
    let bowel = Tissue::Bowel.code();
    let (mut dense, mut changed_elsewhere) = (0usize, 0usize);
    for ((&t, &a), &b) in plain
        .tissues
        .data()
        .iter()
        .zip(plain.ct.data())
        .zip(oral.ct.data())
    {
        if t == bowel {
            dense += usize::from(b >= 350 && a < 100);
        } else if a != b {
            changed_elsewhere += 1;
        }
    }
    // At least 20 ml of 3 mm voxels of contrast-filled lumen.
    assert!(dense as f64 * 27.0 / 1000.0 >= 20.0, "{dense} voxels");
    // Outside the bowel only partial-volumed voxels at its surface change.
    assert!(changed_elsewhere < dense, "{changed_elsewhere} of {dense}");
}
