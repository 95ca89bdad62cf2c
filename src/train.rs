//! Training of one network: Keras-2.3 Adam with time-based learning-rate decay and one global
//! clipnorm over all five tensors, the sign projection after every update, epochs over a fixed
//! training set reshuffled each epoch, early stopping on the epoch's mean loss, and scoring on
//! a held-out test set. Why a run stopped is a [`StopReason`]. Random streams are handed in.

use rand::RngCore;

use crate::dale::SignRule;
use crate::linalg::Real;
use crate::model::{backward, forward, loss, Params, Workspace};
use crate::random::shuffle;
use crate::task::{trial_succeeds, Task, Trial, INPUTS};

/// The `[train]` settings. Defaults are the reference settings of the method.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    pub epochs: usize,
    pub trials: usize,
    pub test_trials: usize,
    pub batch: usize,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    pub decay: f64,
    /// Global gradient-norm clip; 0 turns clipping off.
    pub clipnorm: f64,
    /// Stop after an epoch whose mean training loss is below this; 0 turns it off.
    pub early_stop_loss: f64,
    /// Gain `g` of the normal init: entries N(0, (g / sqrt(N))^2).
    pub normal_gain: f64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 20,
            trials: 15_000,
            test_trials: 1_000,
            batch: 64,
            lr: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            decay: 1e-4,
            clipnorm: 0.5,
            early_stop_loss: 9e-5,
            normal_gain: 1.0,
        }
    }
}

/// Keras-2.3 Adam state over a flat parameter vector.
pub struct Adam<T> {
    m: Vec<T>,
    v: Vec<T>,
    /// Updates done so far.
    pub iterations: u64,
}

impl<T: Real> Adam<T> {
    /// Zeroed moments for `len` parameters.
    pub fn new(len: usize) -> Adam<T> {
        Adam {
            m: vec![T::zero(); len],
            v: vec![T::zero(); len],
            iterations: 0,
        }
    }

    /// One update of `theta` by `grad` (clipped in place first): returns the gradient norm
    /// before clipping. A non-finite norm leaves `theta` and the moments untouched.
    pub fn step(&mut self, s: &TrainSettings, theta: &mut [T], grad: &mut [T]) -> f64 {
        let norm = grad.iter().map(|g| g.f64() * g.f64()).sum::<f64>().sqrt();
        if !norm.is_finite() {
            return norm;
        }
        if s.clipnorm > 0.0 && norm >= s.clipnorm {
            let scale = T::of(s.clipnorm / norm);
            grad.iter_mut().for_each(|g| *g *= scale);
        }
        let it = self.iterations as f64;
        let lr = s.lr / (1.0 + s.decay * it);
        let t = it + 1.0;
        let lr_t = T::of(lr * (1.0 - s.beta2.powf(t)).sqrt() / (1.0 - s.beta1.powf(t)));
        let (b1, b2, eps) = (T::of(s.beta1), T::of(s.beta2), T::of(s.epsilon));
        let (c1, c2) = (T::one() - b1, T::one() - b2);
        for (((p, g), m), v) in theta
            .iter_mut()
            .zip(grad.iter())
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = b1 * *m + c1 * *g;
            *v = b2 * *v + c2 * *g * *g;
            *p -= lr_t * *m / (v.sqrt() + eps);
        }
        self.iterations += 1;
        norm
    }
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// All configured epochs ran.
    MaxEpochs,
    /// An epoch's mean training loss fell below `early_stop_loss`.
    LossTarget,
    /// A batch loss was NaN or infinite: the run diverged.
    NonFiniteLoss,
    /// The gradient overflowed (exploding gradients through time): the run diverged; the
    /// update was not applied.
    NonFiniteGradient,
}

impl StopReason {
    /// The name stored in the `stop_reason` column.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::MaxEpochs => "max_epochs",
            StopReason::LossTarget => "loss_target",
            StopReason::NonFiniteLoss => "non_finite_loss",
            StopReason::NonFiniteGradient => "non_finite_gradient",
        }
    }

    /// Whether training diverged.
    pub fn diverged(self) -> bool {
        matches!(
            self,
            StopReason::NonFiniteLoss | StopReason::NonFiniteGradient
        )
    }
}

/// What training produced.
pub struct Trained<T> {
    pub params: Params<T>,
    /// Mean training loss of each completed epoch.
    pub history: Vec<f64>,
    pub steps: u64,
    pub stop: StopReason,
}

/// Score of a network on a set of trials.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Fraction of trials that succeed.
    pub accuracy: f64,
    /// Mean squared error over trials x steps.
    pub mse: f64,
}

/// Reusable input/target/workspace buffers for batches of one task.
struct Batcher<T> {
    task: Task,
    x: Vec<T>,
    y: Vec<T>,
    ws: Workspace<T>,
}

