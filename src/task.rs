//! The decision tasks of the method (AND, OR, XOR and a one-bit flip-flop): drawing trials,
//! rendering a batch of them into time-major input and target arrays, and scoring a trial's
//! output. One time step is 1 ms; inputs carry no noise.
//!
//! Layouts: a batch of `b` trials over `T` steps is stored time-major, inputs as
//! `x[(t * b + i) * 2 + channel]` and targets as `y[t * b + i]`.

use std::ops::Range;

use rand::RngCore;

use crate::linalg::Real;
use crate::random::below;

/// A task of the grid's `task` axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    And,
    Or,
    Xor,
    FlipFlop,
}

/// Input channels of every task.
pub const INPUTS: usize = 2;
/// Steps of an AND/OR/XOR trial.
pub const LOGIC_STEPS: usize = 290;
/// Steps of a flip-flop trial.
pub const FLIPFLOP_STEPS: usize = 410;
/// Start steps of the three flip-flop pulses.
pub const FLIPFLOP_PULSES: [usize; 3] = [50, 170, 290];

/// One drawn trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trial {
    /// AND/OR/XOR: delay `d` in 1..=50 and the two input bits.
    Logic { delay: usize, a: bool, b: bool },
    /// Flip-flop: the channel (0 = reset, 1 = set) of each of the three pulses.
    FlipFlop { channels: [u8; 3] },
}

impl Task {
    /// All tasks, in the order of the grid's documentation.
    pub const ALL: [Task; 4] = [Task::And, Task::Or, Task::Xor, Task::FlipFlop];

    /// The name used in sweep files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Task::And => "and",
            Task::Or => "or",
            Task::Xor => "xor",
            Task::FlipFlop => "flipflop",
        }
    }

    /// Parses a sweep-file name.
    pub fn from_name(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Time steps of one trial.
    pub fn steps(self) -> usize {
        match self {
            Task::FlipFlop => FLIPFLOP_STEPS,
            _ => LOGIC_STEPS,
        }
    }

    /// Draws one trial: for AND/OR/XOR the delay `1 + below(50)` then the type `below(4)`
    /// with (A, B) = (0,0), (1,0), (0,1), (1,1); for the flip-flop `below(2)` per pulse.
    pub fn draw(self, rng: &mut impl RngCore) -> Trial {
        match self {
            Task::FlipFlop => {
                let mut channels = [0u8; 3];
                for c in &mut channels {
                    *c = below(rng, 2) as u8;
                }
                Trial::FlipFlop { channels }
            }
            _ => {
                let delay = 1 + below(rng, 50) as usize;
                let k = below(rng, 4);
                Trial::Logic {
                    delay,
                    a: k & 1 == 1,
                    b: k & 2 == 2,
                }
            }
        }
    }

    /// Draws `count` trials in sequence from `rng`.
    pub fn draw_many(self, rng: &mut impl RngCore, count: usize) -> Vec<Trial> {
        (0..count).map(|_| self.draw(rng)).collect()
    }

    fn logic(self, a: bool, b: bool) -> bool {
        match self {
            Task::And => a && b,
            Task::Or => a || b,
            Task::Xor => a ^ b,
            Task::FlipFlop => unreachable!("flip-flop has no logic function"),
        }
    }

    /// The windows on which a trial is scored, each with its target value: the last 50 steps
    /// of the response for AND/OR/XOR, the last 20 steps of each flip-flop window.
    pub fn score_windows(self, trial: &Trial) -> Vec<(Range<usize>, f64)> {
        match *trial {
            Trial::Logic { a, b, .. } => {
                vec![(LOGIC_STEPS - 50..LOGIC_STEPS, bit(self.logic(a, b)))]
            }
            Trial::FlipFlop { channels } => (0..3)
                .map(|k| {
                    let end = (FLIPFLOP_PULSES[k] + 160).min(FLIPFLOP_STEPS);
                    (end - 20..end, f64::from(channels[k]))
                })
                .collect(),
        }
    }

    /// Writes one trial's inputs and targets into column `i` of a time-major batch of `b`.
    pub fn render<T: Real>(self, trial: &Trial, i: usize, b: usize, x: &mut [T], y: &mut [T]) {
        let steps = self.steps();
        for t in 0..steps {
            let (input, target) = self.at(trial, t);
            x[(t * b + i) * INPUTS] = T::of(input[0]);
            x[(t * b + i) * INPUTS + 1] = T::of(input[1]);
            y[t * b + i] = T::of(target);
        }
    }

    /// The first step of the response: `100 + delay` for AND/OR/XOR, 90 (the first target
    /// window) for the flip-flop.
    pub fn response_start(self, trial: &Trial) -> usize {
        match *trial {
            Trial::Logic { delay, .. } => 100 + delay,
            Trial::FlipFlop { .. } => FLIPFLOP_PULSES[0] + 40,
        }
    }

    /// Inputs and target of `trial` at step `t`.
    pub fn at(self, trial: &Trial, t: usize) -> ([f64; 2], f64) {
        match *trial {
            Trial::Logic { delay, a, b } => {
                let on = (60 + delay..80 + delay).contains(&t);
                let input = if on { [bit(a), bit(b)] } else { [0.0, 0.0] };
                let target = if t >= 100 + delay {
                    bit(self.logic(a, b))
                } else {
                    0.0
                };
                (input, target)
            }
            Trial::FlipFlop { channels } => {
                let mut input = [0.0, 0.0];
                let mut target = 0.0;
                for (k, &start) in FLIPFLOP_PULSES.iter().enumerate() {
                    if (start..start + 20).contains(&t) {
                        input[channels[k] as usize] = 1.0;
                    }
                    if (start + 40..start + 160).contains(&t) {
                        target = f64::from(channels[k]);
                    }
                }
                (input, target)
            }
        }
    }
}

