//! Separating a spectrum's bulk from its outliers, and fitting the bulk with one model that
//! covers a disk and a ring.
//!
//! **Model.** Eigenvalues uniform on the annulus `r_in <= |lambda| <= r_out` have `|lambda|^2`
//! uniform on `[r_in^2, r_out^2]` (a disk is `r_in = 0`), so the sorted `|lambda|^2` of the bulk
//! lie on a straight line against their plotting positions `p_k = (k + 1/2) / m`. Two
//! least-squares lines are fitted: one through the points with `p_k` in `[0.05, 0.5]`, whose
//! value at `p = 0` is `r_in^2`, and one through `[0.5, 0.95]`, whose value at `p = 1` is
//! `r_out^2` (clamped to be non-negative and ordered). For a uniform annulus both are the same
//! line; when the density is not uniform (E and I columns of different variances, for
//! instance, crowd the centre), each edge is still read off the density next to it. The 5 %
//! left out at either end keep a few stragglers (finite-N edge tails, leftover outliers) from
//! moving the fit.
//!
//! **Goodness of fit.** `fit_ks` is the Kolmogorov-Smirnov distance between the bulk's `|lambda|^2`
//! and the fitted uniform law (for a ring of zero width, the share of bulk points off it).
//!
//! **Outliers.** An eigenvalue is an outlier when `|lambda| > r_out (1 + 3 / sqrt(m))`, `m` the bulk
//! size: three times the `1/sqrt(m)` scale on which a finite bulk's edge fluctuates. Fit and flags
//! are iterated until the flags no longer change (at most 10 rounds), so the threshold adapts to
//! the spectrum's own bulk rather than to a fixed count.
//!
//! **Shape.** `ring` when `r_in >= 0.3 r_out` (a hole of at least 9 % of the outer disk's area),
//! `disk` otherwise.

/// Share of `r_out` above which the fitted inner radius makes the bulk a ring.
pub const RING_RATIO: f64 = 0.3;
/// Outlier threshold: `r_out (1 + OUTLIER_SCALE / sqrt(bulk size))`.
pub const OUTLIER_SCALE: f64 = 3.0;
/// Quantile ranges of the lines that give the inner and the outer edge.
const LOWER_RANGE: (f64, f64) = (0.05, 0.5);
const UPPER_RANGE: (f64, f64) = (0.5, 0.95);

/// Disk or ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Disk,
    Ring,
}

impl Shape {
    /// Parses a stored `shape`.
    pub fn from_name(name: &str) -> Option<Shape> {
        [Shape::Disk, Shape::Ring]
            .into_iter()
            .find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Shape::Disk => "disk",
            Shape::Ring => "ring",
        }
    }
}

/// The fitted bulk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BulkFit {
    pub radius_inner: f64,
    pub radius_outer: f64,
    /// Kolmogorov-Smirnov distance of the bulk against the fitted uniform annulus.
    pub fit_ks: f64,
    pub shape: Shape,
}

/// Bulk fit and outlier flags of a spectrum.
#[derive(Clone, Debug, PartialEq)]
pub struct Separation {
    /// One flag per eigenvalue, in the order given.
    pub is_outlier: Vec<bool>,
    pub bulk: BulkFit,
}

/// Least-squares line `v = c0 + c1 p` through the points whose plotting position lies in `range`.
fn line(u: &[f64], range: (f64, f64)) -> Option<(f64, f64)> {
    let m = u.len() as f64;
    let points: Vec<(f64, f64)> = u
        .iter()
        .enumerate()
        .map(|(k, &v)| ((k as f64 + 0.5) / m, v))
        .filter(|(p, _)| (range.0..=range.1).contains(p))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let count = points.len() as f64;
    let (mp, mv) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (p, v)| (a + p / count, b + v / count));
    let sxx: f64 = points.iter().map(|(p, _)| (p - mp) * (p - mp)).sum();
    let sxy: f64 = points.iter().map(|(p, v)| (p - mp) * (v - mv)).sum();
    let slope = sxy / sxx;
    Some((mv - slope * mp, slope))
}

/// Fits `[r_in^2, r_out^2]` to sorted `|lambda|^2` values (see the module doc).
fn fit_edges(u: &[f64]) -> (f64, f64) {
    let whole = (LOWER_RANGE.0, UPPER_RANGE.1);
    let (lower, upper) = match (line(u, LOWER_RANGE), line(u, UPPER_RANGE)) {
        (Some(l), Some(h)) => (l, h),
        _ => match line(u, whole).or_else(|| line(u, (0.0, 1.0))) {
            Some(l) => (l, l),
            None => return (u[0], u[0]),
        },
    };
    let low = lower.0.max(0.0);
    (low, (upper.0 + upper.1).max(low))
}

