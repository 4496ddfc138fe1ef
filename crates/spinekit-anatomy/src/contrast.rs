use serde::{Deserialize, Serialize};

/// Contrast phase of a CT acquisition. It changes trabecular bone HU (clinical-reference §2.3), so bone-density
/// thresholds depend on it; the phantom generates it and the soft-tissue engine estimates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContrastPhase {
    NonContrast,
    Arterial,
    PortalVenous,
}

impl ContrastPhase {
    /// Typical aortic blood-pool HU of the phase (used by the phantom to enhance vessels).
    pub fn default_aorta_hu(self) -> f64 {
        match self {
            ContrastPhase::NonContrast => 40.0,
            ContrastPhase::Arterial => 300.0,
            ContrastPhase::PortalVenous => 160.0,
        }
    }
}
