//! Eigenvalue spectra of recurrent matrices, computed in f64 with LAPACK's `dgeev`, and
//! everything read off one matrix: the reference code's estimators, the bulk fit and outliers
//! of [`crate::bulk`], and the field's usual metrics. Eigenvalues are stored sorted by modulus
//! (largest first), then by imaginary part (largest first), so a conjugate pair always lists
//! `+im` before `-im`.

use ndarray::Array2;
use ndarray_linalg::{EigVals, SVD};

use crate::bulk::{separate, Separation};

/// The `[analysis]` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisSettings {
    /// Entries of the trained matrix with |w| below this are set to 0 before the analysis (the
    /// reference code's masking); 0 turns it off.
    pub mask_threshold: f64,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            mask_threshold: 1e-4,
        }
    }
}

/// One eigenvalue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eigenvalue {
    pub re: f64,
    pub im: f64,
}

impl Eigenvalue {
    /// |lambda|.
    pub fn modulus(&self) -> f64 {
        self.re.hypot(self.im)
    }
}

/// Why a spectrum could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SpectrumError {
    #[error("matrix has non-finite entries")]
    NonFinite,
    #[error("LAPACK eigenvalue routine failed: {0}")]
    Lapack(String),
}

/// Sets entries with |w| < threshold to 0 (nothing when the threshold is 0).
pub fn mask_small(w: &mut [f64], threshold: f64) {
    w.iter_mut()
        .filter(|x| x.abs() < threshold)
        .for_each(|x| *x = 0.0);
}

/// Eigenvalues of the row-major `n x n` matrix `w`, in the documented order.
pub fn eigenvalues(w: &[f64], n: usize) -> Result<Vec<Eigenvalue>, SpectrumError> {
    assert_eq!(w.len(), n * n, "matrix is not n x n");
    if w.iter().any(|x| !x.is_finite()) {
        return Err(SpectrumError::NonFinite);
    }
    let a = Array2::from_shape_vec((n, n), w.to_vec()).expect("shape checked above");
    let values = a
        .eigvals()
        .map_err(|e| SpectrumError::Lapack(e.to_string()))?;
    let mut out: Vec<Eigenvalue> = values
        .iter()
        .map(|c| Eigenvalue { re: c.re, im: c.im })
        .collect();
    out.sort_by(|a, b| {
        b.modulus()
            .total_cmp(&a.modulus())
            .then(b.im.total_cmp(&a.im))
            .then(b.re.total_cmp(&a.re))
    });
    Ok(out)
}

/// The reference code's estimators and the spectral radius of a sorted spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReferenceRadii {
    /// Largest modulus.
    pub spectral_radius: f64,
    /// 7th-largest modulus (the six largest taken as dominant); `None` when N < 7.
    pub outer: Option<f64>,
    /// Smallest modulus.
    pub inner: f64,
}

/// Reads the reference estimators off eigenvalues sorted as [`eigenvalues`] returns them.
pub fn reference_radii(sorted: &[Eigenvalue]) -> ReferenceRadii {
    ReferenceRadii {
        spectral_radius: sorted.first().map_or(0.0, Eigenvalue::modulus),
        outer: sorted.get(6).map(Eigenvalue::modulus),
        inner: sorted.last().map_or(0.0, Eigenvalue::modulus),
    }
}

/// Everything read off one matrix and its spectrum.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub radii: ReferenceRadii,
    /// Outlier flags (in eigenvalue order) and the bulk fit.
    pub separation: Separation,
    /// The outlier of largest modulus (its `+im` member for a pair).
    pub largest_outlier: Option<Eigenvalue>,
    /// Henrici departure from normality: `sqrt(||W||_F^2 - sum |lambda|^2) / ||W||_F`.
    pub henrici: f64,
    /// `1000 |arg lambda| / (2 pi)` Hz of the largest-modulus eigenvalue with `im > 0`.
    pub dominant_frequency_hz: Option<f64>,
    /// Normalised SVD entropy `-(1 / ln N) sum s_i ln s_i`, singular values normalised to sum 1.
    pub svd_entropy: f64,
    /// Circular-law radius `s sqrt(N)`, `s^2` the variance of the N^2 entries about their mean.
    pub radius_circular_law: f64,
}

impl Analysis {
    /// Number of outliers.
    pub fn n_outliers(&self) -> usize {
        self.separation.is_outlier.iter().filter(|o| **o).count()
    }
}

/// Eigenvalues of the row-major `n x n` matrix `w` and everything read off them.
pub fn analyse(w: &[f64], n: usize) -> Result<(Vec<Eigenvalue>, Analysis), SpectrumError> {
    let eigenvalues = eigenvalues(w, n)?;
    let separation = separate(
        &eigenvalues
            .iter()
            .map(Eigenvalue::modulus)
            .collect::<Vec<_>>(),
    );
    let largest_outlier = eigenvalues
        .iter()
        .zip(&separation.is_outlier)
        .find(|(_, o)| **o)
        .map(|(e, _)| *e);
    let analysis = Analysis {
        radii: reference_radii(&eigenvalues),
        largest_outlier,
        henrici: henrici(w, &eigenvalues),
        dominant_frequency_hz: dominant_frequency_hz(&eigenvalues),
        svd_entropy: svd_entropy(w, n)?,
        radius_circular_law: radius_circular_law(w, n),
        separation,
    };
    Ok((eigenvalues, analysis))
}

