//! Coded concepts used in the SEG and the SR. Every standard code below was looked up, not invented:
//! - vertebrae: DICOM PS3.16 CID 7603 "Vertebra"; discs: CID 7604 "Intervertebral Disc";
//! - segmentation property category: CID 7150 (SCT 123037004 "Anatomical Structure", as dcmqi/TotalSegmentator
//!   terminology uses it); generic vertebra SCT 51282000 and sacrum SCT 54735007 (same terminology);
//! - spinal canal SCT 61853006 "Spinal canal" (AAPM TG-263 → SNOMED mapping);
//! - measurement concepts: SCT 118565006 "Volume", SCT 42798000 "Area", SCT 373098007 "Mean" (Derivation),
//!   DCM 112031 "Attenuation Coefficient" (HU measurements), PS3.16 Annex D (DCM) for the SR structure codes.
//!
//! Concepts without a standard code use the private scheme [`PRIVATE_SCHEME`], declared in the SR's
//! Coding Scheme Identification Sequence (0008,0110).

use spinekit_anatomy::Level;

/// Private coding scheme designator for spinekit concepts that have no standard code.
pub const PRIVATE_SCHEME: &str = "99SPINEKIT";
/// Human name of [`PRIVATE_SCHEME`] (Coding Scheme Name (0008,0115)).
pub const PRIVATE_SCHEME_NAME: &str = "spinekit private concepts";

/// A coded concept: Code Value, Coding Scheme Designator, Code Meaning (PS3.3 Table 8.8-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code {
    pub value: String,
    pub scheme: String,
    pub meaning: String,
}

impl Code {
    pub fn new(value: &str, scheme: &str, meaning: &str) -> Self {
        Self {
            value: value.to_string(),
            scheme: scheme.to_string(),
            meaning: meaning.to_string(),
        }
    }
    /// SNOMED CT (designator `SCT`).
    pub fn sct(value: &str, meaning: &str) -> Self {
        Self::new(value, "SCT", meaning)
    }
    /// DICOM Controlled Terminology (designator `DCM`).
    pub fn dcm(value: &str, meaning: &str) -> Self {
        Self::new(value, "DCM", meaning)
    }
    /// spinekit's private scheme [`PRIVATE_SCHEME`].
    pub fn private(value: &str, meaning: &str) -> Self {
        Self::new(value, PRIVATE_SCHEME, meaning)
    }
}

/// A UCUM unit: code (e.g. `ml`, `[hnsf'U]`) and meaning (e.g. "milliliter").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UcumUnit {
    pub code: String,
    pub meaning: String,
}

impl UcumUnit {
    pub fn new(code: &str, meaning: &str) -> Self {
        Self {
            code: code.to_string(),
            meaning: meaning.to_string(),
        }
    }
    pub fn ml() -> Self {
        Self::new("ml", "milliliter")
    }
    pub fn cm2() -> Self {
        Self::new("cm2", "square centimeter")
    }
    pub fn mm() -> Self {
        Self::new("mm", "millimeter")
    }
    /// Hounsfield unit, UCUM `[hnsf'U]`.
    pub fn hu() -> Self {
        Self::new("[hnsf'U]", "Hounsfield unit")
    }
    pub fn percent() -> Self {
        Self::new("%", "percent")
    }
    /// Dimensionless ratio, UCUM `1`.
    pub fn ratio() -> Self {
        Self::new("1", "no units")
    }
    pub fn degree() -> Self {
        Self::new("deg", "degree")
    }
    /// cm²/m² (skeletal muscle index).
    pub fn cm2_per_m2() -> Self {
        Self::new("cm2/m2", "square centimeter per square meter")
    }
}

/// Segmentation Property Category "Anatomical Structure" (CID 7150, SCT 123037004).
pub fn category_anatomical_structure() -> Code {
    Code::sct("123037004", "Anatomical Structure")
}
/// Segmentation Property Category "Tissue" (CID 7150, SCT 85756007).
pub fn category_tissue() -> Code {
    Code::sct("85756007", "Tissue")
}
/// Generic "Vertebra" (SCT 51282000), used for the transitional T13 and L6 that have no own code.
pub fn vertebra() -> Code {
    Code::sct("51282000", "Vertebra")
}
/// Spinal canal (SCT 61853006).
pub fn spinal_canal() -> Code {
    Code::sct("61853006", "Spinal canal")
}
/// SCT 118565006 "Volume".
pub fn volume() -> Code {
    Code::sct("118565006", "Volume")
}
/// SCT 42798000 "Area".
pub fn area() -> Code {
    Code::sct("42798000", "Area")
}
/// DCM 112031 "Attenuation Coefficient": the concept of a value in Hounsfield units.
pub fn attenuation_coefficient() -> Code {
    Code::dcm("112031", "Attenuation Coefficient")
}
/// SCT 373098007 "Mean": the Derivation (121401) of a mean over a region.
pub fn mean() -> Code {
    Code::sct("373098007", "Mean")
}
/// Vertebral body height (no standard code: private).
pub fn vertebral_body_height() -> Code {
    Code::private("VBH", "Vertebral body height")
}

