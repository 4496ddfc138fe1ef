use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Genant semiquantitative fracture grade (Genant HK et al., J Bone Miner Res 1993;8:1137–48; clinical-reference §1.2).
///
/// Grades from the height reduction of any of Ha/Hm/Hp, with the implementation convention of clinical-reference
/// §1.2 for the (visually estimated) boundaries: normal < 20 %; mild 20 % ≤ loss < 25 %; moderate 25 % ≤ loss ≤ 40 %;
/// severe > 40 %. Serialised as a lowercase name; [`value`](Self::value) gives the 0–3 number.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum GenantGrade {
    #[default]
    Normal = 0,
    Mild = 1,
    Moderate = 2,
    Severe = 3,
}

impl GenantGrade {
    pub const ALL: [GenantGrade; 4] = [
        GenantGrade::Normal,
        GenantGrade::Mild,
        GenantGrade::Moderate,
        GenantGrade::Severe,
    ];

    /// Grade for a height loss given as a fraction (0.3 = 30 %); `None` when the fraction is not finite.
    /// A negative loss (the measured height exceeds the reference) is normal.
    pub fn from_height_loss(fraction: f64) -> Option<GenantGrade> {
        if !fraction.is_finite() {
            return None;
        }
        Some(if fraction < 0.20 {
            GenantGrade::Normal
        } else if fraction < 0.25 {
            GenantGrade::Mild
        } else if fraction <= 0.40 {
            GenantGrade::Moderate
        } else {
            GenantGrade::Severe
        })
    }

    /// The grade's range of height loss as fractions `(lowest, highest)`; severe is capped at 1.
    /// Boundaries are inclusive or exclusive as in [`from_height_loss`](Self::from_height_loss).
    pub fn height_loss_range(self) -> (f64, f64) {
        match self {
            GenantGrade::Normal => (0.0, 0.20),
            GenantGrade::Mild => (0.20, 0.25),
            GenantGrade::Moderate => (0.25, 0.40),
            GenantGrade::Severe => (0.40, 1.0),
        }
    }

    /// 0–3.
    pub fn value(self) -> u8 {
        self as u8
    }

    pub fn from_value(v: u8) -> Option<GenantGrade> {
        GenantGrade::ALL.get(v as usize).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            GenantGrade::Normal => "normal",
            GenantGrade::Mild => "mild",
            GenantGrade::Moderate => "moderate",
            GenantGrade::Severe => "severe",
        }
    }
}

impl fmt::Display for GenantGrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown grade or shape name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a {1}")]
pub struct ParseNameError(pub String, pub &'static str);

impl FromStr for GenantGrade {
    type Err = ParseNameError;
    /// Accepts the name ("moderate") or the number ("2").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        if let Ok(v) = t.parse::<u8>() {
            return GenantGrade::from_value(v)
                .ok_or_else(|| ParseNameError(s.into(), "Genant grade (0–3)"));
        }
        GenantGrade::ALL
            .into_iter()
            .find(|g| g.name() == t)
            .ok_or_else(|| {
                ParseNameError(s.into(), "Genant grade (normal, mild, moderate, severe)")
            })
    }
}

/// Morphological type of a vertebral deformity (Lenchik 2004; clinical-reference §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FractureShape {
    /// Anterior height reduced; graded on Ha/Hp.
    Wedge,
    /// Middle height reduced; graded on Hm/Hp.
    Biconcave,
    /// Whole body reduced; graded on Hp against the adjacent vertebrae.
    Crush,
}

impl FractureShape {
    pub const ALL: [FractureShape; 3] = [
        FractureShape::Wedge,
        FractureShape::Biconcave,
        FractureShape::Crush,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FractureShape::Wedge => "wedge",
            FractureShape::Biconcave => "biconcave",
            FractureShape::Crush => "crush",
        }
    }
}

impl fmt::Display for FractureShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FractureShape {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let t = if t == "compression" {
            "crush".to_string()
        } else {
            t
        };
        FractureShape::ALL
            .into_iter()
            .find(|g| g.name() == t)
            .ok_or_else(|| ParseNameError(s.into(), "fracture shape (wedge, biconcave, crush)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grade_boundaries_follow_the_reference_convention() {
        let cases = [
            (-0.1, GenantGrade::Normal),
            (0.0, GenantGrade::Normal),
            (0.1999, GenantGrade::Normal),
            (0.20, GenantGrade::Mild),
            (0.2499, GenantGrade::Mild),
            (0.25, GenantGrade::Moderate),
            (0.40, GenantGrade::Moderate),
            (0.4001, GenantGrade::Severe),
            (0.9, GenantGrade::Severe),
        ];
        for (loss, g) in cases {
            assert_eq!(GenantGrade::from_height_loss(loss), Some(g), "{loss}");
        }
        assert_eq!(GenantGrade::from_height_loss(f64::NAN), None);
        assert_eq!(GenantGrade::from_height_loss(f64::INFINITY), None);
    }

    #[test]
    fn range_midpoints_grade_back_to_the_grade() {
        for g in GenantGrade::ALL {
            let (lo, hi) = g.height_loss_range();
            assert_eq!(GenantGrade::from_height_loss(0.5 * (lo + hi)), Some(g));
            assert_eq!(GenantGrade::from_value(g.value()), Some(g));
            assert_eq!(g.name().parse::<GenantGrade>().unwrap(), g);
            assert_eq!(g.value().to_string().parse::<GenantGrade>().unwrap(), g);
        }
        assert!("4".parse::<GenantGrade>().is_err());
        assert_eq!(
            serde_json::to_string(&GenantGrade::Moderate).unwrap(),
            "\"moderate\""
        );
    }

    #[test]
    fn shapes_parse() {
        for s in FractureShape::ALL {
            assert_eq!(s.to_string().parse::<FractureShape>().unwrap(), s);
        }
        assert_eq!(
            "Compression".parse::<FractureShape>().unwrap(),
            FractureShape::Crush
        );
        assert!("burst".parse::<FractureShape>().is_err());
    }
}
