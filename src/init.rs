//! Initial weights: Glorot-uniform input and readout weights, zero biases, and the recurrent
//! matrix of the grid's `init` axis (Haar-random orthogonal, or iid normal with variance
//! `(gain / sqrt(N))^2`). Draws are made in f64 from the stream handed in, in a fixed order:
//! `W_rec`, then `W_in`, then `W_out`.

use ndarray::Array2;
use ndarray_linalg::QR;
use rand::RngCore;

use crate::linalg::Real;
use crate::model::Params;
use crate::random::{normal, uniform};

/// The grid's `init` axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InitKind {
    Orthogonal,
    Normal,
}

impl InitKind {
    /// All values, in the order of the grid's documentation.
    pub const ALL: [InitKind; 2] = [InitKind::Orthogonal, InitKind::Normal];

    /// The name used in sweep files and tables.
    pub fn name(self) -> &'static str {
        match self {
            InitKind::Orthogonal => "orthogonal",
            InitKind::Normal => "normal",
        }
    }

    /// Parses a sweep-file name.
    pub fn from_name(name: &str) -> Option<InitKind> {
        InitKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A Haar-random orthogonal `n x n` matrix (row-major): the Q of a Gaussian matrix's QR
/// decomposition with each column multiplied by the sign of R's diagonal entry.
pub fn haar_orthogonal(n: usize, rng: &mut impl RngCore) -> Vec<f64> {
    let g = Array2::from_shape_fn((n, n), |_| normal(rng));
    let (q, r) = g.qr().expect("QR of a Gaussian matrix");
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let sign = if r[[j, j]] < 0.0 { -1.0 } else { 1.0 };
            out[i * n + j] = q[[i, j]] * sign;
        }
    }
    out
}

/// An `n x n` matrix of iid N(0, (gain / sqrt(n))^2) entries.
pub fn normal_matrix(n: usize, gain: f64, rng: &mut impl RngCore) -> Vec<f64> {
    let sd = gain / (n as f64).sqrt();
    (0..n * n).map(|_| sd * normal(rng)).collect()
}

fn glorot_uniform(count: usize, fan_in: usize, fan_out: usize, rng: &mut impl RngCore) -> Vec<f64> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..count)
        .map(|_| limit * (2.0 * uniform(rng) - 1.0))
        .collect()
}

/// The initial parameters of an `n`-unit network (nothing projected).
pub fn initial_params<T: Real>(
    n: usize,
    kind: InitKind,
    normal_gain: f64,
    rng: &mut impl RngCore,
) -> Params<T> {
    let w_rec = match kind {
        InitKind::Orthogonal => haar_orthogonal(n, rng),
        InitKind::Normal => normal_matrix(n, normal_gain, rng),
    };
    let w_in = glorot_uniform(2 * n, 2, n, rng);
    let w_out = glorot_uniform(n, n, 1, rng);
    let mut p = Params::zeros(n);
    p.w_rec_mut()
        .iter_mut()
        .zip(&w_rec)
        .for_each(|(d, s)| *d = T::of(*s));
    p.w_in_mut()
        .iter_mut()
        .zip(&w_in)
        .for_each(|(d, s)| *d = T::of(*s));
    p.w_out_mut()
        .iter_mut()
        .zip(&w_out)
        .for_each(|(d, s)| *d = T::of(*s));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn orthogonal_is_orthogonal_and_glorot_is_bounded() {
        let n = 30;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let p: Params<f64> = initial_params(n, InitKind::Orthogonal, 1.0, &mut rng);
        let q = p.w_rec();
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..n).map(|k| q[k * n + i] * q[k * n + j]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        let lim_in = (6.0f64 / 32.0).sqrt();
        assert!(p.w_in().iter().all(|w| w.abs() <= lim_in));
        assert!(p.w_out().iter().all(|w| w.abs() <= (6.0f64 / 31.0).sqrt()));
        assert!(p.b().iter().all(|&b| b == 0.0) && p.b_out() == 0.0);
    }

    #[test]
    fn normal_init_has_the_requested_variance() {
        let n = 300;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let w = normal_matrix(n, 1.5, &mut rng);
        let var = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
        assert!((var * n as f64 / 2.25 - 1.0).abs() < 0.02, "{var}");
    }
}
