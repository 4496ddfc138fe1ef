use crate::{Enumeration, Level};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An intervertebral disc between two adjacent levels, named like "L4-L5" or "L5-S1".
///
/// Label maps store a disc under the VerSe label of its **upper** vertebra (L4-L5 → 23), as
/// [`label`](Self::label) returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Disc {
    pub upper: Level,
    pub lower: Level,
}

/// Error for a disc name that does not name two levels, or levels that are not adjacent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a disc name such as L4-L5 or L5-S1")]
pub struct ParseDiscError(pub String);

impl Disc {
    /// The disc below `upper` in `enumeration` (`None` for the sacrum, C1, or a level absent from it).
    /// There is no disc between C1 and C2 (atlanto-axial joints).
    pub fn below(upper: Level, enumeration: Enumeration) -> Option<Disc> {
        if upper == Level::C1 {
            return None;
        }
        upper
            .next_caudal(enumeration)
            .map(|lower| Disc { upper, lower })
    }

    /// Every disc of `enumeration`, cranial first (C2-C3 … last lumbar-S1).
    pub fn all(enumeration: Enumeration) -> Vec<Disc> {
        enumeration
            .levels()
            .into_iter()
            .filter_map(|l| Disc::below(l, enumeration))
            .collect()
    }

    /// Label value in disc maps: the VerSe label of the upper vertebra.
    pub fn label(self) -> u8 {
        self.upper.verse_label()
    }

    pub fn name(self) -> String {
        format!("{}-{}", self.upper.short_name(), self.lower.short_name())
    }
}

impl fmt::Display for Disc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Disc {
    type Err = ParseDiscError;
    /// Parses "L4-L5", "l5/s1", "T12-L1"; the upper level must be cranial to the lower one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseDiscError(s.to_string());
        let (a, b) = s.split_once(['-', '/']).ok_or_else(err)?;
        let upper: Level = a.parse().map_err(|_| err())?;
        let lower: Level = b.parse().map_err(|_| err())?;
        if upper >= lower || upper == Level::Sacrum {
            return Err(err());
        }
        Ok(Disc { upper, lower })
    }
}

impl TryFrom<String> for Disc {
    type Error = ParseDiscError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Disc> for String {
    fn from(d: Disc) -> String {
        d.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels() {
        let d = Disc::below(Level::L4, Enumeration::Normal).unwrap();
        assert_eq!(d.name(), "L4-L5");
        assert_eq!(d.label(), 23);
        let d = Disc::below(Level::L5, Enumeration::Normal).unwrap();
        assert_eq!(d.name(), "L5-S1");
        assert_eq!(d.lower, Level::Sacrum);
        assert_eq!(
            Disc::below(Level::L4, Enumeration::SacralisedL5)
                .unwrap()
                .name(),
            "L4-S1"
        );
        assert_eq!(
            Disc::below(Level::T12, Enumeration::T13).unwrap().name(),
            "T12-T13"
        );
        assert_eq!(Disc::below(Level::C1, Enumeration::Normal), None);
        assert_eq!(Disc::below(Level::Sacrum, Enumeration::Normal), None);
    }

    #[test]
    fn every_disc_round_trips() {
        for e in Enumeration::ALL {
            let discs = Disc::all(e);
            assert_eq!(discs.len(), e.presacral_count() - 1, "{e}");
            for d in discs {
                assert_eq!(d.name().parse::<Disc>().unwrap(), d);
                let j = serde_json::to_string(&d).unwrap();
                assert_eq!(serde_json::from_str::<Disc>(&j).unwrap(), d);
            }
        }
        assert!("L5-L4".parse::<Disc>().is_err());
        assert!("L4".parse::<Disc>().is_err());
        assert_eq!("l5/s1".parse::<Disc>().unwrap().name(), "L5-S1");
    }
}
