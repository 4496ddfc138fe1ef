use crate::{Level, Region};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the spine is segmented: the normal 7C-12T-5L pattern or one of the common variants (clinical-reference §9).
///
/// Labelling follows VerSe'20: L1 is the first vertebra without ribs (or with rib remnants < 4 cm), the last
/// thoracic vertebra carries a rib > 4 cm, and a vertebra fused to the sacrum (Castellvi III/IV) is part of the
/// sacrum, not lumbar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enumeration {
    /// 7 cervical, 12 thoracic (12 rib pairs), 5 lumbar, sacrum.
    #[default]
    Normal,
    /// 7C-12T-6L: a sixth free lumbar vertebra (VerSe label 25), 24 + 1 presacral.
    L6,
    /// 7C-13T-5L: a 13th rib-bearing thoracic vertebra (VerSe label 28).
    T13,
    /// 7C-11T-5L: 11 rib pairs, so T12 is absent from the labels (the commoner 11-rib pattern, 23 presacral).
    ElevenRibs,
    /// 7C-12T-4L: L5 is fused to the sacrum (Castellvi III/IV) and labelled as sacrum; L1–L4 are free.
    SacralisedL5,
}

impl Enumeration {
    pub const ALL: [Enumeration; 5] = [
        Enumeration::Normal,
        Enumeration::L6,
        Enumeration::T13,
        Enumeration::ElevenRibs,
        Enumeration::SacralisedL5,
    ];

    /// Levels present, cranial to caudal, ending with the sacrum.
    pub fn levels(self) -> Vec<Level> {
        Level::ALL
            .into_iter()
            .filter(|&l| self.contains(l))
            .collect()
    }

    /// Whether `level` exists as a separately labelled vertebra in this enumeration.
    pub fn contains(self, level: Level) -> bool {
        match level {
            Level::T13 => self == Enumeration::T13,
            Level::L6 => self == Enumeration::L6,
            Level::T12 => self != Enumeration::ElevenRibs,
            Level::L5 => self != Enumeration::SacralisedL5,
            _ => true,
        }
    }

    /// Whether `level` carries a rib pair (> 4 cm): every thoracic level present.
    pub fn is_rib_bearing(self, level: Level) -> bool {
        self.contains(level) && level.region() == Region::Thoracic
    }

    /// Number of thoracic (rib-bearing) vertebrae.
    pub fn thoracic_count(self) -> usize {
        self.levels()
            .into_iter()
            .filter(|l| l.region() == Region::Thoracic)
            .count()
    }

    /// Number of free lumbar vertebrae.
    pub fn lumbar_count(self) -> usize {
        self.levels()
            .into_iter()
            .filter(|l| l.region() == Region::Lumbar)
            .count()
    }

    /// Number of free (presacral) vertebrae.
    pub fn presacral_count(self) -> usize {
        self.levels().len() - 1
    }

    /// Last thoracic (rib-bearing) level.
    pub fn last_thoracic(self) -> Level {
        match self {
            Enumeration::T13 => Level::T13,
            Enumeration::ElevenRibs => Level::T11,
            _ => Level::T12,
        }
    }

    /// Last free lumbar level (the one above the sacrum).
    pub fn last_lumbar(self) -> Level {
        match self {
            Enumeration::L6 => Level::L6,
            Enumeration::SacralisedL5 => Level::L4,
            _ => Level::L5,
        }
    }

    /// Pattern such as "7C-12T-5L".
    pub fn pattern(self) -> String {
        format!("7C-{}T-{}L", self.thoracic_count(), self.lumbar_count())
    }

    pub fn name(self) -> &'static str {
        match self {
            Enumeration::Normal => "normal",
            Enumeration::L6 => "l6",
            Enumeration::T13 => "t13",
            Enumeration::ElevenRibs => "eleven_ribs",
            Enumeration::SacralisedL5 => "sacralised_l5",
        }
    }
}

