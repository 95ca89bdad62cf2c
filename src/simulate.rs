//! `dalesweep simulate`: stored networks rerun on trials of their task, without retraining.
//! Each network is rebuilt from the `weights` table; the sweep file in that part file's footer
//! gives its spec, seed and settings. Its trials are the first K of its own held-out test stream
//! (K = `test_trials` reproduces the sweep's accuracy exactly), run in the sweep's batches.
//! Results replace any earlier simulation of the same runs in `activity`, `trajectories` and
//! `dynamics`.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::config::{parse, Sweep, SweepSource};
use crate::dale::SignRule;
use crate::dynamics::summarize;
use crate::grid::{expand, RunSpec, Stream};
use crate::linalg::set_blas_threads;
use crate::model::Params;
use crate::record::Simulated;
use crate::runner::provenance;
use crate::sink::{PartWriter, SimTable};
use crate::store::{recorded_runs, remove_rows, stored_ids, stored_networks, StoredNetwork};
use crate::train::record_activity;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimulateOptions {
    pub out: PathBuf,
    /// Run ids; empty means every stored network.
    pub runs: Vec<String>,
    pub trials: usize,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
}

/// Why nothing could be simulated.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("run {0} is not in {1}")]
    UnknownRun(String, PathBuf),
    #[error("run {0} has no stored weights: set `[output] weights = true` in its sweep file and run it into a fresh --out")]
    NoWeights(String),
    #[error("{0} holds no stored networks: set `[output] weights = true` in the sweep file and run it into a fresh --out")]
    NothingStored(PathBuf),
    #[error("stored sweep file of run {0}: {1}")]
    Sweep(String, String),
    #[error("run {0}: {1}")]
    Failed(String, String),
}

/// Simulates the requested networks and writes their tables; returns how many.
pub fn simulate(opts: &SimulateOptions) -> Result<usize, SimulateError> {
    set_blas_threads(1);
    let io_err = |source| SimulateError::Io {
        path: opts.out.clone(),
        source,
    };
    // Which runs have a stored network comes from two small columns; only the selected
    // networks' tensors are then read.
    let with_weights = stored_ids(&opts.out).map_err(io_err)?;
    let ids = selected(
        opts,
        &with_weights,
        &recorded_runs(&opts.out).map_err(io_err)?,
    )?;
    let wanted: HashSet<String> = ids.iter().cloned().collect();
    let stored = stored_networks(&opts.out, &wanted).map_err(io_err)?;
    let jobs = resolve(&ids, &stored)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| io_err(io::Error::other(e)))?;
    let folders = SimTable::ALL.map(SimTable::name);
    remove_rows(&opts.out, &folders, &wanted).map_err(io_err)?;
    let source = SweepSource {
        origin: "simulate".into(),
        text: String::new(),
    };
    let mut writer = PartWriter::create(
        &opts.out,
        format!("sim{}", std::process::id()),
        &provenance(&source),
    )
    .map_err(io_err)?;
    for chunk in jobs.chunks(pool.current_num_threads().max(1)) {
        let sims: Vec<Simulated> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(spec, sweep, params)| simulate_one(spec, sweep, params, opts.trials))
                .collect::<Result<_, _>>()
        })?;
        writer.write_simulated(&sims).map_err(io_err)?;
    }
    Ok(jobs.len())
}

/// The run ids to simulate, each checked to exist and to have stored weights.
fn selected(
    opts: &SimulateOptions,
    with_weights: &HashSet<String>,
    recorded: &HashMap<String, String>,
) -> Result<Vec<String>, SimulateError> {
    if opts.runs.is_empty() {
        let mut all: Vec<String> = with_weights.iter().cloned().collect();
        all.sort();
        return if all.is_empty() {
            Err(SimulateError::NothingStored(opts.out.clone()))
        } else {
            Ok(all)
        };
    }
    for id in &opts.runs {
        if !with_weights.contains(id) {
            return Err(if recorded.contains_key(id) {
                SimulateError::NoWeights(id.clone())
            } else {
                SimulateError::UnknownRun(id.clone(), opts.out.clone())
            });
        }
    }
    Ok(opts.runs.clone())
}

/// A network to simulate: its spec, its sweep and its stored parameters.
type Job<'a> = (RunSpec, Sweep, &'a Params<f32>);

/// Each run's spec and sweep, from the sweep file stored with its weights.
fn resolve<'a>(
    ids: &[String],
    stored: &'a HashMap<String, StoredNetwork>,
) -> Result<Vec<Job<'a>>, SimulateError> {
    let mut sweeps: HashMap<&str, (Sweep, HashMap<String, RunSpec>)> = HashMap::new();
    let mut jobs = Vec::new();
    for id in ids {
        let network = &stored[id];
        if !sweeps.contains_key(network.sweep_text.as_str()) {
            let sweep = parse(&SweepSource {
                origin: "stored sweep".into(),
                text: network.sweep_text.clone(),
            })
            .map_err(|e| SimulateError::Sweep(id.clone(), e.to_string()))?;
            let specs = expand(&sweep)
                .into_iter()
                .map(|s| (s.id.to_string(), s))
                .collect();
            sweeps.insert(&network.sweep_text, (sweep, specs));
        }
        let (sweep, specs) = &sweeps[network.sweep_text.as_str()];
        let spec = specs.get(id).ok_or_else(|| {
            SimulateError::Sweep(id.clone(), "its sweep file does not have this run".into())
        })?;
        jobs.push((spec.clone(), sweep.clone(), &network.params));
    }
    Ok(jobs)
}

fn simulate_one(
    spec: &RunSpec,
    sweep: &Sweep,
    params: &Params<f32>,
    trials: usize,
) -> Result<Simulated, SimulateError> {
    let trials = spec
        .task
        .draw_many(&mut spec.rng(sweep.master_seed, Stream::TestTrials), trials);
    let activity = record_activity(spec.task, params, &trials, sweep.train.batch);
    let n_inh = SignRule::new(spec.constraint, spec.n, spec.exc_frac)
        .partition
        .map(|p| p.n_inh);
    let summary = summarize(spec.task, &trials, &activity, n_inh)
        .map_err(|e| SimulateError::Failed(spec.id.to_string(), e))?;
    Ok(Simulated {
        spec: spec.clone(),
        n_inh,
        trials,
        activity,
        summary,
    })
}
