//! The learning problem (features + class target) and feature preprocessing fitted on training rows only:
//! median / most-frequent imputation with a missing-indicator, standardisation, one-hot categories.

use crate::error::{LearnError, Result};
use crate::table::{Column, ColumnValues, Table};
use serde::{Deserialize, Serialize};

/// Features and a class outcome taken from a table.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub target: String,
    /// Feature columns in model order.
    pub features: Vec<Column>,
    /// Class index of every row, into `classes`.
    pub y: Vec<usize>,
    /// Class labels, sorted (numerically when the target is numeric).
    pub classes: Vec<String>,
}

impl Dataset {
    /// Takes `target` as the outcome and `features` (default: every other column) as predictors.
    /// Errors: missing target or feature column, a row without outcome, a single class.
    pub fn from_table(t: &Table, target: &str, features: Option<&[String]>) -> Result<Dataset> {
        if t.n_rows == 0 {
            return Err(LearnError::Empty);
        }
        let tc = t.column(target)?;
        let mut labels = Vec::with_capacity(t.n_rows);
        for row in 0..t.n_rows {
            match tc.text(row) {
                Some(s) => labels.push(s),
                None => {
                    return Err(LearnError::MissingTarget {
                        column: target.to_string(),
                        row: row + 1,
                    })
                }
            }
        }
        let mut classes: Vec<String> = labels.clone();
        match &tc.values {
            ColumnValues::Numeric(_) => classes.sort_by(|a, b| {
                a.parse::<f64>()
                    .unwrap_or(0.0)
                    .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
            }),
            ColumnValues::Categorical(_) => classes.sort(),
        }
        classes.dedup();
        if classes.len() < 2 {
            return Err(LearnError::OneClass {
                column: target.to_string(),
                class: classes.first().cloned().unwrap_or_default(),
            });
        }
        let y = labels
            .iter()
            .map(|l| classes.iter().position(|c| c == l).unwrap_or(0))
            .collect();
        let names: Vec<String> = match features {
            Some(f) => f.to_vec(),
            None => t
                .column_names()
                .into_iter()
                .filter(|n| n != target)
                .collect(),
        };
        if names.is_empty() {
            return Err(LearnError::Invalid(
                "no feature columns: the table has only the target column".into(),
            ));
        }
        if names.iter().any(|n| n == target) {
            return Err(LearnError::Invalid(format!(
                "the target column '{target}' cannot also be a feature"
            )));
        }
        let features = names
            .iter()
            .map(|n| t.column(n).cloned())
            .collect::<Result<Vec<_>>>()?;
        Ok(Dataset {
            target: target.to_string(),
            features,
            y,
            classes,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.classes.len()];
        for &k in &self.y {
            c[k] += 1;
        }
        c
    }
}

/// Dense row-major matrix of model inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub n_rows: usize,
    pub n_cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }
}

/// How one source column becomes model inputs, with the statistics learned on the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FeatureTransform {
    /// (t(x) − mean) / sd after imputing the median; `indicator` adds a 0/1 "was missing" input.
    /// t(x) = asinh((x − median) / asinh_scale) for a heavy-tailed column when that was chosen (a signed
    /// log-like squashing of long tails), else t(x) = x; mean and sd are of t(x) on the training rows.
    Numeric {
        name: String,
        median: f64,
        mean: f64,
        sd: f64,
        indicator: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asinh_scale: Option<f64>,
    },
    /// One 0/1 input per training level (an unseen level gives all zeros); missing → most frequent level.
    Categorical {
        name: String,
        levels: Vec<String>,
        mode: String,
        indicator: bool,
    },
}

impl FeatureTransform {
    pub fn name(&self) -> &str {
        match self {
            FeatureTransform::Numeric { name, .. } | FeatureTransform::Categorical { name, .. } => {
                name
            }
        }
    }

    fn width(&self) -> usize {
        match self {
            FeatureTransform::Numeric { indicator, .. } => 1 + *indicator as usize,
            FeatureTransform::Categorical {
                levels, indicator, ..
            } => levels.len() + *indicator as usize,
        }
    }
}

/// |Sample skewness| above which a numeric column counts as heavy-tailed (Bulmer 1979: > 1 is "highly
/// skewed"; 1.5 keeps the transform to clearly long-tailed columns such as degree_spondylolisthesis).
pub const HEAVY_TAIL_SKEWNESS: f64 = 1.5;

/// Scale of the asinh squashing: the median absolute deviation from the median, or the SD when the MAD is 0.
fn asinh_scale_of(sorted: &[f64], median: f64) -> Option<f64> {
    let n = sorted.len();
    if n < 3 {
        return None;
    }
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let m2 = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    let m3 = sorted.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n as f64;
    if m2 <= 1e-300 || (m3 / m2.powf(1.5)).abs() <= HEAVY_TAIL_SKEWNESS {
        return None;
    }
    let mut dev: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median_sorted(&dev);
    Some(if mad > 1e-12 { mad } else { m2.sqrt() })
}