impl<T: Real> Batcher<T> {
    fn new(task: Task, n: usize, max_batch: usize) -> Batcher<T> {
        let steps = task.steps();
        Batcher {
            task,
            x: vec![T::zero(); steps * max_batch * INPUTS],
            y: vec![T::zero(); steps * max_batch],
            ws: Workspace::new(n, steps, max_batch),
        }
    }

    /// Renders `trials` and runs the forward pass; returns the batch loss.
    fn forward(&mut self, p: &Params<T>, trials: &[&Trial]) -> f64 {
        let b = trials.len();
        for (i, trial) in trials.iter().enumerate() {
            self.task.render(trial, i, b, &mut self.x, &mut self.y);
        }
        forward(p, &self.x, b, &mut self.ws);
        loss(&self.y, b, &mut self.ws)
    }
}

/// One optimizer update at a time: its buffers are allocated once, so a step allocates nothing.
pub struct Stepper<T> {
    batcher: Batcher<T>,
    grad: Params<T>,
    adam: Adam<T>,
}

impl<T: Real> Stepper<T> {
    /// Buffers for an `n`-unit network on `task` with batches of up to `batch` trials.
    pub fn new(task: Task, n: usize, batch: usize) -> Stepper<T> {
        Stepper {
            batcher: Batcher::new(task, n, batch),
            grad: Params::zeros(n),
            adam: Adam::new(Params::<T>::len(n)),
        }
    }

    /// Updates done so far.
    pub fn updates(&self) -> u64 {
        self.adam.iterations
    }

    /// Forward, backward, clipped Adam update and projection on one batch. Returns the batch
    /// loss before the update, or why training must stop (no update is then applied).
    pub fn step(
        &mut self,
        s: &TrainSettings,
        rule: &SignRule,
        params: &mut Params<T>,
        trials: &[&Trial],
    ) -> Result<f64, StopReason> {
        let batch_loss = self.batcher.forward(params, trials);
        if !batch_loss.is_finite() {
            return Err(StopReason::NonFiniteLoss);
        }
        backward(
            params,
            &self.batcher.x,
            trials.len(),
            &mut self.batcher.ws,
            &mut self.grad,
        );
        if !self
            .adam
            .step(s, params.as_mut_slice(), self.grad.as_mut_slice())
            .is_finite()
        {
            return Err(StopReason::NonFiniteGradient);
        }
        let (w_in, w_rec) = params.w_in_rec_mut();
        rule.project(w_in, w_rec);
        Ok(batch_loss)
    }
}

/// Trains `params` (the unprojected initial network) on `train_set`, reshuffled each epoch from
/// `shuffle_rng`. The projection of `rule` follows every update, never precedes the first.
pub fn train<T: Real>(
    task: Task,
    rule: &SignRule,
    mut params: Params<T>,
    s: &TrainSettings,
    train_set: &[Trial],
    shuffle_rng: &mut impl RngCore,
) -> Trained<T> {
    let mut stepper = Stepper::new(task, params.n(), s.batch);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut picked: Vec<&Trial> = Vec::with_capacity(s.batch);
    let mut history = Vec::with_capacity(s.epochs);
    let mut stop = StopReason::MaxEpochs;
    'epochs: for _ in 0..s.epochs {
        shuffle(shuffle_rng, &mut order);
        let mut total = 0.0;
        for chunk in order.chunks(s.batch) {
            picked.clear();
            picked.extend(chunk.iter().map(|&k| &train_set[k]));
            match stepper.step(s, rule, &mut params, &picked) {
                Ok(batch_loss) => total += batch_loss * chunk.len() as f64,
                Err(reason) => {
                    stop = reason;
                    break 'epochs;
                }
            }
        }
        let mean = total / train_set.len() as f64;
        history.push(mean);
        if mean < s.early_stop_loss {
            stop = StopReason::LossTarget;
            break;
        }
    }
    Trained {
        params,
        history,
        steps: stepper.updates(),
        stop,
    }
}

/// Runs `params` on `trials` in batches of `batch` and hands each batch's workspace to
/// `visit(first trial index, batch size, batch loss, workspace)`. [`evaluate`] and
/// [`record_activity`] share it, so they see bit-identical outputs.
fn run_batches<T: Real>(
    task: Task,
    params: &Params<T>,
    trials: &[Trial],
    batch: usize,
    mut visit: impl FnMut(usize, usize, f64, &Workspace<T>),
) {
    let mut batcher = Batcher::new(task, params.n(), batch.min(trials.len()).max(1));
    for (c, chunk) in trials.chunks(batch).enumerate() {
        let refs: Vec<&Trial> = chunk.iter().collect();
        let batch_loss = batcher.forward(params, &refs);
        visit(c * batch, chunk.len(), batch_loss, &batcher.ws);
    }
}

