//! Eigenvalue spectra of recurrent matrices, computed in f64 with LAPACK's `dgeev`, and the
//! estimators read off them. Eigenvalues are stored sorted by modulus (largest first), then by
//! imaginary part (largest first), so a conjugate pair always lists `+im` before `-im`.

use ndarray::Array2;
use ndarray_linalg::EigVals;

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