/// SNOMED CT code of a vertebral level (CID 7603; sacrum SCT 54735007). T13 and L6 have no own code: they get
/// the generic "Vertebra" (the segment label and tracking identifier still carry the name).
pub fn level_code(level: Level) -> Code {
    let (v, m) = match level {
        Level::C1 => ("14806007", "C1 vertebra"),
        Level::C2 => ("39976000", "C2 vertebra"),
        Level::C3 => ("113205007", "C3 vertebra"),
        Level::C4 => ("5329002", "C4 vertebra"),
        Level::C5 => ("36978003", "C5 vertebra"),
        Level::C6 => ("36054005", "C6 vertebra"),
        Level::C7 => ("87391001", "C7 vertebra"),
        Level::T1 => ("64864005", "T1 vertebra"),
        Level::T2 => ("53733008", "T2 vertebra"),
        Level::T3 => ("1626008", "T3 vertebra"),
        Level::T4 => ("73071006", "T4 vertebra"),
        Level::T5 => ("56401006", "T5 vertebra"),
        Level::T6 => ("45296009", "T6 vertebra"),
        Level::T7 => ("62487009", "T7 vertebra"),
        Level::T8 => ("11068009", "T8 vertebra"),
        Level::T9 => ("82687006", "T9 vertebra"),
        Level::T10 => ("7610001", "T10 vertebra"),
        Level::T11 => ("12989004", "T11 vertebra"),
        Level::T12 => ("23215003", "T12 vertebra"),
        Level::L1 => ("66794005", "L1 vertebra"),
        Level::L2 => ("14293000", "L2 vertebra"),
        Level::L3 => ("36470004", "L3 vertebra"),
        Level::L4 => ("11994002", "L4 vertebra"),
        Level::L5 => ("49668003", "L5 vertebra"),
        Level::Sacrum => ("54735007", "Sacrum"),
        Level::T13 | Level::L6 => return vertebra(),
    };
    Code::sct(v, m)
}

/// SNOMED CT code of the disc between two adjacent standard levels (CID 7604); `None` for pairs CID 7604 does
/// not list (transitional T13/L6, C1/C2).
pub fn disc_code(upper: Level, lower: Level) -> Option<Code> {
    use Level::*;
    let (v, m) = match (upper, lower) {
        (C2, C3) => ("1078209008", "C2/C3 disc"),
        (C3, C4) => ("58820006", "C3/C4 disc"),
        (C4, C5) => ("49400002", "C4/C5 disc"),
        (C5, C6) => ("73959003", "C5/C6 disc"),
        (C6, C7) => ("75095006", "C6/C7 disc"),
        (C7, T1) => ("37414007", "C7/T1 disc"),
        (T1, T2) => ("40908007", "T1/T2 disc"),
        (T2, T3) => ("6004007", "T2/T3 disc"),
        (T3, T4) => ("2620004", "T3/T4 disc"),
        (T4, T5) => ("82965004", "T4/T5 disc"),
        (T5, T6) => ("72692000", "T5/T6 disc"),
        (T6, T7) => ("74401007", "T6/T7 disc"),
        (T7, T8) => ("28693002", "T7/T8 disc"),
        (T8, T9) => ("9188009", "T8/T9 disc"),
        (T9, T10) => ("113209001", "T9/T10 disc"),
        (T10, T11) => ("34959001", "T10/T11 disc"),
        (T11, T12) => ("1537001", "T11/T12 disc"),
        (T12, L1) => ("76206002", "T12/L1 disc"),
        (L1, L2) => ("80064006", "L1/L2 disc"),
        (L2, L3) => ("67459009", "L2/L3 disc"),
        (L3, L4) => ("62551000", "L3/L4 disc"),
        (L4, L5) => ("84020006", "L4/L5 disc"),
        (L5, Sacrum) => ("715056000", "L5/S1 disc"),
        _ => return None,
    };
    Some(Code::sct(v, m))
}
