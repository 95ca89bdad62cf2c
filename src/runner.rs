//! Running a sweep: each run computed from its spec (initial weights, projection, training,
//! scoring, spectra), in parallel on a rayon pool with one network per worker and OpenBLAS
//! pinned to one thread, while the calling thread writes results as they arrive. A run that
//! panics or fails numerically becomes a `failed` record; the others go on.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::{hex, Sweep, SweepSource};
use crate::dale::SignRule;
use crate::grid::{expand, RunSpec, Stream};
use crate::init::initial_params;
use crate::linalg::set_blas_threads;
use crate::model::Params;
use crate::progress::Progress;
use crate::record::{RunRecord, Stage, StageSpectrum, Status};
use crate::sink::{PartWriter, Provenance, Table};
use crate::spectrum::{eigenvalues, mask_small, reference_radii};
use crate::train::{evaluate, train, StopReason};

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Interval of plain progress lines when stderr is not a terminal.
    pub progress_every: Duration,
}

/// Counts of a finished sweep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub diverged: usize,
    pub failed: usize,
}

impl Summary {
    fn add(&mut self, status: Status) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Diverged => self.diverged += 1,
            Status::Failed => self.failed += 1,
        }
    }
    /// Whether every run ended `ok`.
    pub fn all_ok(&self) -> bool {
        self.ok == self.total
    }
}

/// A fatal error: the sweep could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("output directory {path}: {source} (choose a writable --out)")]
    Output { path: PathBuf, source: io::Error },
    #[error("output directory {0} already holds results: choose another --out or remove it")]
    NotEmpty(PathBuf),
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
}

/// The provenance written into every file of a sweep.
pub fn provenance(source: &SweepSource) -> Provenance {
    Provenance {
        sweep_text: source.text.clone(),
        sweep_hash: source.hash(),
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: Some(env!("DALESWEEP_GIT_COMMIT"))
            .filter(|c| !c.is_empty())
            .map(String::from),
    }
}

/// Runs every run of `sweep`, writing its tables under `opts.out`.
pub fn run_sweep(
    sweep: &Sweep,
    source: &SweepSource,
    opts: &RunOptions,
) -> Result<Summary, RunnerError> {
    set_blas_threads(1);
    let out_err = |source| RunnerError::Output {
        path: opts.out.clone(),
        source,
    };
    let runs_dir = opts.out.join(Table::Runs.name());
    if runs_dir
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
    {
        return Err(RunnerError::NotEmpty(opts.out.clone()));
    }
    let prov = provenance(source);
    let mut writer = PartWriter::create(&opts.out, writer_token(), &prov).map_err(out_err)?;
    let specs = expand(sweep);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| RunnerError::Threads {
            threads: opts.threads,
            message: e.to_string(),
        })?;
    let mut summary = Summary {
        total: specs.len(),
        ..Summary::default()
    };
    let mut progress = Progress::new(specs.len(), opts.progress_every);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<RunRecord>();
    let written = std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.install(|| {
                specs.par_iter().for_each_with(tx, |tx, spec| {
                    if !abort.load(Ordering::Relaxed) {
                        let _ = tx.send(execute(spec, sweep));
                    }
                })
            })
        });
        let mut written = Ok(());
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            batch.iter().for_each(|r| {
                summary.add(r.status);
                progress.record(r.status);
            });
            if written.is_ok() {
                written = writer.write(&batch, &prov);
                if written.is_err() {
                    abort.store(true, Ordering::Relaxed);
                }
            }
        }
        written
    });
    progress.finish();
    written.map_err(out_err)?;
    Ok(summary)
}

/// A name part unique to this process and moment, so that writers never collide.
fn writer_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hex(&Sha256::digest(format!("{}-{nanos}", std::process::id()))[..6])
}

/// Computes one run; a panic or numerical failure becomes a `failed` record.
pub fn execute(spec: &RunSpec, sweep: &Sweep) -> RunRecord {
    let start = Instant::now();
    match panic::catch_unwind(AssertUnwindSafe(|| compute(spec, sweep, start))) {
        Ok(Ok(record)) => record,
        Ok(Err(error)) => RunRecord::failed(spec.clone(), error, start.elapsed().as_secs_f64()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            RunRecord::failed(
                spec.clone(),
                format!("panic: {message}"),
                start.elapsed().as_secs_f64(),
            )
        }
    }
}

fn stage_spectrum(
    stage: Stage,
    mut w: Vec<f64>,
    n: usize,
    mask: f64,
) -> Result<StageSpectrum, String> {
    mask_small(&mut w, mask);
    let eigenvalues = eigenvalues(&w, n).map_err(|e| format!("{} spectrum: {e}", stage.name()))?;
    let radii = reference_radii(&eigenvalues);
    Ok(StageSpectrum {
        stage,
        eigenvalues,
        radii,
    })
}

fn compute(spec: &RunSpec, sweep: &Sweep, start: Instant) -> Result<RunRecord, String> {
    let (s, n, seed) = (&sweep.train, spec.n, sweep.master_seed);
    let rule = SignRule::new(spec.constraint, n, spec.exc_frac);
    let initial: Params<f32> = initial_params(
        n,
        spec.init,
        s.normal_gain,
        &mut spec.rng(seed, Stream::Init),
    );
    let mut record = RunRecord::new(spec.clone());
    record
        .spectra
        .push(stage_spectrum(Stage::Initial, initial.w_rec_f64(), n, 0.0)?);
    if rule.partition.is_some() {
        let mut projected = initial.clone();
        let (w_in, w_rec) = projected.w_in_rec_mut();
        rule.project(w_in, w_rec);
        record.spectra.push(stage_spectrum(
            Stage::Projected,
            projected.w_rec_f64(),
            n,
            0.0,
        )?);
    }
    if s.epochs > 0 {
        let train_set = spec
            .task
            .draw_many(&mut spec.rng(seed, Stream::TrainTrials), s.trials);
        let trained = train(
            spec.task,
            &rule,
            initial,
            s,
            &train_set,
            &mut spec.rng(seed, Stream::Shuffle),
        );
        record.epochs = trained.history.len();
        record.steps = trained.steps;
        record.stop_reason = Some(trained.stop);
        record.final_loss = trained.history.last().copied();
        record.history = trained.history;
        if trained.stop.diverged() {
            record.status = Status::Diverged;
            let what = if trained.stop == StopReason::NonFiniteLoss {
                "loss"
            } else {
                "gradient"
            };
            record.error = Some(format!(
                "training {what} became non-finite at update {}",
                trained.steps + 1
            ));
        } else {
            let test_set = spec
                .task
                .draw_many(&mut spec.rng(seed, Stream::TestTrials), s.test_trials);
            let score = evaluate(spec.task, &trained.params, &test_set, s.batch);
            record.accuracy = Some(score.accuracy);
            record.test_loss = Some(score.mse);
            record.spectra.push(stage_spectrum(
                Stage::Trained,
                trained.params.w_rec_f64(),
                n,
                sweep.analysis.mask_threshold,
            )?);
        }
    }
    record.train_seconds = start.elapsed().as_secs_f64();
    Ok(record)
}