/// Henrici's departure from normality, relative to `||W||_F` (0 for a normal matrix).
pub fn henrici(w: &[f64], eigenvalues: &[Eigenvalue]) -> f64 {
    let frob2: f64 = w.iter().map(|x| x * x).sum();
    if frob2 == 0.0 {
        return 0.0;
    }
    let eig2: f64 = eigenvalues.iter().map(|e| e.re * e.re + e.im * e.im).sum();
    ((frob2 - eig2).max(0.0) / frob2).sqrt()
}

/// Frequency in Hz (one step = 1 ms) of the largest-modulus complex pair, if there is one.
pub fn dominant_frequency_hz(sorted: &[Eigenvalue]) -> Option<f64> {
    let scale = sorted.first().map_or(0.0, Eigenvalue::modulus);
    sorted
        .iter()
        .find(|e| e.im > 1e-12 * scale)
        .map(|e| 1000.0 * e.im.atan2(e.re) / std::f64::consts::TAU)
}

/// Normalised SVD entropy of `w` (Li et al., NeurIPS 2023); 0 for a zero matrix.
pub fn svd_entropy(w: &[f64], n: usize) -> Result<f64, SpectrumError> {
    let a = Array2::from_shape_vec((n, n), w.to_vec()).expect("n x n");
    let (_, s, _) = a
        .svd(false, false)
        .map_err(|e| SpectrumError::Lapack(e.to_string()))?;
    let total: f64 = s.sum();
    if total == 0.0 || n < 2 {
        return Ok(0.0);
    }
    let h: f64 = s
        .iter()
        .map(|x| x / total)
        .filter(|p| *p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    // Equal singular values give exactly 1; rounding must not push it past.
    Ok((h / (n as f64).ln()).min(1.0))
}

/// `s sqrt(N)` from the entries' own variance: Girko's circular-law radius of an iid matrix
/// with those entry statistics.
pub fn radius_circular_law(w: &[f64], n: usize) -> f64 {
    let count = w.len() as f64;
    let mean = w.iter().sum::<f64>() / count;
    let var = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / count;
    (var * n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn diagonal_matrix_eigenvalues_are_its_diagonal_sorted() {
        let w = [2.0, 0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.5];
        let ev = eigenvalues(&w, 3).unwrap();
        let re: Vec<f64> = ev.iter().map(|e| e.re).collect();
        assert_eq!(re, vec![-3.0, 2.0, 0.5]);
        assert!(ev.iter().all(|e| e.im == 0.0));
    }

    #[test]
    fn rotation_has_the_conjugate_pair_of_its_angle() {
        let th = 0.3f64;
        let r = 0.9;
        let w = [r * th.cos(), -r * th.sin(), r * th.sin(), r * th.cos()];
        let ev = eigenvalues(&w, 2).unwrap();
        assert!(close(ev[0].re, r * th.cos()) && close(ev[0].im, r * th.sin()));
        assert!(close(ev[1].re, r * th.cos()) && close(ev[1].im, -r * th.sin()));
    }

    #[test]
    fn companion_matrix_has_the_polynomial_roots() {
        // x^3 - 6x^2 + 11x - 6 = (x-1)(x-2)(x-3).
        let w = [6.0, -11.0, 6.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let ev = eigenvalues(&w, 3).unwrap();
        for (e, want) in ev.iter().zip([3.0, 2.0, 1.0]) {
            assert!((e.re - want).abs() < 1e-10 && e.im.abs() < 1e-10, "{e:?}");
        }
    }

    #[test]
    fn reference_radii_pick_the_seventh_and_the_last() {
        let w: Vec<f64> = (0..64)
            .map(|k| {
                if k % 9 == 0 {
                    1.0 + (k / 9) as f64
                } else {
                    0.0
                }
            })
            .collect();
        let ev = eigenvalues(&w, 8).unwrap();
        let r = reference_radii(&ev);
        assert_eq!((r.spectral_radius, r.outer, r.inner), (8.0, Some(2.0), 1.0));
        assert_eq!(reference_radii(&ev[..3]).outer, None);
    }

    #[test]
    fn metrics_of_a_rotation_and_a_jordan_block() {
        // Rotation by 0.2 rad scaled by 0.9: normal, oscillates at 1000 * 0.2 / 2pi Hz.
        let (c, s) = (0.9 * 0.2f64.cos(), 0.9 * 0.2f64.sin());
        let w = [c, -s, s, c];
        let ev = eigenvalues(&w, 2).unwrap();
        assert!(henrici(&w, &ev) < 1e-7);
        assert!((dominant_frequency_hz(&ev).unwrap() - 100.0 / std::f64::consts::PI).abs() < 1e-9);
        assert!(
            (svd_entropy(&w, 2).unwrap() - 1.0).abs() < 1e-12,
            "equal singular values"
        );
        // Nilpotent Jordan block: all eigenvalues 0, so all of ||W||_F is non-normal.
        let j = [0.0, 1.0, 0.0, 0.0];
        assert_eq!(henrici(&j, &eigenvalues(&j, 2).unwrap()), 1.0);
        assert_eq!(dominant_frequency_hz(&eigenvalues(&j, 2).unwrap()), None);
        assert_eq!(
            svd_entropy(&j, 2).unwrap(),
            0.0,
            "one non-zero singular value"
        );
        assert!((radius_circular_law(&j, 2) - (2.0f64 * 0.1875).sqrt()).abs() < 1e-12);
    }

    use crate::bulk::Shape;
    use crate::init::{haar_orthogonal, normal_matrix};
    use crate::random::normal;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const N: usize = 400;

    fn ginibre(seed: u64) -> Vec<f64> {
        normal_matrix(N, 1.0, &mut ChaCha8Rng::seed_from_u64(seed))
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a / b - 1.0).abs()
    }

    #[test]
    fn ginibre_is_a_unit_disk_without_outliers() {
        let (_, a) = analyse(&ginibre(1), N).unwrap();
        let b = a.separation.bulk;
        assert!(
            rel(b.radius_outer, 1.0) < 0.03 && b.radius_inner < 0.1,
            "{b:?}"
        );
        assert_eq!((b.shape, a.n_outliers()), (Shape::Disk, 0), "{b:?}");
        assert!(
            rel(a.radius_circular_law, 1.0) < 0.01,
            "{}",
            a.radius_circular_law
        );
    }

    #[test]
    fn rank_one_mean_gives_exactly_one_outlier_and_keeps_the_bulk() {
        let w = ginibre(2);
        let (_, clean) = analyse(&w, N).unwrap();
        let mu = 3.0 / N as f64;
        let shifted: Vec<f64> = w.iter().map(|x| x + mu).collect();
        let (_, a) = analyse(&shifted, N).unwrap();
        assert_eq!(a.n_outliers(), 1);
        let out = a.largest_outlier.unwrap();
        assert!(rel(out.re, 3.0) < 0.05 && out.im == 0.0, "{out:?}");
        let (b, c) = (a.separation.bulk, clean.separation.bulk);
        assert!(rel(b.radius_outer, c.radius_outer) < 0.03, "{b:?} vs {c:?}");
    }

    #[test]
    fn haar_orthogonal_is_a_ring_of_radius_one() {
        let q = haar_orthogonal(N, &mut ChaCha8Rng::seed_from_u64(3));
        let (_, a) = analyse(&q, N).unwrap();
        let b = a.separation.bulk;
        assert_eq!(b.shape, Shape::Ring, "{b:?}");
        assert!(
            rel(b.radius_inner, 1.0) < 0.01 && rel(b.radius_outer, 1.0) < 0.01,
            "{b:?}"
        );
        assert!(a.henrici < 1e-6 && a.n_outliers() == 0, "{a:?}");
    }

    /// Rajan & Abbott (2006): columns of fraction f excitatory with mean mu_E / sqrt(N) and
    /// variance sigma_E^2 / N, the rest with mu_I, sigma_I; balanced f mu_E + (1 - f) mu_I = 0;
    /// the fluctuations of each row made to sum to zero. Bulk radius
    /// sqrt(f sigma_E^2 + (1 - f) sigma_I^2), no outliers, whatever the means.
    #[test]
    fn balanced_rajan_abbott_bulk_follows_the_variances_not_the_means() {
        let (f, sigma_e, sigma_i, mu_e) = (0.8, 1.0, 2.0, 1.0);
        let mu_i = -f * mu_e / (1.0 - f);
        let n_exc = (f * N as f64) as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let scale = (N as f64).sqrt();
        let mut w = vec![0.0; N * N];
        for i in 0..N {
            let row = &mut w[i * N..(i + 1) * N];
            for (j, x) in row.iter_mut().enumerate() {
                let sigma = if j < n_exc { sigma_e } else { sigma_i };
                *x = sigma * normal(&mut rng) / scale;
            }
            let mean = row.iter().sum::<f64>() / N as f64;
            for (j, x) in row.iter_mut().enumerate() {
                *x += (if j < n_exc { mu_e } else { mu_i }) / scale - mean;
            }
        }
        let (_, a) = analyse(&w, N).unwrap();
        let want = (f * sigma_e * sigma_e + (1.0 - f) * sigma_i * sigma_i).sqrt();
        let b = a.separation.bulk;
        assert!(rel(b.radius_outer, want) < 0.05, "{b:?} want {want}");
        assert_eq!(a.n_outliers(), 0, "{a:?}");
    }

    #[test]
    fn masking_and_non_finite_input() {
        let mut w = vec![1e-5, -2e-4, 0.3, -5e-5];
        mask_small(&mut w, 1e-4);
        assert_eq!(w, vec![0.0, -2e-4, 0.3, 0.0]);
        assert!(matches!(
            eigenvalues(&[f64::NAN, 0.0, 0.0, 1.0], 2),
            Err(SpectrumError::NonFinite)
        ));
    }
}