/// Kolmogorov-Smirnov distance of sorted `u` against the uniform law on `[low, high]`.
fn ks_uniform(u: &[f64], low: f64, high: f64) -> f64 {
    let m = u.len() as f64;
    let width = high - low;
    if width <= 1e-9 * high.max(f64::MIN_POSITIVE) {
        let tol = 1e-9 * high.max(1e-300);
        return u.iter().filter(|v| (**v - low).abs() > tol).count() as f64 / m;
    }
    u.iter()
        .enumerate()
        .map(|(k, v)| {
            let f = ((v - low) / width).clamp(0.0, 1.0);
            (f - k as f64 / m).abs().max((f - (k + 1) as f64 / m).abs())
        })
        .fold(0.0, f64::max)
}

/// Fits a bulk given as unsorted `|lambda|^2` values.
pub fn fit_bulk(moduli_sq: &[f64]) -> BulkFit {
    assert!(!moduli_sq.is_empty(), "an empty bulk has no fit");
    let mut u = moduli_sq.to_vec();
    u.sort_by(f64::total_cmp);
    let (low, high) = fit_edges(&u);
    let (radius_inner, radius_outer) = (low.sqrt(), high.sqrt());
    let shape = if radius_inner >= RING_RATIO * radius_outer && radius_outer > 0.0 {
        Shape::Ring
    } else {
        Shape::Disk
    };
    BulkFit {
        radius_inner,
        radius_outer,
        fit_ks: ks_uniform(&u, low, high),
        shape,
    }
}

/// Flags the outliers among eigenvalue `moduli` and fits the remaining bulk (module doc).
pub fn separate(moduli: &[f64]) -> Separation {
    let mut is_outlier = vec![false; moduli.len()];
    let mut bulk = fit_bulk(&moduli.iter().map(|r| r * r).collect::<Vec<_>>());
    for _ in 0..10 {
        let m = is_outlier.iter().filter(|o| !**o).count().max(1) as f64;
        let threshold = bulk.radius_outer * (1.0 + OUTLIER_SCALE / m.sqrt());
        let flags: Vec<bool> = moduli.iter().map(|&r| r > threshold).collect();
        if flags == is_outlier || flags.iter().all(|o| *o) {
            break;
        }
        is_outlier = flags;
        let rest: Vec<f64> = moduli
            .iter()
            .zip(&is_outlier)
            .filter(|(_, o)| !**o)
            .map(|(r, _)| r * r)
            .collect();
        bulk = fit_bulk(&rest);
    }
    Separation { is_outlier, bulk }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::uniform;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Moduli of `count` points uniform on the annulus `[r_in, r_out]`, drawn directly.
    fn annulus(count: usize, r_in: f64, r_out: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|_| (r_in * r_in + uniform(&mut rng) * (r_out * r_out - r_in * r_in)).sqrt())
            .collect()
    }

    #[test]
    fn annulus_sample_is_fitted_as_a_ring() {
        let s = separate(&annulus(500, 0.4, 0.6, 1));
        let b = s.bulk;
        assert!((b.radius_inner / 0.4 - 1.0).abs() < 0.03, "{b:?}");
        assert!((b.radius_outer / 0.6 - 1.0).abs() < 0.03, "{b:?}");
        assert!(b.fit_ks < 0.06, "{b:?}");
        assert_eq!(
            (b.shape, s.is_outlier.iter().filter(|o| **o).count()),
            (Shape::Ring, 0)
        );
    }

    #[test]
    fn disk_sample_is_fitted_as_a_disk() {
        let b = separate(&annulus(500, 0.0, 0.6, 2)).bulk;
        assert_eq!(b.shape, Shape::Disk, "{b:?}");
        assert!(
            b.radius_inner < 0.1 && (b.radius_outer / 0.6 - 1.0).abs() < 0.03 && b.fit_ks < 0.06,
            "{b:?}"
        );
    }

    #[test]
    fn a_far_point_is_the_one_outlier_and_leaves_the_fit() {
        let mut points = annulus(400, 0.0, 1.0, 3);
        let clean = separate(&points).bulk;
        points.push(3.0);
        let s = separate(&points);
        assert_eq!(s.is_outlier.iter().filter(|o| **o).count(), 1);
        assert!(s.is_outlier[400]);
        assert!((s.bulk.radius_outer / clean.radius_outer - 1.0).abs() < 1e-3);
    }

    #[test]
    fn ks_of_a_zero_width_ring_and_of_a_wrong_model() {
        assert_eq!(ks_uniform(&[1.0, 1.0, 1.0], 1.0, 1.0), 0.0);
        // Every point at the top of [0, 1]: the uniform CDF is 1 there, the sample's 0 below it.
        assert!((ks_uniform(&[0.99, 0.99, 0.99, 0.99], 0.0, 1.0) - 0.99).abs() < 1e-12);
    }
}
