//! The vanilla tanh RNN (Keras SimpleRNN semantics, row-vector convention) and its exact
//! gradient by backpropagation through time:
//!
//! ```text
//! a_t = x_t W_in + h_{t-1} W_rec + b,   h_t = tanh(a_t),   y_t = h_t W_out + b_out,   h_0 = 0
//! L   = mean over batch x time of (y_t - target_t)^2
//! ```
//!
//! All parameters live in one contiguous vector (`W_in`, `W_rec`, `b`, `W_out`, `b_out`), so the
//! optimizer, clipping and checkpoints treat them as one. A [`Workspace`] holds every buffer of a
//! forward/backward pass for a maximum batch, so a training step allocates nothing. The
//! recurrences go through BLAS (one `B x N x N` GEMM per step forward and backward) and the
//! recurrent-weight gradient is a single GEMM over all steps at once; the cheap rest (readout,
//! tanh derivative, gradients of `W_in`, `b`, `W_out`) is fused into the time loops so each
//! step's rows are touched while they are in cache instead of in extra passes over all states.

use crate::linalg::{Mat, Real};
use crate::task::INPUTS;

fn size((rows, cols): (usize, usize)) -> usize {
    rows * cols
}

/// The five parameter tensors of an `n`-unit network, stored back to back.
#[derive(Clone, Debug, PartialEq)]
pub struct Params<T> {
    n: usize,
    data: Vec<T>,
}

/// Names of the five tensors, in storage order.
pub const TENSORS: [&str; 5] = ["w_in", "w_rec", "b", "w_out", "b_out"];

/// `(rows, cols)` of tensor `k` (in [`TENSORS`] order) of an `n`-unit network.
pub fn tensor_shape(n: usize, k: usize) -> (usize, usize) {
    [(INPUTS, n), (n, n), (1, n), (n, 1), (1, 1)][k]
}

impl<T: Real> Params<T> {
    /// Parameters from their scalars in storage order ([`TENSORS`], each row-major).
    pub fn from_vec(n: usize, data: Vec<T>) -> Option<Params<T>> {
        (data.len() == Self::len(n)).then_some(Params { n, data })
    }

    /// All-zero parameters of an `n`-unit network.
    pub fn zeros(n: usize) -> Params<T> {
        Params {
            n,
            data: vec![T::zero(); Self::len(n)],
        }
    }

    /// Number of scalars of an `n`-unit network: `2N + N^2 + N + N + 1`.
    pub fn len(n: usize) -> usize {
        (0..TENSORS.len()).map(|k| size(tensor_shape(n, k))).sum()
    }

    /// The units.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Start offsets of the five tensors and the end.
    fn offsets(&self) -> [usize; 6] {
        let mut o = [0; 6];
        for k in 0..TENSORS.len() {
            o[k + 1] = o[k] + size(tensor_shape(self.n, k));
        }
        o
    }

    /// Tensor `k` (in [`TENSORS`] order).
    pub fn tensor(&self, k: usize) -> &[T] {
        let o = self.offsets();
        &self.data[o[k]..o[k + 1]]
    }

    fn tensor_mut(&mut self, k: usize) -> &mut [T] {
        let o = self.offsets();
        &mut self.data[o[k]..o[k + 1]]
    }

    /// All scalars, in storage order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
    /// All scalars, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// `W_in`, 2 x N row-major.
    pub fn w_in(&self) -> &[T] {
        self.tensor(0)
    }
    /// `W_rec`, N x N row-major; entry (i, j) is the weight from unit i to unit j.
    pub fn w_rec(&self) -> &[T] {
        self.tensor(1)
    }
    /// Hidden bias `b`.
    pub fn b(&self) -> &[T] {
        self.tensor(2)
    }
    /// Readout `W_out`, N x 1.
    pub fn w_out(&self) -> &[T] {
        self.tensor(3)
    }
    /// Readout bias.
    pub fn b_out(&self) -> T {
        self.tensor(4)[0]
    }
    pub fn w_in_mut(&mut self) -> &mut [T] {
        self.tensor_mut(0)
    }
    pub fn w_rec_mut(&mut self) -> &mut [T] {
        self.tensor_mut(1)
    }
    pub fn w_out_mut(&mut self) -> &mut [T] {
        self.tensor_mut(3)
    }
    /// `W_in` and `W_rec` at once, for the sign projection.
    pub fn w_in_rec_mut(&mut self) -> (&mut [T], &mut [T]) {
        let o = self.offsets();
        let (w_in, rest) = self.data[..o[2]].split_at_mut(o[1]);
        (w_in, rest)
    }

