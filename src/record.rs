//! What one run produced, as plain values: the row types shared by the runner, which fills
//! them, and the sinks, which write them. A failed run is a record with its reason.

use crate::dynamics::Summary;
use crate::grid::RunSpec;
use crate::model::Params;
use crate::spectrum::{Analysis, Eigenvalue};
use crate::task::Trial;
use crate::train::Activity;
use crate::train::StopReason;

/// Outcome of a run, stored in the `status` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Trained (or analysed, with `epochs = 0`) to the end.
    Ok,
    /// Training hit a non-finite loss; initial spectra are still recorded.
    Diverged,
    /// The run could not be completed (a panic or a numerical failure); `error` says why.
    Failed,
}

impl Status {
    /// Parses a stored `status`.
    pub fn from_name(name: &str) -> Option<Status> {
        [Status::Ok, Status::Diverged, Status::Failed]
            .into_iter()
            .find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Diverged => "diverged",
            Status::Failed => "failed",
        }
    }
}

/// Which matrix a spectrum is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The unconstrained initial `W_rec`.
    Initial,
    /// The initial `W_rec` after the constraint's projection (constrained runs only).
    Projected,
    /// The trained `W_rec`, masked by `analysis.mask_threshold`.
    Trained,
}

impl Stage {
    /// Every stage, in the order a run passes through them.
    pub const ALL: [Stage; 3] = [Stage::Initial, Stage::Projected, Stage::Trained];

    /// Parses a stored `stage`.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Initial => "initial",
            Stage::Projected => "projected",
            Stage::Trained => "trained",
        }
    }
}

/// The spectrum of one stage and what is read off it.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSpectrum {
    pub stage: Stage,
    /// Sorted as [`crate::spectrum::eigenvalues`] returns them.
    pub eigenvalues: Vec<Eigenvalue>,
    pub analysis: Analysis,
}

/// Everything one run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub spec: RunSpec,
    pub status: Status,
    pub error: Option<String>,
    pub stop_reason: Option<StopReason>,
    /// Epochs completed.
    pub epochs: usize,
    /// Optimizer updates done.
    pub steps: u64,
    /// Mean training loss of the last completed epoch.
    pub final_loss: Option<f64>,
    /// Fraction of held-out test trials that succeed.
    pub accuracy: Option<f64>,
    /// Mean squared error on the held-out test trials.
    pub test_loss: Option<f64>,
    /// Wall time of the whole run (training and analysis), seconds.
    pub train_seconds: f64,
    /// Mean training loss per completed epoch.
    pub history: Vec<f64>,
    pub spectra: Vec<StageSpectrum>,
    /// Parameters by stage (`initial`, `trained`), kept only with `[output] weights = true`.
    pub networks: Vec<(Stage, Params<f32>)>,
}

impl RunRecord {
    /// An `ok` record with nothing filled in yet.
    pub fn new(spec: RunSpec) -> RunRecord {
        RunRecord {
            spec,
            status: Status::Ok,
            error: None,
            stop_reason: None,
            epochs: 0,
            steps: 0,
            final_loss: None,
            accuracy: None,
            test_loss: None,
            train_seconds: 0.0,
            history: Vec::new(),
            spectra: Vec::new(),
            networks: Vec::new(),
        }
    }

    /// A record for a run that produced nothing but its reason.
    pub fn failed(spec: RunSpec, error: String, seconds: f64) -> RunRecord {
        RunRecord {
            status: Status::Failed,
            error: Some(error),
            train_seconds: seconds,
            ..RunRecord::new(spec)
        }
    }
}

/// What `simulate` produced for one stored network.
pub struct Simulated {
    pub spec: RunSpec,
    /// The first `n_inh` units are inhibitory; `None` without a constraint.
    pub n_inh: Option<usize>,
    pub trials: Vec<Trial>,
    pub activity: Activity<f32>,
    pub summary: Summary,
}