fn squash(x: f64, median: f64, scale: Option<f64>) -> f64 {
    match scale {
        Some(s) => ((x - median) / s).asinh(),
        None => x,
    }
}

/// Fitted preprocessing for all feature columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub features: Vec<FeatureTransform>,
}

impl Preprocessor {
    /// Learns imputation values, scaling and levels from `rows` of `cols` only.
    pub fn fit(cols: &[Column], rows: &[usize]) -> Preprocessor {
        Self::fit_with(cols, rows, false)
    }

    /// As [`Preprocessor::fit`]; with `heavy_tail`, numeric columns whose training skewness exceeds
    /// [`HEAVY_TAIL_SKEWNESS`] are asinh-squashed before standardisation.
    pub fn fit_with(cols: &[Column], rows: &[usize], heavy_tail: bool) -> Preprocessor {
        let features = cols
            .iter()
            .map(|c| match &c.values {
                ColumnValues::Numeric(v) => {
                    let mut present: Vec<f64> = rows.iter().filter_map(|&r| v[r]).collect();
                    present.sort_by(f64::total_cmp);
                    let median = median_sorted(&present);
                    let asinh_scale = if heavy_tail {
                        asinh_scale_of(&present, median)
                    } else {
                        None
                    };
                    let indicator = present.len() < rows.len();
                    let n = rows.len().max(1) as f64;
                    let imputed = rows
                        .iter()
                        .map(|&r| squash(v[r].unwrap_or(median), median, asinh_scale));
                    let mean = imputed.clone().sum::<f64>() / n;
                    let var = imputed.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                    let sd = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
                    FeatureTransform::Numeric {
                        name: c.name.clone(),
                        median,
                        mean,
                        sd,
                        indicator,
                        asinh_scale,
                    }
                }
                ColumnValues::Categorical(v) => {
                    let mut levels: Vec<String> =
                        rows.iter().filter_map(|&r| v[r].clone()).collect();
                    levels.sort();
                    levels.dedup();
                    let count =
                        |l: &String| rows.iter().filter(|&&r| v[r].as_ref() == Some(l)).count();
                    let mode = levels
                        .iter()
                        .max_by(|a, b| count(a).cmp(&count(b)).then(b.cmp(a)))
                        .cloned()
                        .unwrap_or_default();
                    let indicator = rows.iter().any(|&r| v[r].is_none());
                    FeatureTransform::Categorical {
                        name: c.name.clone(),
                        levels,
                        mode,
                        indicator,
                    }
                }
            })
            .collect();
        Preprocessor { features }
    }

    /// Number of model inputs.
    pub fn width(&self) -> usize {
        self.features.iter().map(FeatureTransform::width).sum()
    }

    /// Input names, e.g. `age`, `age (missing)`, `sex=F`.
    pub fn output_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.width());
        for f in &self.features {
            match f {
                FeatureTransform::Numeric {
                    name, indicator, ..
                } => {
                    out.push(name.clone());
                    if *indicator {
                        out.push(format!("{name} (missing)"));
                    }
                }
                FeatureTransform::Categorical {
                    name,
                    levels,
                    indicator,
                    ..
                } => {
                    out.extend(levels.iter().map(|l| format!("{name}={l}")));
                    if *indicator {
                        out.push(format!("{name} (missing)"));
                    }
                }
            }
        }
        out
    }

    /// For every model input, the index of the source feature it came from (to sum SHAP values per column).
    pub fn output_source(&self) -> Vec<usize> {
        self.features
            .iter()
            .enumerate()
            .flat_map(|(i, f)| std::iter::repeat_n(i, f.width()))
            .collect()
    }

    /// Model inputs for `rows` of `cols` (same order and kinds as at fit time).
    pub fn transform(&self, cols: &[Column], rows: &[usize]) -> Matrix {
        let w = self.width();
        let mut data = vec![0.0; rows.len() * w];
        for (i, &r) in rows.iter().enumerate() {
            let out = &mut data[i * w..(i + 1) * w];
            let mut o = 0;
            for (f, c) in self.features.iter().zip(cols) {
                match (f, &c.values) {
                    (
                        FeatureTransform::Numeric {
                            median,
                            mean,
                            sd,
                            indicator,
                            asinh_scale,
                            ..
                        },
                        ColumnValues::Numeric(v),
                    ) => {
                        out[o] =
                            (squash(v[r].unwrap_or(*median), *median, *asinh_scale) - mean) / sd;
                        o += 1;
                        if *indicator {
                            out[o] = v[r].is_none() as u8 as f64;
                            o += 1;
                        }
                    }
                    (
                        FeatureTransform::Categorical {
                            levels,
                            mode,
                            indicator,
                            ..
                        },
                        values,
                    ) => {
                        let cell = match values {
                            ColumnValues::Categorical(v) => v[r].clone(),
                            ColumnValues::Numeric(v) => v[r].map(|x| x.to_string()),
                        };
                        let level = cell.as_ref().unwrap_or(mode);
                        if let Some(k) = levels.iter().position(|l| l == level) {
                            out[o + k] = 1.0;
                        }
                        o += levels.len();
                        if *indicator {
                            out[o] = cell.is_none() as u8 as f64;
                            o += 1;
                        }
                    }
                    // Kinds are checked before transforming (SavedModel::align); a mismatch here is treated as missing.
                    (FeatureTransform::Numeric { indicator, .. }, ColumnValues::Categorical(_)) => {
                        o += 1;
                        if *indicator {
                            out[o] = 1.0;
                            o += 1;
                        }
                    }
                }
            }
        }
        Matrix {
            n_rows: rows.len(),
            n_cols: w,
            data,
        }
    }
}

