//! Small smooth optimisers: L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) with Armijo backtracking, and FISTA
//! (Beck & Teboulle 2009) for an added L1 term.

/// Minimises `f` (returns the value and writes the gradient) from `x`. Stops when the largest gradient component
/// is below `gtol` or after `max_iter` iterations.
pub fn lbfgs<F>(mut f: F, mut x: Vec<f64>, max_iter: usize, gtol: f64) -> Vec<f64>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    const M: usize = 10;
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    for _ in 0..max_iter {
        if inf_norm(&g) < gtol {
            break;
        }
        // two-loop recursion
        let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &d);
            axpy(-alpha[i], &y_hist[i], &mut d);
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            1.0 / inf_norm(&g).max(1.0)
        };
        d.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..k {
            let b = rho[i] * dot(&y_hist[i], &d);
            axpy(alpha[i] - b, &s_hist[i], &mut d);
        }
        let mut gd = dot(&g, &d);
        if gd >= 0.0 {
            // not a descent direction (numerical trouble): restart from steepest descent
            d = g.iter().map(|v| -v).collect();
            gd = dot(&g, &d);
            s_hist.clear();
            y_hist.clear();
            rho.clear();
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            for i in 0..n {
                xn[i] = x[i] + step * d[i];
            }
            let fnew = f(&xn, &mut gn);
            if fnew.is_finite() && fnew <= fx + 1e-4 * step * gd {
                let s: Vec<f64> = (0..n).map(|i| xn[i] - x[i]).collect();
                let yv: Vec<f64> = (0..n).map(|i| gn[i] - g[i]).collect();
                let sy = dot(&s, &yv);
                if sy > 1e-12 * dot(&yv, &yv).max(1e-300) {
                    if s_hist.len() == M {
                        s_hist.remove(0);
                        y_hist.remove(0);
                        rho.remove(0);
                    }
                    s_hist.push(s);
                    y_hist.push(yv);
                    rho.push(1.0 / sy);
                }
                let converged = (fx - fnew).abs() <= 1e-15 * fx.abs().max(1.0);
                std::mem::swap(&mut x, &mut xn);
                std::mem::swap(&mut g, &mut gn);
                fx = fnew;
                accepted = true;
                if converged {
                    return x;
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    x
}

/// Minimises smooth `f` + `l1`·Σ|x_j| over the coordinates where `penalised[j]` is true, by accelerated proximal
/// gradient with backtracking on the Lipschitz estimate.
pub fn fista<F>(
    mut f: F,
    x0: Vec<f64>,
    penalised: &[bool],
    l1: f64,
    max_iter: usize,
    tol: f64,
) -> Vec<f64>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0.clone();
    let mut yk = x0;
    let mut t: f64 = 1.0;
    let mut lip = 1.0;
    let mut g = vec![0.0; n];
    let mut gtmp = vec![0.0; n];
    let prox = |v: f64, pen: bool, thr: f64| {
        if pen {
            v.signum() * (v.abs() - thr).max(0.0)
        } else {
            v
        }
    };
    for _ in 0..max_iter {
        let fy = f(&yk, &mut g);
        let mut xn;
        loop {
            xn = (0..n)
                .map(|j| prox(yk[j] - g[j] / lip, penalised[j], l1 / lip))
                .collect::<Vec<f64>>();
            let fx = f(&xn, &mut gtmp);
            let diff: Vec<f64> = (0..n).map(|j| xn[j] - yk[j]).collect();
            let q = fy + dot(&g, &diff) + 0.5 * lip * dot(&diff, &diff);
            if fx <= q + 1e-12 * fy.abs().max(1.0) || lip > 1e12 {
                break;
            }
            lip *= 2.0;
        }
        let tn = 0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt());
        let change = (0..n).map(|j| (xn[j] - x[j]).abs()).fold(0.0, f64::max);
        yk = (0..n)
            .map(|j| xn[j] + (t - 1.0) / tn * (xn[j] - x[j]))
            .collect();
        x = xn;
        t = tn;
        if change < tol {
            break;
        }
    }
    x
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbfgs_finds_rosenbrock_minimum() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let x = lbfgs(f, vec![-1.2, 1.0], 1000, 1e-10);
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{x:?}"
        );
    }

    #[test]
    fn fista_soft_thresholds_a_quadratic() {
        // ½(x−3)² + ½(y−0.5)² + 1·(|x|+|y|): x = 2, y = 0 (prox of the minimiser)
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = x[0] - 3.0;
            g[1] = x[1] - 0.5;
            0.5 * (x[0] - 3.0).powi(2) + 0.5 * (x[1] - 0.5).powi(2)
        };
        let x = fista(f, vec![0.0, 0.0], &[true, true], 1.0, 1000, 1e-12);
        assert!((x[0] - 2.0).abs() < 1e-9 && x[1].abs() < 1e-12, "{x:?}");
    }
}