impl fmt::Display for Enumeration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown enumeration name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not an enumeration variant (expected normal, l6, t13, eleven_ribs or sacralised_l5)"
)]
pub struct ParseEnumerationError(pub String);

impl FromStr for Enumeration {
    type Err = ParseEnumerationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        let t = match t.as_str() {
            "sacralized_l5" => "sacralised_l5",
            "11_ribs" | "eleven_rib" => "eleven_ribs",
            x => x,
        }
        .to_string();
        Enumeration::ALL
            .into_iter()
            .find(|e| e.name() == t)
            .ok_or_else(|| ParseEnumerationError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(e: Enumeration) -> Vec<u8> {
        e.levels().into_iter().map(Level::verse_label).collect()
    }

    #[test]
    fn label_sets_per_variant() {
        let normal: Vec<u8> = (1..=24).chain([26]).collect();
        assert_eq!(labels(Enumeration::Normal), normal);
        let l6: Vec<u8> = (1..=26).collect();
        assert_eq!(labels(Enumeration::L6), l6);
        let t13: Vec<u8> = (1..=19).chain([28]).chain(20..=24).chain([26]).collect();
        assert_eq!(labels(Enumeration::T13), t13);
        let eleven: Vec<u8> = (1..=18).chain(20..=24).chain([26]).collect();
        assert_eq!(labels(Enumeration::ElevenRibs), eleven);
        let sac: Vec<u8> = (1..=23).chain([26]).collect();
        assert_eq!(labels(Enumeration::SacralisedL5), sac);
    }

    #[test]
    fn counts_and_patterns() {
        assert_eq!(Enumeration::Normal.pattern(), "7C-12T-5L");
        assert_eq!(Enumeration::L6.pattern(), "7C-12T-6L");
        assert_eq!(Enumeration::T13.pattern(), "7C-13T-5L");
        assert_eq!(Enumeration::ElevenRibs.pattern(), "7C-11T-5L");
        assert_eq!(Enumeration::SacralisedL5.pattern(), "7C-12T-4L");
        assert_eq!(Enumeration::ElevenRibs.presacral_count(), 23);
        assert_eq!(Enumeration::L6.presacral_count(), 25);
        for e in Enumeration::ALL {
            assert_eq!(e.last_thoracic().region(), Region::Thoracic);
            assert!(e.contains(e.last_thoracic()) && e.contains(e.last_lumbar()));
            assert_eq!(e.name().parse::<Enumeration>().unwrap(), e);
        }
        assert!(Enumeration::T13.is_rib_bearing(Level::T13));
        assert!(!Enumeration::ElevenRibs.is_rib_bearing(Level::T12));
        assert!(!Enumeration::Normal.is_rib_bearing(Level::L1));
    }

    #[test]
    fn neighbours_follow_the_enumeration() {
        use Enumeration::*;
        assert_eq!(Level::T12.next_caudal(Normal), Some(Level::L1));
        assert_eq!(Level::T12.next_caudal(T13), Some(Level::T13));
        assert_eq!(Level::T13.next_caudal(T13), Some(Level::L1));
        assert_eq!(Level::T11.next_caudal(ElevenRibs), Some(Level::L1));
        assert_eq!(Level::L5.next_caudal(L6), Some(Level::L6));
        assert_eq!(Level::L6.next_caudal(L6), Some(Level::Sacrum));
        assert_eq!(Level::L4.next_caudal(SacralisedL5), Some(Level::Sacrum));
        assert_eq!(Level::Sacrum.next_caudal(Normal), None);
        assert_eq!(Level::L6.next_caudal(Normal), None);
        assert_eq!(Level::Sacrum.next_cranial(SacralisedL5), Some(Level::L4));
        assert_eq!(Level::L1.next_cranial(ElevenRibs), Some(Level::T11));
        assert_eq!(Level::C1.next_cranial(Normal), None);
        for e in Enumeration::ALL {
            for l in e.levels() {
                if let Some(c) = l.next_caudal(e) {
                    assert_eq!(c.next_cranial(e), Some(l));
                }
            }
        }
    }
}