fn median_sorted(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ReadOptions;

    fn table(s: &str) -> Table {
        Table::parse(s, &ReadOptions::default()).unwrap()
    }

    #[test]
    fn fitted_on_training_rows_only() {
        let t = table("x,c,y\n1,a,p\n3,b,q\n,a,p\n100,z,q\n");
        let d = Dataset::from_table(&t, "y", None).unwrap();
        assert_eq!(d.classes, vec!["p", "q"]);
        assert_eq!(d.y, vec![0, 1, 0, 1]);
        let p = Preprocessor::fit(&d.features, &[0, 1, 2]);
        // median of {1, 3} = 2; imputed training values 1, 3, 2: mean 2, sd √(2/3).
        let FeatureTransform::Numeric {
            median,
            mean,
            sd,
            indicator,
            ..
        } = &p.features[0]
        else {
            panic!()
        };
        assert_eq!((*median, *mean, *indicator), (2.0, 2.0, true));
        assert!((sd - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(p.output_names(), vec!["x", "x (missing)", "c=a", "c=b"]);
        assert_eq!(p.output_source(), vec![0, 0, 1, 1]);
        let m = p.transform(&d.features, &[2, 3]);
        assert_eq!(m.row(0), &[0.0, 1.0, 1.0, 0.0]);
        // the unseen level 'z' of the held-out row gets no one-hot input
        assert_eq!(m.row(1)[2..], [0.0, 0.0]);
        assert!((m.row(1)[0] - 98.0 / sd).abs() < 1e-9);
    }

    #[test]
    fn heavy_tailed_columns_are_squashed_only_when_asked() {
        // 1..9 and one 1000: skewness ≈ 2.7; the second column is symmetric.
        let mut csv = String::from("x,z,y\n");
        for i in 1..=9 {
            csv.push_str(&format!("{i},{i},{}\n", if i % 2 == 0 { "a" } else { "b" }));
        }
        csv.push_str("1000,5,a\n");
        let t = table(&csv);
        let d = Dataset::from_table(&t, "y", None).unwrap();
        let rows: Vec<usize> = (0..10).collect();
        let plain = Preprocessor::fit(&d.features, &rows);
        assert!(matches!(
            plain.features[0],
            FeatureTransform::Numeric {
                asinh_scale: None,
                ..
            }
        ));
        let p = Preprocessor::fit_with(&d.features, &rows, true);
        let FeatureTransform::Numeric {
            median,
            asinh_scale: Some(s),
            ..
        } = p.features[0]
        else {
            panic!("x should be squashed")
        };
        // median 5.5; |x − 5.5| = 4.5, 3.5, …, 994.5 → MAD = 2.5
        assert_eq!((median, s), (5.5, 2.5));
        assert!(matches!(
            p.features[1],
            FeatureTransform::Numeric {
                asinh_scale: None,
                ..
            }
        ));
        let m = p.transform(&d.features, &rows);
        // standardised transformed inputs have mean 0 and population SD 1
        let col: Vec<f64> = (0..10).map(|i| m.row(i)[0]).collect();
        let mean = col.iter().sum::<f64>() / 10.0;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 10.0).sqrt();
        assert!(mean.abs() < 1e-12 && (sd - 1.0).abs() < 1e-12);
        // the outlier enters as asinh((1000 − 5.5) / 2.5) before standardisation
        let FeatureTransform::Numeric {
            mean: mu, sd: s_t, ..
        } = p.features[0]
        else {
            unreachable!()
        };
        assert!((col[9] * s_t + mu - (994.5f64 / 2.5).asinh()).abs() < 1e-9);
    }

    #[test]
    fn target_errors() {
        let t = table("x,y\n1,a\n2,a\n");
        assert_eq!(
            Dataset::from_table(&t, "y", None).unwrap_err().to_string(),
            "target column 'y' has only one class ('a'); a model needs at least two outcomes to learn from"
        );
        assert!(matches!(
            Dataset::from_table(&t, "outcome", None),
            Err(LearnError::MissingColumn { .. })
        ));
        let t = table("x,y\n1,a\n2,\n");
        assert!(matches!(
            Dataset::from_table(&t, "y", None),
            Err(LearnError::MissingTarget { row: 2, .. })
        ));
    }
}
