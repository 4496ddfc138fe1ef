use serde::{Deserialize, Serialize};
use std::fmt;

/// Tissue classes of a tissue label map (one `u8` code per voxel), as written by the phantom.
///
/// Muscle groups follow the L3 body-composition definitions of clinical-reference §3.1: skeletal muscle area
/// is the sum of every muscle code ([`is_skeletal_muscle`](Self::is_skeletal_muscle)); visceral fat is the
/// fat inside the abdominal muscle wall (retroperitoneal fat included); subcutaneous fat lies outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Tissue {
    /// Air outside the patient.
    Background = 0,
    Skin = 1,
    SubcutaneousFat = 2,
    /// Fat inside the muscle wall (intra-abdominal, retroperitoneal, mediastinal).
    VisceralFat = 3,
    /// Rectus, obliques, transversus (and chest-wall muscle above the diaphragm).
    AbdominalWallMuscle = 4,
    Psoas = 5,
    /// Erector spinae and multifidus.
    Paraspinal = 6,
    QuadratusLumborum = 7,
    /// Gluteal, iliacus, diaphragmatic crura and other muscles.
    OtherMuscle = 8,
    /// Bowel wall and contents.
    Bowel = 9,
    BowelGas = 10,
    /// Aorta and iliac arteries (blood pool).
    Aorta = 11,
    /// Inferior vena cava and iliac veins.
    Vein = 12,
    Liver = 13,
    Spleen = 14,
    Kidney = 15,
    Lung = 16,
    Heart = 17,
    Bladder = 18,
    /// Any bone (cortex and marrow): vertebrae, ribs, pelvis, femora.
    Bone = 19,
    /// Intervertebral disc.
    Disc = 20,
    /// Cerebrospinal fluid in the dural sac.
    Csf = 21,
    /// Spinal cord.
    Cord = 22,
    /// Metal implant (pedicle screws, rods).
    Metal = 23,
    /// CT table (couch).
    Table = 24,
    /// Vascular calcification.
    Calcification = 25,
    /// Fat that is neither subcutaneous nor visceral: intermuscular (between the back muscles) and epidural.
    OtherFat = 26,
}

impl Tissue {
    pub const ALL: [Tissue; 27] = [
        Tissue::Background,
        Tissue::Skin,
        Tissue::SubcutaneousFat,
        Tissue::VisceralFat,
        Tissue::AbdominalWallMuscle,
        Tissue::Psoas,
        Tissue::Paraspinal,
        Tissue::QuadratusLumborum,
        Tissue::OtherMuscle,
        Tissue::Bowel,
        Tissue::BowelGas,
        Tissue::Aorta,
        Tissue::Vein,
        Tissue::Liver,
        Tissue::Spleen,
        Tissue::Kidney,
        Tissue::Lung,
        Tissue::Heart,
        Tissue::Bladder,
        Tissue::Bone,
        Tissue::Disc,
        Tissue::Csf,
        Tissue::Cord,
        Tissue::Metal,
        Tissue::Table,
        Tissue::Calcification,
        Tissue::OtherFat,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Tissue> {
        Tissue::ALL.get(code as usize).copied()
    }

    pub fn name(self) -> &'static str {
        const N: [&str; 27] = [
            "background",
            "skin",
            "subcutaneous_fat",
            "visceral_fat",
            "abdominal_wall_muscle",
            "psoas",
            "paraspinal",
            "quadratus_lumborum",
            "other_muscle",
            "bowel",
            "bowel_gas",
            "aorta",
            "vein",
            "liver",
            "spleen",
            "kidney",
            "lung",
            "heart",
            "bladder",
            "bone",
            "disc",
            "csf",
            "cord",
            "metal",
            "table",
            "calcification",
            "other_fat",
        ];
        N[self as usize]
    }

    /// Counted in skeletal muscle area (SMA).
    pub fn is_skeletal_muscle(self) -> bool {
        matches!(
            self,
            Tissue::AbdominalWallMuscle
                | Tissue::Psoas
                | Tissue::Paraspinal
                | Tissue::QuadratusLumborum
                | Tissue::OtherMuscle
        )
    }

    /// Adipose tissue (subcutaneous, visceral or other).
    pub fn is_fat(self) -> bool {
        matches!(
            self,
            Tissue::SubcutaneousFat | Tissue::VisceralFat | Tissue::OtherFat
        )
    }

    /// Inside the patient (everything except background air and the table).
    pub fn is_patient(self) -> bool {
        !matches!(self, Tissue::Background | Tissue::Table)
    }
}

impl fmt::Display for Tissue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Codes of a spinal-canal label map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum CanalLabel {
    /// Cerebrospinal fluid in the dural sac (cauda equina included).
    Csf = 1,
    /// Spinal cord (ends at the conus, about L1–L2).
    Cord = 2,
}

impl CanalLabel {
    pub fn code(self) -> u8 {
        self as u8
    }
    pub fn from_code(code: u8) -> Option<CanalLabel> {
        match code {
            1 => Some(CanalLabel::Csf),
            2 => Some(CanalLabel::Cord),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for (i, t) in Tissue::ALL.into_iter().enumerate() {
            assert_eq!(t.code() as usize, i);
            assert_eq!(Tissue::from_code(t.code()), Some(t));
            assert!(names.insert(t.name()));
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(j, format!("\"{}\"", t.name()));
        }
        assert_eq!(Tissue::from_code(27), None);
        assert_eq!(CanalLabel::from_code(2), Some(CanalLabel::Cord));
        assert_eq!(CanalLabel::from_code(0), None);
    }

    #[test]
    fn muscle_and_fat_groups() {
        let muscles: Vec<_> = Tissue::ALL
            .into_iter()
            .filter(|t| t.is_skeletal_muscle())
            .collect();
        assert_eq!(muscles.len(), 5);
        assert!(Tissue::Psoas.is_skeletal_muscle() && !Tissue::Heart.is_skeletal_muscle());
        assert!(Tissue::VisceralFat.is_fat() && !Tissue::Bone.is_fat());
        assert!(!Tissue::Table.is_patient() && Tissue::Skin.is_patient());
    }
}