    /// `W_rec` widened to f64, for the eigen-analysis.
    pub fn w_rec_f64(&self) -> Vec<f64> {
        self.w_rec().iter().map(|w| w.f64()).collect()
    }
}

/// Buffers of one forward/backward pass for batches of up to `max_batch` trials of up to
/// `steps` steps: `(2 T + 1) B N + 2 T B` scalars (states, their gradients, outputs, `dL/dy`).
pub struct Workspace<T> {
    n: usize,
    steps: usize,
    max_batch: usize,
    /// Hidden states `h_0..h_T`, each `B x N`, back to back.
    h: Vec<T>,
    /// Pre-activation gradients `dL/da_1..dL/da_T`, each `B x N`.
    da: Vec<T>,
    /// Outputs `y_1..y_T`, each `B`.
    y: Vec<T>,
    /// `dL/dy`, each `B`.
    dy: Vec<T>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for an `n`-unit network, trials of `steps` steps, batches of up to `max_batch`.
    pub fn new(n: usize, steps: usize, max_batch: usize) -> Workspace<T> {
        let bn = max_batch * n;
        Workspace {
            n,
            steps,
            max_batch,
            h: vec![T::zero(); (steps + 1) * bn],
            da: vec![T::zero(); steps * bn],
            y: vec![T::zero(); steps * max_batch],
            dy: vec![T::zero(); steps * max_batch],
        }
    }

    /// The output of the last forward pass at step `t` for trial `i` of a batch of `b`.
    pub fn output(&self, t: usize, i: usize, b: usize) -> T {
        self.y[t * b + i]
    }

    /// The hidden state `h` after step `t` of trial `i` of a batch of `b` (N values).
    pub fn state(&self, t: usize, i: usize, b: usize) -> &[T] {
        let start = ((t + 1) * b + i) * self.n;
        &self.h[start..start + self.n]
    }

    fn check(&self, p: &Params<T>, b: usize) {
        assert!(
            p.n() == self.n && b <= self.max_batch && b > 0,
            "workspace does not fit the batch"
        );
    }
}

/// Runs the network on a time-major batch of `b` trials (`x` is `T x b x 2`) and keeps every
/// state in `ws` for [`backward`]. Outputs are read with [`Workspace::output`].
pub fn forward<T: Real>(p: &Params<T>, x: &[T], b: usize, ws: &mut Workspace<T>) {
    ws.check(p, b);
    let (n, steps) = (ws.n, ws.steps);
    let bn = b * n;
    let (w_in, w_rec, bias, w_out, b_out) = (p.w_in(), p.w_rec(), p.b(), p.w_out(), p.b_out());
    ws.h[..bn].fill(T::zero());
    for t in 0..steps {
        let (prev, cur) = ws.h[..(t + 2) * bn].split_at_mut((t + 1) * bn);
        let prev = &prev[t * bn..];
        for (i, row) in cur.chunks_exact_mut(n).enumerate() {
            let x0 = x[(t * b + i) * INPUTS];
            let x1 = x[(t * b + i) * INPUTS + 1];
            for (j, a) in row.iter_mut().enumerate() {
                *a = x0 * w_in[j] + x1 * w_in[n + j] + bias[j];
            }
        }
        T::gemm(
            b,
            n,
            n,
            T::one(),
            Mat::new(prev, n),
            Mat::new(w_rec, n),
            T::one(),
            cur,
            n,
        );
        T::tanh_in_place(cur);
        // Readout while the step's states are in cache.
        for (i, row) in cur.chunks_exact(n).enumerate() {
            ws.y[t * b + i] = row
                .iter()
                .zip(w_out)
                .fold(b_out, |acc, (h, w)| acc + *h * *w);
        }
    }
}

/// Mean squared error of the last forward pass against time-major targets `y` (`T x b`);
/// also stores `dL/dy` for [`backward`]. Accumulated in f64.
pub fn loss<T: Real>(target: &[T], b: usize, ws: &mut Workspace<T>) -> f64 {
    let count = ws.steps * b;
    let scale = T::of(2.0 / count as f64);
    let mut sum = 0.0f64;
    for ((y, t), dy) in ws.y[..count]
        .iter()
        .zip(&target[..count])
        .zip(&mut ws.dy[..count])
    {
        let e = *y - *t;
        sum += e.f64() * e.f64();
        *dy = e * scale;
    }
    sum / count as f64
}

