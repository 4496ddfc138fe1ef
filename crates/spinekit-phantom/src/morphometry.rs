//! Normal adult vertebral dimensions per level (mm, degrees).
//!
//! Sources (values are rounded means read from the cited tables, not exact entries; sex and cohort vary):
//! - Vertebral body width/depth/heights: Panjabi MM et al., "Cervical human vertebrae: quantitative
//!   three-dimensional anatomy of the middle and lower regions", Spine 1991;16:861–869; "Thoracic human
//!   vertebrae: quantitative three-dimensional anatomy", Spine 1991;16:888–901; "Human lumbar vertebrae:
//!   quantitative three-dimensional anatomy", Spine 1992;17:299–306.
//! - Pedicle isthmus width (transverse, outer cortex to outer cortex) and transverse angle: clinical-reference
//!   §8.1 and §8.3 (Kaur 2016; Demiroz; Bernard & Seibert 1992: L2 8.1, L3 8.7, L4 10.9, L5 14.5 mm; T4 4.5 mm;
//!   Dickman 1992: lumbar medial angle ≈ 5° × level). Cervical pedicles (≈ 5–6.5 mm, 45°) from Panjabi 1991.
//! - Disc heights: typical mid-disc heights of adult CT/MR (lumbar 9–12 mm, thoracic 4–8 mm, cervical 5 mm).
//! - Canal and dural sac sizes, process lengths: typical adult values consistent with Panjabi's tables.

use spinekit_anatomy::{Level, Region};

/// Dimensions of one normal vertebra in its local frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelDims {
    /// Body width (left–right) at the endplate.
    pub body_width_mm: f64,
    /// Body depth (anterior–posterior) in the mid-sagittal plane.
    pub body_depth_mm: f64,
    /// Anterior body height (at 15 % of the depth from the front).
    pub height_ant_mm: f64,
    /// Posterior body height (at 85 % of the depth).
    pub height_post_mm: f64,
    /// Mid-disc height of the disc below this level.
    pub disc_below_mm: f64,
    /// Pedicle isthmus width (transverse).
    pub pedicle_width_mm: f64,
    /// Pedicle height (sagittal).
    pub pedicle_height_mm: f64,
    /// Pedicle transverse (medial) angle to the sagittal plane.
    pub pedicle_angle_deg: f64,
    /// Bony canal width and depth.
    pub canal_width_mm: f64,
    pub canal_depth_mm: f64,
    /// Spinous process length beyond the laminae and caudal inclination.
    pub spinous_length_mm: f64,
    pub spinous_angle_deg: f64,
    /// Transverse process length from the articular pillar.
    pub transverse_length_mm: f64,
}

#[allow(clippy::too_many_arguments)]
const fn d(
    w: f64,
    dp: f64,
    ha: f64,
    hp: f64,
    disc: f64,
    pw: f64,
    ph: f64,
    pa: f64,
    cw: f64,
    cd: f64,
    sl: f64,
    sa: f64,
    tl: f64,
) -> LevelDims {
    LevelDims {
        body_width_mm: w,
        body_depth_mm: dp,
        height_ant_mm: ha,
        height_post_mm: hp,
        disc_below_mm: disc,
        pedicle_width_mm: pw,
        pedicle_height_mm: ph,
        pedicle_angle_deg: pa,
        canal_width_mm: cw,
        canal_depth_mm: cd,
        spinous_length_mm: sl,
        spinous_angle_deg: sa,
        transverse_length_mm: tl,
    }
}

