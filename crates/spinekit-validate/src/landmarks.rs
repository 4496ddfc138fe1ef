//! Vertebra labelling: centroids of label maps and the VerSe identification rate.

use crate::segmentation::LabelVoxel;
use serde::Serialize;
use spinekit_image::Volume;
use std::collections::BTreeMap;

/// VerSe's identification radius: a level is identified only if its predicted centroid is within 20 mm.
pub const IDENTIFICATION_RADIUS_MM: f64 = 20.0;

/// Centroid (mean voxel-centre position, LPS mm) of every non-zero label.
pub fn label_centroids_mm<T: LabelVoxel>(v: &Volume<T>) -> BTreeMap<u16, [f64; 3]> {
    let [n0, n1, _] = v.dims();
    let mut sums: BTreeMap<u16, ([f64; 3], u64)> = BTreeMap::new();
    for (n, &x) in v.data().iter().enumerate() {
        let l = x.label();
        if l == 0 {
            continue;
        }
        let e = sums.entry(l).or_insert(([0.0; 3], 0));
        e.0[0] += (n % n0) as f64;
        e.0[1] += ((n / n0) % n1) as f64;
        e.0[2] += (n / (n0 * n1)) as f64;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|(l, (s, c))| {
            let c = c as f64;
            (
                l,
                v.geometry().index_to_world([s[0] / c, s[1] / c, s[2] / c]),
            )
        })
        .collect()
}

/// How one reference level fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelResult {
    pub label: u16,
    /// Distance from the predicted to the reference centroid of this level, mm (`None`: not predicted).
    pub distance_mm: Option<f64>,
    pub identified: bool,
}

/// Identification over one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identification {
    pub levels: Vec<LevelResult>,
    pub reference_levels: usize,
    pub identified_levels: usize,
    /// Identified / reference levels (VerSe id.rate); NaN without reference levels.
    pub rate: f64,
    /// Mean centroid distance over levels present in both (VerSe d_mean), mm.
    pub mean_localisation_mm: Option<f64>,
    /// Predicted levels absent from the reference (false detections).
    pub extra_predicted_levels: Vec<u16>,
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// VerSe identification rate (Sekuboyina et al. 2021, Med Image Anal 73:102166, §4.1): reference level i is
/// identified when its predicted centroid x̂ᵢ exists, ‖x̂ᵢ − xᵢ‖ < `radius_mm` (20 mm), and x̂ᵢ is the closest
/// of all predicted centroids to xᵢ (no other predicted level strictly closer). Rate = identified / reference
/// levels. Centroids in LPS mm.
pub fn identification_rate(
    pred: &BTreeMap<u16, [f64; 3]>,
    reference: &BTreeMap<u16, [f64; 3]>,
    radius_mm: f64,
) -> Identification {
    let mut levels = Vec::with_capacity(reference.len());
    let mut localisation = Vec::new();
    for (&l, &x) in reference {
        let r = match pred.get(&l) {
            None => LevelResult {
                label: l,
                distance_mm: None,
                identified: false,
            },
            Some(&p) => {
                let d = dist(p, x);
                localisation.push(d);
                let closest = pred.iter().all(|(&m, &q)| m == l || dist(q, x) >= d);
                LevelResult {
                    label: l,
                    distance_mm: Some(d),
                    identified: d < radius_mm && closest,
                }
            }
        };
        levels.push(r);
    }
    let identified = levels.iter().filter(|l| l.identified).count();
    Identification {
        reference_levels: levels.len(),
        identified_levels: identified,
        rate: identified as f64 / levels.len() as f64,
        mean_localisation_mm: (!localisation.is_empty())
            .then(|| localisation.iter().sum::<f64>() / localisation.len() as f64),
        extra_predicted_levels: pred
            .keys()
            .filter(|l| !reference.contains_key(l))
            .copied()
            .collect(),
        levels,
    }
}
