use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One vertebral level, including the transitional T13 and L6 that VerSe labels separately.
///
/// The declaration order is anatomical (cranial to caudal), so `Ord` sorts cranial first; T13 sits between T12
/// and L1. Serialised as its name (`"L3"`, `"T13"`, `"sacrum"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Level {
    C1,
    C2,
    C3,
    C4,
    C5,
    C6,
    C7,
    T1,
    T2,
    T3,
    T4,
    T5,
    T6,
    T7,
    T8,
    T9,
    T10,
    T11,
    T12,
    /// Transitional 13th thoracic (rib-bearing) vertebra; VerSe label 28.
    T13,
    L1,
    L2,
    L3,
    L4,
    L5,
    /// Transitional 6th lumbar vertebra; VerSe label 25.
    L6,
    /// The whole sacrum (VerSe label 26); a sacralised L5 is part of it.
    Sacrum,
}

/// Spinal region of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Cervical,
    Thoracic,
    Lumbar,
    Sacral,
}

/// Error for a level name or label that is not a vertebra.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a vertebral level (expected C1–C7, T1–T13, L1–L6 or sacrum)")]
pub struct ParseLevelError(pub String);

impl Level {
    /// Every level in anatomical order (cranial first).
    pub const ALL: [Level; 27] = [
        Level::C1,
        Level::C2,
        Level::C3,
        Level::C4,
        Level::C5,
        Level::C6,
        Level::C7,
        Level::T1,
        Level::T2,
        Level::T3,
        Level::T4,
        Level::T5,
        Level::T6,
        Level::T7,
        Level::T8,
        Level::T9,
        Level::T10,
        Level::T11,
        Level::T12,
        Level::T13,
        Level::L1,
        Level::L2,
        Level::L3,
        Level::L4,
        Level::L5,
        Level::L6,
        Level::Sacrum,
    ];

    /// VerSe'20 label: 1–7 C1–C7, 8–19 T1–T12, 20–24 L1–L5, 25 L6, 26 sacrum, 28 T13.
    pub fn verse_label(self) -> u8 {
        match self {
            Level::T13 => 28,
            Level::L6 => 25,
            Level::Sacrum => 26,
            l => {
                // C1..T12 are contiguous 1..19 and L1..L5 20..24 in declaration order, minus the T13 slot.
                let idx = l as u8;
                if idx <= Level::T12 as u8 {
                    idx + 1
                } else {
                    idx // L1 is declared at 20 (after T13 at 19) and labelled 20
                }
            }
        }
    }

    /// Inverse of [`verse_label`](Self::verse_label); `None` for 0, 27 (VerSe's cocygeal slot) and unknown codes.
    pub fn from_verse_label(label: u8) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.verse_label() == label)
    }

    /// Conventional name: "C1", "T13", "L6", "sacrum".
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 27] = [
            "C1", "C2", "C3", "C4", "C5", "C6", "C7", "T1", "T2", "T3", "T4", "T5", "T6", "T7",
            "T8", "T9", "T10", "T11", "T12", "T13", "L1", "L2", "L3", "L4", "L5", "L6", "sacrum",
        ];
        NAMES[self as usize]
    }

    /// Short name used in disc and segment names ("S1" for the sacrum).
    pub fn short_name(self) -> &'static str {
        match self {
            Level::Sacrum => "S1",
            l => l.name(),
        }
    }

    pub fn region(self) -> Region {
        match self {
            Level::C1 | Level::C2 | Level::C3 | Level::C4 | Level::C5 | Level::C6 | Level::C7 => {
                Region::Cervical
            }
            Level::L1 | Level::L2 | Level::L3 | Level::L4 | Level::L5 | Level::L6 => Region::Lumbar,
            Level::Sacrum => Region::Sacral,
            _ => Region::Thoracic,
        }
    }

    /// Position in [`Level::ALL`] (anatomical order).
    pub fn ordinal(self) -> usize {
        self as usize
    }

    /// Number within its region (C5 → 5, T13 → 13, sacrum → 1).
    pub fn number(self) -> u8 {
        let o = self as u8;
        match self.region() {
            Region::Cervical => o + 1,
            Region::Thoracic => o - Level::T1 as u8 + 1,
            Region::Lumbar => o - Level::L1 as u8 + 1,
            Region::Sacral => 1,
        }
    }

    /// True for C1 (atlas), which has no vertebral body.
    pub fn has_body(self) -> bool {
        self != Level::C1
    }

    /// The next level caudal to this one in `enumeration` (`None` after the sacrum or when absent from it).
    pub fn next_caudal(self, enumeration: crate::Enumeration) -> Option<Level> {
        let lv = enumeration.levels();
        let i = lv.iter().position(|&l| l == self)?;
        lv.get(i + 1).copied()
    }

    /// The next level cranial to this one in `enumeration` (`None` above C1 or when absent from it).
    pub fn next_cranial(self, enumeration: crate::Enumeration) -> Option<Level> {
        let lv = enumeration.levels();
        let i = lv.iter().position(|&l| l == self)?;
        i.checked_sub(1).map(|j| lv[j])
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Accepts names case-insensitively ("l3", "T13"), and "S", "S1" or "sacrum" for the sacrum.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        if matches!(t.as_str(), "S" | "S1" | "SACRUM") {
            return Ok(Level::Sacrum);
        }
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(&t))
            .ok_or_else(|| ParseLevelError(s.to_string()))
    }
}

