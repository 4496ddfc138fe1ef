//! Small statistics shared by the engine and the numbering.

/// The median of `v` (the upper middle value for an even count), `None` when empty.
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}
