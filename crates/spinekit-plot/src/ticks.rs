//! "Nice" axis ranges and tick labels (Heckbert's 1-2-5 rule).

/// A 1, 2 or 5 × 10^k step close to `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    let frac = raw / base;
    let nice = if frac <= 1.0 {
        1.0
    } else if frac <= 2.0 {
        2.0
    } else if frac <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * base
}

/// Ticks covering `[lo, hi]` with about `target` intervals: returns (step, ticks inside `[lo, hi]`).
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, Vec<f64>) {
    let span = hi - lo;
    let step = nice_step(span / target.max(1) as f64);
    let first = (lo / step - 1e-9).ceil();
    let mut ticks = Vec::new();
    let mut k = first;
    while k * step <= hi + step * 1e-9 && ticks.len() < 1000 {
        let v = k * step;
        // Clean up -0 and floating noise.
        let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
        ticks.push(v);
        k += 1.0;
    }
    (step, ticks)
}

/// Expands `[lo, hi]` outwards to multiples of a nice step.
pub(crate) fn nice_range(lo: f64, hi: f64, target: usize) -> (f64, f64) {
    let step = nice_step((hi - lo) / target.max(1) as f64);
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

/// Label for a tick with the given step: as many decimals as the step needs, a true minus sign.
pub(crate) fn format_tick(v: f64, step: f64) -> String {
    format_number(v, decimals_for(step))
}

pub(crate) fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 2;
    }
    let d = -(step.log10() + 1e-9).floor();
    d.clamp(0.0, 10.0) as usize
}

/// Fixed decimals; large/small magnitudes switch to scientific notation; "−" (U+2212) for negatives.
pub(crate) fn format_number(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let s = if a != 0.0 && !(1e-4..1e7).contains(&a) {
        format!("{v:.2e}")
    } else {
        format!("{v:.decimals$}")
    };
    // "-0.00" → "0.00".
    let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    };
    s.replacen('-', "\u{2212}", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_1_2_5() {
        assert_eq!(nice_step(0.13), 0.2);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1.0), 1.0);
    }

    #[test]
    fn ticks_cover_range_and_format() {
        let (step, t) = nice_ticks(0.0, 1.0, 5);
        assert_eq!(step, 0.2);
        assert_eq!(t.len(), 6);
        assert_eq!(format_tick(t[1], step), "0.2");
        assert_eq!(format_tick(-150.0, 50.0), "\u{2212}150");
        assert_eq!(format_tick(-0.0001, 0.1), "0.0");
        let (lo, hi) = nice_range(-3.2, 17.9, 5);
        assert_eq!((lo, hi), (-5.0, 20.0));
    }
}
