//! Small statistics for the claim tables: means, spreads, Student-t intervals and ordinary
//! least squares with standard errors. Pure functions of slices; no IO, no BLAS (the systems
//! are a handful of unknowns).

/// A value with its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    /// Whether the interval contains 0.
    pub fn covers_zero(&self) -> bool {
        self.low <= 0.0 && self.high >= 0.0
    }
}

/// Arithmetic mean; NaN for no values.
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (n - 1); NaN below two values.
pub fn std_dev(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// Standard error of the mean; NaN below two values.
pub fn std_err(x: &[f64]) -> f64 {
    std_dev(x) / (x.len() as f64).sqrt()
}

/// The mean with its t interval; `None` below two values.
pub fn mean_estimate(x: &[f64]) -> Option<Estimate> {
    (x.len() >= 2).then(|| {
        let half = t_quantile_975(x.len() - 1) * std_err(x);
        let m = mean(x);
        Estimate {
            value: m,
            low: m - half,
            high: m + half,
        }
    })
}

/// P(|T| < t) for Student's t with `df` degrees of freedom, by the finite series of
/// Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df).
pub fn t_central_probability(t: f64, df: usize) -> f64 {
    let theta = (t / (df as f64).sqrt()).atan();
    let (s, c) = theta.sin_cos();
    let c2 = c * c;
    if df % 2 == 1 {
        let mut term = 1.0;
        let mut sum = if df > 1 { 1.0 } else { 0.0 };
        for k in 1..=(df.saturating_sub(3) / 2) {
            term *= (2 * k) as f64 / (2 * k + 1) as f64 * c2;
            sum += term;
        }
        2.0 / std::f64::consts::PI * (theta + s * c * sum)
    } else {
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..=((df - 2) / 2) {
            term *= (2 * k - 1) as f64 / (2 * k) as f64 * c2;
            sum += term;
        }
        s * sum
    }
}

/// The 0.975 quantile of Student's t with `df >= 1` degrees of freedom (bisection on
/// [`t_central_probability`]; 1e-12 absolute).
pub fn t_quantile_975(df: usize) -> f64 {
    let (mut lo, mut hi) = (0.0, 1e3);
    while hi - lo > 1e-12 {
        let mid = 0.5 * (lo + hi);
        if t_central_probability(mid, df) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Ordinary least squares of `y` on the rows of `x` (include a column of ones for an
/// intercept): coefficients, their standard errors and the residual degrees of freedom.
/// `None` when the rows do not determine the coefficients or leave no degree of freedom.
pub fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Option<(Vec<f64>, Vec<f64>, usize)> {
    let p = x.first()?.len();
    let df = x.len().checked_sub(p).filter(|&d| d > 0)?;
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for (row, &yi) in x.iter().zip(y) {
        for i in 0..p {
            xty[i] += row[i] * yi;
            for j in 0..p {
                xtx[i][j] += row[i] * row[j];
            }
        }
    }
    let inv = invert(xtx)?;
    let coef: Vec<f64> = inv
        .iter()
        .map(|r| r.iter().zip(&xty).map(|(a, b)| a * b).sum())
        .collect();
    let rss: f64 = x
        .iter()
        .zip(y)
        .map(|(row, yi)| yi - row.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>())
        .map(|r| r * r)
        .sum();
    let s2 = rss / df as f64;
    let se = (0..p).map(|j| (s2 * inv[j][j]).sqrt()).collect();
    Some((coef, se, df))
}

/// Gauss-Jordan inversion with partial pivoting; `None` for a (numerically) singular matrix.
fn invert(mut a: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let p = a.len();
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut inv: Vec<Vec<f64>> = (0..p)
        .map(|i| (0..p).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for col in 0..p {
        let pivot = (col..p).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let d = a[col][col];
        a[col].iter_mut().for_each(|v| *v /= d);
        inv[col].iter_mut().for_each(|v| *v /= d);
        for row in (0..p).filter(|&r| r != col) {
            let f = a[row][col];
            for j in 0..p {
                a[row][j] -= f * a[col][j];
                inv[row][j] -= f * inv[col][j];
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95 % critical values of Student's t (any statistics table).
        for (df, t) in [
            (1, 12.7062),
            (2, 4.3027),
            (3, 3.1824),
            (5, 2.5706),
            (10, 2.2281),
            (30, 2.0423),
            (1000, 1.9623),
        ] {
            assert!((t_quantile_975(df) - t).abs() < 1e-4, "df {df}");
        }
    }

    #[test]
    fn least_squares_recovers_a_line_and_its_standard_error() {
        // Four points near y = 1 + 2x, worked by hand: se = sqrt(s2 / Sxx).
        let x: Vec<Vec<f64>> = (0..4).map(|i| vec![1.0, i as f64]).collect();
        let y = [1.1, 2.9, 5.1, 6.9];
        let (coef, se, df) = least_squares(&x, &y).unwrap();
        assert_eq!(df, 2);
        // Sxx = 5, Sxy = 9.8 -> slope 1.96, intercept 1.06; residuals .04 -.12 .12 -.04.
        assert!((coef[1] - 1.96).abs() < 1e-12 && (coef[0] - 1.06).abs() < 1e-12);
        let s2 = 2.0 * (0.04f64.powi(2) + 0.12f64.powi(2)) / 2.0;
        assert!((se[1] - (s2 / 5.0).sqrt()).abs() < 1e-12);
        assert!(
            least_squares(&x[..2], &y[..2]).is_none(),
            "no degree of freedom"
        );
    }
}
