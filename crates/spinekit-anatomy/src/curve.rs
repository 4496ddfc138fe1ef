//! A coronal (scoliotic) curve: one type for what is measured and what a phantom's truth says, so the two are
//! compared field by field.

use crate::Level;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Side of the patient (a curve's convexity, a pedicle, a transverse process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// A Cobb curve: end vertebrae, apex, the angle between the end vertebrae's tilted endplates and the convex side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CobbCurve {
    pub upper_end: Level,
    pub lower_end: Level,
    pub apex: Level,
    pub cobb_deg: f64,
    pub convex: Side,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_serialises_lowercase_and_displays_the_same() {
        for (s, t) in [(Side::Left, "left"), (Side::Right, "right")] {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{t}\""));
            assert_eq!(s.to_string(), t);
        }
    }
}
