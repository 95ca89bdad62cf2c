//! Dense kernels of the numeric core: a float trait over `f32` and `f64` whose matrix
//! product is OpenBLAS's `sgemm`/`dgemm` on row-major slices, and the switch that pins
//! OpenBLAS to one thread. Training runs in `f32`; gradient checks run the same code in `f64`.

use std::fmt::Debug;
use std::ops::{AddAssign, MulAssign, SubAssign};

use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use num_traits::Float;

extern "C" {
    fn openblas_set_num_threads(num_threads: std::os::raw::c_int);
}

/// Sets how many threads each OpenBLAS call may use. The setting is process-wide.
/// Results are bit-identical across runs only for a fixed value; the runner uses 1.
pub fn set_blas_threads(threads: usize) {
    let threads = threads.clamp(1, 1024) as std::os::raw::c_int;
    // SAFETY: a plain setter of OpenBLAS's global thread count.
    unsafe { openblas_set_num_threads(threads) }
}

/// A row-major matrix operand: its data, its leading dimension and whether it is used transposed.
#[derive(Clone, Copy)]
pub struct Mat<'a, T> {
    pub data: &'a [T],
    pub ld: usize,
    pub trans: bool,
}

impl<'a, T> Mat<'a, T> {
    /// `data` used as stored, with `ld` elements between rows.
    pub fn new(data: &'a [T], ld: usize) -> Self {
        Mat {
            data,
            ld,
            trans: false,
        }
    }
    /// `data` used transposed.
    pub fn t(data: &'a [T], ld: usize) -> Self {
        Mat {
            data,
            ld,
            trans: true,
        }
    }
    fn check(&self, rows: usize, cols: usize, what: &str) {
        let (r, c) = if self.trans {
            (cols, rows)
        } else {
            (rows, cols)
        };
        assert!(c <= self.ld, "{what}: leading dimension {} < {c}", self.ld);
        let need = if r == 0 { 0 } else { (r - 1) * self.ld + c };
        assert!(
            self.data.len() >= need,
            "{what}: {} elements < {need}",
            self.data.len()
        );
    }
}

fn op(trans: bool) -> CBLAS_TRANSPOSE {
    if trans {
        CBLAS_TRANSPOSE::CblasTrans
    } else {
        CBLAS_TRANSPOSE::CblasNoTrans
    }
}

/// The float types the model runs in.
pub trait Real:
    Float + AddAssign + SubAssign + MulAssign + Default + Debug + Send + Sync + 'static
{
    /// `C = alpha * op(A) op(B) + beta * C`, with op(A) `m x k`, op(B) `k x n` and C `m x n`
    /// row-major with leading dimension `ldc`.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        n: usize,
        k: usize,
        alpha: Self,
        a: Mat<Self>,
        b: Mat<Self>,
        beta: Self,
        c: &mut [Self],
        ldc: usize,
    );
    fn of(x: f64) -> Self;
    fn f64(self) -> f64;
    /// `x <- tanh(x)` for every element.
    fn tanh_in_place(xs: &mut [Self]);
}

macro_rules! impl_real {
    ($t:ty, $gemm:path, $tanh:path) => {
        impl Real for $t {
            fn gemm(
                m: usize,
                n: usize,
                k: usize,
                alpha: Self,
                a: Mat<Self>,
                b: Mat<Self>,
                beta: Self,
                c: &mut [Self],
                ldc: usize,
            ) {
                if m == 0 || n == 0 {
                    return;
                }
                a.check(m, k, "gemm A");
                b.check(k, n, "gemm B");
                assert!(n <= ldc && c.len() >= (m - 1) * ldc + n, "gemm C too small");
                // SAFETY: every operand's extent was checked against its slice above.
                unsafe {
                    $gemm(
                        CBLAS_LAYOUT::CblasRowMajor,
                        op(a.trans),
                        op(b.trans),
                        m as i32,
                        n as i32,
                        k as i32,
                        alpha,
                        a.data.as_ptr(),
                        a.ld.max(1) as i32,
                        b.data.as_ptr(),
                        b.ld.max(1) as i32,
                        beta,
                        c.as_mut_ptr(),
                        ldc.max(1) as i32,
                    )
                }
            }
            fn of(x: f64) -> Self {
                x as $t
            }
            fn f64(self) -> f64 {
                self as f64
            }
            fn tanh_in_place(xs: &mut [Self]) {
                $tanh(xs)
            }
        }
    };
}

impl_real!(f32, cblas_sys::cblas_sgemm, tanh_f32);
impl_real!(f64, cblas_sys::cblas_dgemm, tanh_f64);

fn tanh_f64(xs: &mut [f64]) {
    xs.iter_mut().for_each(|x| *x = x.tanh());
}

/// tanh of f32 values within 2e-7 absolute error, branch-free so the loop vectorises
/// (libm's `tanhf` is a call per element and costs as much as the recurrent GEMM at N <= 100).
/// `tanh(x) = sign(x) (1 - e) / (1 + e)` with `e = exp(-2|x|)`; `exp` by rounding
/// `-2|x| log2(e)` to the nearest integer `k` (the 1.5 * 2^23 trick), a degree-7 Taylor
/// polynomial of `exp(r)` on |r| <= ln(2)/2 (error < 5e-9), and `2^k` assembled in the exponent bits.
fn tanh_f32(xs: &mut [f32]) {
    const ROUND: f32 = 12_582_912.0;
    for x in xs.iter_mut() {
        let a = x.abs().min(9.0);
        let z = -2.0 * a * std::f32::consts::LOG2_E;
        let k = (z + ROUND) - ROUND;
        let r = (z - k) * std::f32::consts::LN_2;
        let p = 1.0
            + r * (1.0
                + r * (0.5
                    + r * (1.0 / 6.0
                        + r * (1.0 / 24.0
                            + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
        let e = p * f32::from_bits(((k as i32 + 127) as u32) << 23);
        let t = ((1.0 - e) / (1.0 + e)).copysign(*x);
        // NaN must propagate (`min` above would turn it into 1): a blend, so the loop still vectorises.
        *x = if x.is_nan() { *x } else { t };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_is_within_2e7_everywhere() {
        let xs: Vec<f32> = (-200_000..=200_000)
            .map(|k| k as f32 * 1e-4)
            .chain([1e-30, -1e-8, 50.0, -1e4, f32::MAX])
            .collect();
        let mut ys = xs.clone();
        f32::tanh_in_place(&mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            let want = (*x as f64).tanh();
            assert!(
                (*y as f64 - want).abs() < 2e-7,
                "tanh({x}) = {y}, want {want}"
            );
        }
        assert_eq!(ys[200_000], 0.0);
        let mut nan = [f32::NAN, 1.0];
        f32::tanh_in_place(&mut nan);
        assert!(nan[0].is_nan());
    }

    #[test]
    fn gemm_matches_hand_product_with_transposes() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[1,0],[0,1],[1,1]] (3x2): AB = [[4,5],[10,11]].
        let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0f64, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [1.0f64; 4];
        f64::gemm(
            2,
            2,
            3,
            1.0,
            Mat::new(&a, 3),
            Mat::new(&b, 2),
            0.5,
            &mut c,
            2,
        );
        assert_eq!(c, [4.5, 5.5, 10.5, 11.5]);
        // A^T A (3x3) from A stored 2x3.
        let mut g = [0.0f64; 9];
        f64::gemm(3, 3, 2, 1.0, Mat::t(&a, 3), Mat::new(&a, 3), 0.0, &mut g, 3);
        assert_eq!(g, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    }
}