/// Normal dimensions of `level`. T13 and L6 take values between their neighbours; C1 (no body) returns
/// the ring's outer size in `body_*` and zero heights.
pub fn dims(level: Level) -> LevelDims {
    use Level::*;
    //            width depth  Ha    Hp   disc  pedW  pedH  pedAng canW canD  spL  spAng tpL
    match level {
        C1 => d(
            0.0, 0.0, 0.0, 0.0, 0.0, 5.5, 6.0, 45.0, 28.0, 17.0, 8.0, 10.0, 14.0,
        ),
        C2 => d(
            17.0, 16.0, 16.0, 16.0, 5.0, 5.8, 7.0, 40.0, 25.0, 16.0, 20.0, 15.0, 8.0,
        ),
        C3 => d(
            16.0, 15.5, 11.0, 11.5, 5.0, 5.5, 7.0, 45.0, 24.0, 14.5, 14.0, 20.0, 9.0,
        ),
        C4 => d(
            16.5, 15.5, 11.0, 11.5, 5.2, 5.6, 7.0, 45.0, 24.5, 14.0, 15.0, 20.0, 9.0,
        ),
        C5 => d(
            17.5, 16.0, 10.5, 11.0, 5.5, 5.8, 7.0, 45.0, 25.0, 14.0, 16.0, 20.0, 10.0,
        ),
        C6 => d(
            19.0, 16.5, 10.5, 11.0, 5.5, 6.0, 7.0, 43.0, 25.0, 14.0, 20.0, 20.0, 11.0,
        ),
        C7 => d(
            21.0, 16.5, 12.5, 13.0, 5.0, 6.5, 7.5, 35.0, 24.0, 14.5, 32.0, 15.0, 14.0,
        ),
        T1 => d(
            25.0, 16.5, 13.5, 14.5, 4.5, 8.0, 8.0, 33.0, 21.0, 15.0, 32.0, 30.0, 18.0,
        ),
        T2 => d(
            26.0, 17.5, 15.0, 16.0, 4.5, 6.5, 8.8, 28.0, 18.0, 15.0, 33.0, 40.0, 18.0,
        ),
        T3 => d(
            26.5, 20.0, 15.5, 16.5, 4.5, 5.3, 9.5, 24.0, 17.0, 15.0, 33.0, 50.0, 18.0,
        ),
        T4 => d(
            27.0, 22.0, 16.0, 17.0, 4.5, 4.5, 10.0, 20.0, 16.5, 15.0, 33.0, 55.0, 18.0,
        ),
        T5 => d(
            28.0, 24.0, 16.5, 17.5, 4.6, 4.6, 10.5, 17.0, 16.5, 15.0, 33.0, 60.0, 18.0,
        ),
        T6 => d(
            29.0, 25.5, 17.0, 18.0, 4.8, 4.8, 10.8, 14.0, 16.5, 15.0, 33.0, 60.0, 18.0,
        ),
        T7 => d(
            30.5, 27.0, 17.5, 18.5, 5.0, 5.0, 11.0, 12.0, 16.5, 15.0, 33.0, 60.0, 17.0,
        ),
        T8 => d(
            32.0, 28.0, 18.5, 19.5, 5.5, 5.4, 11.3, 10.0, 16.5, 15.0, 32.0, 55.0, 17.0,
        ),
        T9 => d(
            34.0, 29.0, 19.5, 20.0, 5.5, 5.9, 11.5, 8.0, 16.5, 15.0, 30.0, 45.0, 16.0,
        ),
        T10 => d(
            37.0, 30.0, 20.5, 21.0, 6.5, 6.6, 11.8, 6.0, 17.0, 15.5, 28.0, 35.0, 15.0,
        ),
        T11 => d(
            40.0, 31.0, 21.5, 22.0, 7.5, 7.6, 12.0, 4.0, 18.0, 16.0, 27.0, 25.0, 11.0,
        ),
        T12 => d(
            42.0, 32.0, 23.0, 23.5, 8.5, 8.0, 12.0, 3.0, 20.0, 16.5, 27.0, 15.0, 8.0,
        ),
        T13 => d(
            42.5, 32.5, 23.5, 24.0, 9.0, 8.0, 12.5, 3.0, 21.0, 16.5, 27.0, 10.0, 9.0,
        ),
        L1 => d(
            43.0, 33.0, 24.5, 25.5, 9.5, 8.0, 14.0, 5.0, 22.0, 17.0, 28.0, 8.0, 16.0,
        ),
        L2 => d(
            45.0, 34.0, 25.5, 26.0, 10.5, 8.1, 14.5, 10.0, 22.5, 16.5, 30.0, 6.0, 22.0,
        ),
        L3 => d(
            47.0, 34.5, 26.0, 26.0, 11.0, 8.7, 14.5, 15.0, 23.0, 16.0, 30.0, 4.0, 26.0,
        ),
        L4 => d(
            49.0, 35.0, 26.5, 25.5, 11.5, 10.9, 14.0, 20.0, 23.5, 16.0, 28.0, 2.0, 22.0,
        ),
        L5 => d(
            51.0, 35.5, 27.5, 24.5, 11.0, 14.5, 14.0, 25.0, 25.0, 17.0, 24.0, 0.0, 18.0,
        ),
        L6 => d(
            51.0, 35.0, 27.0, 24.5, 10.5, 13.5, 14.0, 25.0, 25.0, 17.0, 22.0, 0.0, 18.0,
        ),
        // Top sacral segment: S1 body (pedicle width = S1 value of §8.1, kept for completeness).
        Sacrum => d(
            50.0, 36.0, 28.0, 27.0, 0.0, 18.4, 14.0, 25.0, 24.0, 15.0, 0.0, 0.0, 0.0,
        ),
    }
}

/// Endplate concavity depth (mm) at the centre of each endplate of a normal body.
pub fn endplate_concavity_mm(level: Level) -> f64 {
    match level.region() {
        Region::Cervical => 0.5,
        Region::Thoracic => 0.8,
        Region::Lumbar => 1.0,
        Region::Sacral => 0.6,
    }
}

/// Fraction of the body depth (from the anterior edge) where Ha, Hm and Hp are measured:
/// 15 %, 50 %, 85 % as in the TotalSegmentator spine report (clinical-reference §1.3).
pub const HEIGHT_POSITIONS: [f64; 3] = [0.15, 0.50, 0.85];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pedicle_widths_follow_the_reference_pattern() {
        // Narrowest at T4, widest lumbar at L5 (clinical-reference §8.1).
        let t4 = dims(Level::T4).pedicle_width_mm;
        for l in Level::ALL {
            if matches!(l.region(), Region::Thoracic | Region::Lumbar) {
                assert!(dims(l).pedicle_width_mm >= t4);
            }
        }
        assert_eq!(dims(Level::L5).pedicle_width_mm, 14.5);
        assert_eq!(dims(Level::L3).pedicle_width_mm, 8.7);
        // Bodies grow caudally through the thoracolumbar spine.
        let mut prev = 0.0;
        for l in [
            Level::T1,
            Level::T6,
            Level::T12,
            Level::L1,
            Level::L3,
            Level::L5,
        ] {
            assert!(dims(l).body_width_mm > prev);
            prev = dims(l).body_width_mm;
        }
    }
}