impl Trial {
    /// A small integer naming the trial's type: `k` = A + 2B for AND/OR/XOR, the pulse
    /// channels as bits (first pulse lowest) for the flip-flop.
    pub fn kind(&self) -> u8 {
        match *self {
            Trial::Logic { a, b, .. } => u8::from(a) + 2 * u8::from(b),
            Trial::FlipFlop { channels } => channels[0] + 2 * channels[1] + 4 * channels[2],
        }
    }
}

fn bit(v: bool) -> f64 {
    if v {
        1.0
    } else {
        0.0
    }
}

/// Whether a trial's mean output over each scoring window lies on the target's side of 0.5.
/// `output(t)` is the network's output at step `t`.
pub fn trial_succeeds(task: Task, trial: &Trial, output: impl Fn(usize) -> f64) -> bool {
    task.score_windows(trial)
        .into_iter()
        .all(|(window, target)| {
            let len = window.len() as f64;
            let mean = window.map(&output).sum::<f64>() / len;
            (mean > 0.5) == (target > 0.5)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(task: Task, trial: &Trial) -> (Vec<[f64; 2]>, Vec<f64>) {
        (0..task.steps()).map(|t| task.at(trial, t)).unzip()
    }

    #[test]
    fn logic_pulses_and_targets_follow_the_method() {
        for (task, want) in [
            (Task::And, [0., 0., 0., 1.]),
            (Task::Or, [0., 1., 1., 1.]),
            (Task::Xor, [0., 1., 1., 0.]),
        ] {
            for (k, (a, b)) in [(false, false), (true, false), (false, true), (true, true)]
                .into_iter()
                .enumerate()
            {
                let d = 17;
                let trial = Trial::Logic { delay: d, a, b };
                assert_eq!(trial.kind() as usize, k);
                let (x, y) = series(task, &trial);
                for (t, (input, target)) in x.iter().zip(&y).enumerate() {
                    let on = (77..97).contains(&t);
                    assert_eq!(input[0], if on && a { 1.0 } else { 0.0 }, "t={t}");
                    assert_eq!(input[1], if on && b { 1.0 } else { 0.0 }, "t={t}");
                    assert_eq!(
                        *target,
                        if t >= 117 { want[k] } else { 0.0 },
                        "{task:?} k={k} t={t}"
                    );
                }
                assert_eq!(task.score_windows(&trial), vec![(240..290, want[k])]);
            }
        }
    }

    #[test]
    fn flipflop_pulses_and_targets_follow_the_method() {
        let trial = Trial::FlipFlop {
            channels: [1, 0, 1],
        };
        assert_eq!(trial.kind(), 5);
        let (x, y) = series(Task::FlipFlop, &trial);
        assert_eq!(x.len(), 410);
        for t in 0..410 {
            let set = (50..70).contains(&t) || (290..310).contains(&t);
            let reset = (170..190).contains(&t);
            assert_eq!(x[t], [f64::from(reset), f64::from(set)], "t={t}");
            let target = if (90..210).contains(&t) || t >= 330 {
                1.0
            } else {
                0.0
            };
            assert_eq!(y[t], target, "t={t}");
        }
        let windows = Task::FlipFlop.score_windows(&trial);
        assert_eq!(
            windows,
            vec![(190..210, 1.0), (310..330, 0.0), (390..410, 1.0)]
        );
    }

    #[test]
    fn render_writes_time_major_columns() {
        let trials = [
            Trial::Logic {
                delay: 1,
                a: true,
                b: false,
            },
            Trial::Logic {
                delay: 50,
                a: false,
                b: true,
            },
        ];
        let steps = Task::Xor.steps();
        let mut x = vec![0f32; steps * 2 * INPUTS];
        let mut y = vec![0f32; steps * 2];
        for (i, trial) in trials.iter().enumerate() {
            Task::Xor.render(trial, i, 2, &mut x, &mut y);
        }
        assert_eq!(x[(61 * 2) * INPUTS], 1.0);
        assert_eq!(x[(61 * 2 + 1) * INPUTS + 1], 0.0);
        assert_eq!(x[(110 * 2 + 1) * INPUTS + 1], 1.0);
        assert_eq!(
            (y[101 * 2], y[101 * 2 + 1], y[150 * 2 + 1]),
            (1.0, 0.0, 1.0)
        );
    }

    #[test]
    fn scoring_uses_the_side_of_one_half() {
        let trial = Trial::Logic {
            delay: 5,
            a: true,
            b: true,
        };
        assert!(trial_succeeds(Task::And, &trial, |t| if t >= 240 {
            0.6
        } else {
            0.0
        }));
        assert!(!trial_succeeds(Task::And, &trial, |t| if t >= 240 {
            0.4
        } else {
            1.0
        }));
        assert!(trial_succeeds(Task::Xor, &trial, |_| 0.1));
    }
}