impl TryFrom<String> for Level {
    type Error = ParseLevelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Level> for String {
    fn from(l: Level) -> String {
        l.name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verse_labels_match_the_verse20_table() {
        let expected: [(Level, u8); 27] = [
            (Level::C1, 1),
            (Level::C2, 2),
            (Level::C3, 3),
            (Level::C4, 4),
            (Level::C5, 5),
            (Level::C6, 6),
            (Level::C7, 7),
            (Level::T1, 8),
            (Level::T2, 9),
            (Level::T3, 10),
            (Level::T4, 11),
            (Level::T5, 12),
            (Level::T6, 13),
            (Level::T7, 14),
            (Level::T8, 15),
            (Level::T9, 16),
            (Level::T10, 17),
            (Level::T11, 18),
            (Level::T12, 19),
            (Level::T13, 28),
            (Level::L1, 20),
            (Level::L2, 21),
            (Level::L3, 22),
            (Level::L4, 23),
            (Level::L5, 24),
            (Level::L6, 25),
            (Level::Sacrum, 26),
        ];
        for (l, v) in expected {
            assert_eq!(l.verse_label(), v, "{l}");
            assert_eq!(Level::from_verse_label(v), Some(l));
        }
        for bad in [0u8, 27, 29, 255] {
            assert_eq!(Level::from_verse_label(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_round_trip_through_fromstr_display_and_serde() {
        for l in Level::ALL {
            assert_eq!(l.name().parse::<Level>().unwrap(), l);
            assert_eq!(l.to_string().to_lowercase().parse::<Level>().unwrap(), l);
            let j = serde_json::to_string(&l).unwrap();
            assert_eq!(j, format!("\"{}\"", l.name()));
            assert_eq!(serde_json::from_str::<Level>(&j).unwrap(), l);
        }
        assert_eq!("S1".parse::<Level>().unwrap(), Level::Sacrum);
        assert_eq!(" t13 ".parse::<Level>().unwrap(), Level::T13);
        assert!("L7".parse::<Level>().is_err());
        assert!("T0".parse::<Level>().is_err());
        assert!(serde_json::from_str::<Level>("\"X1\"").is_err());
    }

    #[test]
    fn regions_and_numbers() {
        assert_eq!(Level::C7.region(), Region::Cervical);
        assert_eq!(Level::T13.region(), Region::Thoracic);
        assert_eq!(Level::L6.region(), Region::Lumbar);
        assert_eq!(Level::Sacrum.region(), Region::Sacral);
        assert_eq!(Level::T13.number(), 13);
        assert_eq!(Level::L6.number(), 6);
        assert_eq!(Level::C5.number(), 5);
        assert!(Level::T12 < Level::T13 && Level::T13 < Level::L1);
    }
}