/// The gradient of the last [`loss`] with respect to every parameter, written into `grad`
/// (same layout as `p`). `x` is the batch given to [`forward`].
pub fn backward<T: Real>(
    p: &Params<T>,
    x: &[T],
    b: usize,
    ws: &mut Workspace<T>,
    grad: &mut Params<T>,
) {
    ws.check(p, b);
    let (n, steps) = (ws.n, ws.steps);
    let bn = b * n;
    let rows = steps * b;
    let w_out = p.w_out();
    let Workspace { h, da, dy, .. } = ws;
    let (h, da, dy) = (&h[..(steps + 1) * bn], &mut da[..steps * bn], &dy[..rows]);
    let (g_in, rest) = grad.data.split_at_mut(INPUTS * n);
    let (g_rec, rest) = rest.split_at_mut(n * n);
    let (g_b, rest) = rest.split_at_mut(n);
    let (g_out, g_bout) = rest.split_at_mut(n);
    let (g_in0, g_in1) = g_in.split_at_mut(n);
    for g in [&mut *g_in0, &mut *g_in1, &mut *g_b, &mut *g_out] {
        g.fill(T::zero());
    }
    for t in (0..steps).rev() {
        let (cur, next) = da.split_at_mut((t + 1) * bn);
        let cur = &mut cur[t * bn..];
        for (i, row) in cur.chunks_exact_mut(n).enumerate() {
            let d = dy[t * b + i];
            row.iter_mut().zip(w_out).for_each(|(g, w)| *g = d * *w);
        }
        if t + 1 < steps {
            T::gemm(
                b,
                n,
                n,
                T::one(),
                Mat::new(&next[..bn], n),
                Mat::t(p.w_rec(), n),
                T::one(),
                cur,
                n,
            );
        }
        // One pass over the step's rows: tanh derivative, and the gradients of W_out, b, W_in.
        let h_t = &h[(t + 1) * bn..(t + 2) * bn];
        for (i, (row, h_row)) in cur.chunks_exact_mut(n).zip(h_t.chunks_exact(n)).enumerate() {
            let (d, x0, x1) = (
                dy[t * b + i],
                x[(t * b + i) * INPUTS],
                x[(t * b + i) * INPUTS + 1],
            );
            for j in 0..n {
                let hj = h_row[j];
                g_out[j] += hj * d;
                let g = row[j] * (T::one() - hj * hj);
                row[j] = g;
                g_b[j] += g;
                g_in0[j] += x0 * g;
                g_in1[j] += x1 * g;
            }
        }
    }
    T::gemm(
        n,
        n,
        rows,
        T::one(),
        Mat::t(&h[..rows * n], n),
        Mat::new(da, n),
        T::zero(),
        g_rec,
        n,
    );
    g_bout[0] = dy.iter().fold(T::zero(), |s, d| s + *d);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{initial_params, InitKind};
    use crate::task::Task;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A tiny AND batch, rendered in f64.
    fn batch(b: usize, rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
        let task = Task::Xor;
        let steps = task.steps();
        let (mut x, mut y) = (vec![0.0; steps * b * INPUTS], vec![0.0; steps * b]);
        for (i, trial) in task.draw_many(rng, b).iter().enumerate() {
            task.render(trial, i, b, &mut x, &mut y);
        }
        (x, y)
    }

    fn loss_at(p: &Params<f64>, x: &[f64], y: &[f64], b: usize, ws: &mut Workspace<f64>) -> f64 {
        forward(p, x, b, ws);
        loss(y, b, ws)
    }

    #[test]
    fn bptt_matches_central_differences_for_all_tensors() {
        let (n, b) = (4, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut p: Params<f64> = initial_params(n, InitKind::Normal, 1.5, &mut rng);
        // Non-zero biases so their gradients are exercised away from the initial point.
        p.data[INPUTS * n + n * n..]
            .iter_mut()
            .enumerate()
            .for_each(|(k, v)| *v = 0.1 * (k as f64 - 2.0));
        let (x, y) = batch(b, &mut rng);
        let mut ws = Workspace::new(n, Task::Xor.steps(), b);
        let mut grad = Params::zeros(n);
        loss_at(&p, &x, &y, b, &mut ws);
        backward(&p, &x, b, &mut ws, &mut grad);
        let eps = 1e-6;
        for k in 0..TENSORS.len() {
            let o = p.offsets();
            let mut worst = 0.0f64;
            for idx in o[k]..o[k + 1] {
                let mut q = p.clone();
                q.data[idx] += eps;
                let up = loss_at(&q, &x, &y, b, &mut ws);
                q.data[idx] -= 2.0 * eps;
                let down = loss_at(&q, &x, &y, b, &mut ws);
                let numeric = (up - down) / (2.0 * eps);
                let analytic = grad.data[idx];
                let rel = (numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(1e-6);
                worst = worst.max(rel);
            }
            assert!(
                worst <= 1e-6,
                "{}: worst relative error {worst:e}",
                TENSORS[k]
            );
        }
    }

    /// The f32 training kernel agrees with the same computation in f64 to within f32
    /// rounding: what an optimisation of the kernel may change, and all it may change.
    #[test]
    fn f32_gradient_is_the_f64_gradient_up_to_rounding() {
        let (n, b) = (64, 16);
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let p64: Params<f64> = initial_params(n, InitKind::Orthogonal, 1.0, &mut rng);
        let mut p32: Params<f32> = Params::zeros(n);
        p32.data
            .iter_mut()
            .zip(&p64.data)
            .for_each(|(a, b)| *a = *b as f32);
        let p64 = Params {
            n,
            data: p32.data.iter().map(|&v| v as f64).collect(),
        };
        let (x, y) = batch(b, &mut rng);
        let (x32, y32): (Vec<f32>, Vec<f32>) = (
            x.iter().map(|&v| v as f32).collect(),
            y.iter().map(|&v| v as f32).collect(),
        );
        let steps = Task::Xor.steps();
        let (mut ws64, mut ws32) = (Workspace::new(n, steps, b), Workspace::new(n, steps, b));
        let (mut g64, mut g32) = (Params::zeros(n), Params::<f32>::zeros(n));
        let l64 = loss_at(&p64, &x, &y, b, &mut ws64);
        forward(&p32, &x32, b, &mut ws32);
        let l32 = loss(&y32, b, &mut ws32);
        backward(&p64, &x, b, &mut ws64, &mut g64);
        backward(&p32, &x32, b, &mut ws32, &mut g32);
        assert!((l32 / l64 - 1.0).abs() < 1e-5, "loss {l32} vs {l64}");
        for (k, name) in TENSORS.iter().enumerate() {
            let (a, e) = (g32.tensor(k), g64.tensor(k));
            let diff: f64 = a
                .iter()
                .zip(e)
                .map(|(a, e)| (*a as f64 - e).powi(2))
                .sum::<f64>()
                .sqrt();
            let norm: f64 = e.iter().map(|e| e * e).sum::<f64>().sqrt();
            assert!(
                diff <= 1e-5 * norm,
                "{}: relative error {:e}",
                name,
                diff / norm
            );
        }
    }

    #[test]
    fn forward_matches_a_direct_loop() {
        let (n, b) = (3, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let p: Params<f64> = initial_params(n, InitKind::Orthogonal, 1.0, &mut rng);
        let (x, _) = batch(b, &mut rng);
        let steps = Task::Xor.steps();
        let mut ws = Workspace::new(n, steps, b);
        forward(&p, &x, b, &mut ws);
        for i in 0..b {
            let mut h = vec![0.0; n];
            for t in 0..steps {
                let next: Vec<f64> = (0..n)
                    .map(|j| {
                        let mut a = x[(t * b + i) * 2] * p.w_in()[j]
                            + x[(t * b + i) * 2 + 1] * p.w_in()[n + j]
                            + p.b()[j];
                        a += (0..n).map(|k| h[k] * p.w_rec()[k * n + j]).sum::<f64>();
                        a.tanh()
                    })
                    .collect();
                h = next;
                let y: f64 = h.iter().zip(p.w_out()).map(|(h, w)| h * w).sum::<f64>() + p.b_out();
                assert!((ws.output(t, i, b) - y).abs() < 1e-12);
            }
        }
    }
}