/// Scores `params` on `trials` in batches of `batch`.
pub fn evaluate<T: Real>(task: Task, params: &Params<T>, trials: &[Trial], batch: usize) -> Score {
    let (mut hits, mut sq) = (0usize, 0.0);
    run_batches(task, params, trials, batch, |first, b, batch_loss, ws| {
        sq += batch_loss * b as f64;
        hits += (0..b)
            .filter(|&i| trial_succeeds(task, &trials[first + i], |t| ws.output(t, i, b).f64()))
            .count();
    });
    Score {
        accuracy: hits as f64 / trials.len() as f64,
        mse: sq / trials.len() as f64,
    }
}

/// What a network does on a set of trials: outputs and hidden states at every step.
pub struct Activity<T> {
    pub steps: usize,
    pub n: usize,
    /// `outputs[k * steps + t]`: output of trial `k` at step `t`.
    pub outputs: Vec<T>,
    /// `states[(k * steps + t) * n + j]`: activity of unit `j`.
    pub states: Vec<T>,
    /// The same score [`evaluate`] gives on these trials.
    pub score: Score,
}

/// Records the activity of `params` on `trials`, computed exactly as [`evaluate`] computes it.
pub fn record_activity<T: Real>(
    task: Task,
    params: &Params<T>,
    trials: &[Trial],
    batch: usize,
) -> Activity<T> {
    let (steps, n) = (task.steps(), params.n());
    let mut outputs = vec![T::zero(); trials.len() * steps];
    let mut states = vec![T::zero(); trials.len() * steps * n];
    let (mut hits, mut sq) = (0usize, 0.0);
    run_batches(task, params, trials, batch, |first, b, batch_loss, ws| {
        sq += batch_loss * b as f64;
        for i in 0..b {
            let k = first + i;
            hits += usize::from(trial_succeeds(task, &trials[k], |t| {
                ws.output(t, i, b).f64()
            }));
            for t in 0..steps {
                outputs[k * steps + t] = ws.output(t, i, b);
                states[(k * steps + t) * n..(k * steps + t + 1) * n]
                    .copy_from_slice(ws.state(t, i, b));
            }
        }
    });
    let score = Score {
        accuracy: hits as f64 / trials.len() as f64,
        mse: sq / trials.len() as f64,
    };
    Activity {
        steps,
        n,
        outputs,
        states,
        score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Adam steps on a 3-parameter vector against the Keras 2.3 formulas written out.
    #[test]
    fn adam_matches_keras_with_clipping_and_decay() {
        let s = TrainSettings {
            lr: 0.01,
            decay: 0.5,
            clipnorm: 0.5,
            ..TrainSettings::default()
        };
        let mut theta = vec![1.0f64, -2.0, 0.5];
        let mut adam = Adam::new(3);
        // Step 1: norm of (3, 4, 0) is 5 >= 0.5 -> g = (0.3, 0.4, 0).
        let n1 = adam.step(&s, &mut theta, &mut [3.0, 4.0, 0.0]);
        assert_eq!(n1, 5.0);
        let (m1, v1) = ([0.03, 0.04, 0.0], [0.001 * 0.09, 0.001 * 0.16, 0.0]);
        let lr1 = 0.01 * (1.0f64 - 0.999).sqrt() / (1.0 - 0.9);
        let want1: Vec<f64> = [1.0, -2.0, 0.5]
            .iter()
            .enumerate()
            .map(|(k, p)| p - lr1 * m1[k] / (f64::sqrt(v1[k]) + 1e-8))
            .collect();
        for k in 0..3 {
            assert!((theta[k] - want1[k]).abs() < 1e-15, "step 1, k={k}");
        }
        // Step 2: norm of (0.1, 0, -0.2) is 0.2236 < 0.5 -> no clipping; lr decayed by 1/(1+0.5).
        adam.step(&s, &mut theta, &mut [0.1, 0.0, -0.2]);
        let g2 = [0.1, 0.0, -0.2];
        let lr2 = 0.01 / 1.5 * (1.0f64 - 0.999f64.powi(2)).sqrt() / (1.0 - 0.9f64.powi(2));
        for k in 0..3 {
            let m2 = 0.9 * m1[k] + 0.1 * g2[k];
            let v2 = 0.999 * v1[k] + 0.001 * g2[k] * g2[k];
            let want = want1[k] - lr2 * m2 / (f64::sqrt(v2) + 1e-8);
            assert!(
                (theta[k] - want).abs() < 1e-15,
                "step 2, k={k}: {} vs {want}",
                theta[k]
            );
        }
        assert_eq!(adam.iterations, 2);
        let before = theta.clone();
        assert!(adam
            .step(&s, &mut theta, &mut [f64::INFINITY, 0.0, 1.0])
            .is_infinite());
        assert_eq!((theta, adam.iterations), (before, 2));
    }
}
