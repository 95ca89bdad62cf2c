//! Running a sweep: each run computed from its spec (initial weights, projection, training,
//! scoring, spectra), in parallel on a rayon pool with one network per worker and OpenBLAS
//! pinned to one thread, while the calling thread writes results as they arrive. A run that
//! panics or fails numerically becomes a `failed` record; the others go on.

use std::collections::HashSet;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::{hex, Sweep, SweepSource};
use crate::dale::SignRule;
use crate::grid::{expand, RunId, RunSpec, Shard, Stream};
use crate::init::initial_params;
use crate::linalg::set_blas_threads;
use crate::model::Params;
use crate::progress::{self, Progress};
use crate::record::{RunRecord, Stage, StageSpectrum, Status};
use crate::sink::{PartWriter, Provenance, Table};
use crate::spectrum::{analyse, mask_small};
use crate::store::{ids_in, lock_shard, recorded_runs, remove_runs, LockError};
use crate::train::{evaluate, train, StopReason};

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Interval of plain progress lines when stderr is not a terminal.
    pub progress_every: Duration,
    /// The part of the sweep to run.
    pub shard: Shard,
    /// Also rerun runs recorded `failed` or `diverged` (their old rows are removed first).
    pub retry_failed: bool,
}

/// Counts of a finished sweep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub diverged: usize,
    pub failed: usize,
    /// Runs already recorded before this invocation (counted in the statuses too).
    pub skipped: usize,
    /// Recorded runs of the shard that the sweep no longer has (left alone, not counted).
    pub stale: usize,
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
    #[error(transparent)]
    Lock(#[from] LockError),
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

/// Runs every run of `sweep` (of `opts.shard`) not yet recorded under `opts.out`, writing
/// its tables there. See `prepare` for what is skipped, retried and cleaned up.
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
    std::fs::create_dir_all(&opts.out).map_err(out_err)?;
    let _lock = lock_shard(&opts.out, opts.shard)?;
    let specs: Vec<RunSpec> = expand(sweep)
        .into_iter()
        .filter(|r| opts.shard.contains(r.id))
        .collect();
    let prepared = prepare(&opts.out, opts.shard, &specs, opts.retry_failed).map_err(out_err)?;
    let mut summary = prepared.summary;
    if summary.skipped > 0 || summary.stale > 0 {
        progress::note(&resume_note(&opts.out, &summary, prepared.pending.len()));
    }
    let prov = provenance(source);
    let mut writer = PartWriter::create(&opts.out, writer_token(), &prov).map_err(out_err)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| RunnerError::Threads {
            threads: opts.threads,
            message: e.to_string(),
        })?;
    let mut progress = Progress::new(prepared.pending.len(), opts.progress_every);
    let written = compute_and_write(&pool, &prepared.pending, sweep, |batch| {
        batch.iter().for_each(|r| {
            summary.add(r.status);
            progress.record(r.status);
        });
        writer.write(batch, &prov)
    });
    progress.finish();
    written.map_err(out_err)?;
    Ok(summary)
}

fn resume_note(out: &Path, summary: &Summary, pending: usize) -> String {
    let stale = match summary.stale {
        0 => String::new(),
        k => format!("; {k} recorded runs are no longer in the sweep and are left alone"),
    };
    format!(
        "resuming in {}: {} of {} runs already recorded, {pending} to compute{stale}",
        out.display(),
        summary.skipped,
        summary.total
    )
}

/// Computes `pending` on `pool` and hands finished records, in batches of whatever has
/// arrived, to `write` on the calling thread (which is not one of the pool's workers). After a failed write no new run starts;
/// the first error is returned once the runs in flight end.
fn compute_and_write(
    pool: &rayon::ThreadPool,
    pending: &[RunSpec],
    sweep: &Sweep,
    mut write: impl FnMut(&[RunRecord]) -> io::Result<()>,
) -> io::Result<()> {
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<RunRecord>();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.install(|| {
                pending.par_iter().for_each_with(tx, |tx, spec| {
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
            if written.is_ok() {
                written = write(&batch);
                abort.store(written.is_err(), Ordering::Relaxed);
            }
        }
        written
    })
}

/// What is left to compute, after cleaning up.
struct Prepared {
    pending: Vec<RunSpec>,
    /// Counts of the runs already recorded.
    summary: Summary,
}

/// Reads what `out` holds for `shard` and makes it consistent before new runs are written:
/// removes the rows of this shard's runs that have no `runs` row (a batch cut off by a kill),
/// and with `retry_failed` every row of its `failed` and `diverged` runs. Runs recorded `ok`
/// (or not ok, without `retry_failed`) are skipped; recorded runs of the shard that the sweep
/// no longer has are left alone and counted as stale. Rows of other shards are never touched.
fn prepare(
    out: &Path,
    shard: Shard,
    specs: &[RunSpec],
    retry_failed: bool,
) -> io::Result<Prepared> {
    let recorded = recorded_runs(out)?;
    let ours = |id: &String| id.parse::<RunId>().is_ok_and(|id| shard.contains(id));
    let mut remove: HashSet<String> = HashSet::new();
    for table in Table::COMMIT_ORDER
        .into_iter()
        .filter(|t| *t != Table::Runs)
    {
        remove.extend(
            ids_in(out, table)?
                .into_iter()
                .filter(|id| ours(id) && !recorded.contains_key(id)),
        );
    }
    if retry_failed {
        remove.extend(
            specs
                .iter()
                .map(|r| r.id.to_string())
                .filter(|id| recorded.get(id).is_some_and(|s| s != Status::Ok.name())),
        );
    }
    remove_runs(out, &remove)?;
    let mut summary = Summary {
        total: specs.len(),
        ..Summary::default()
    };
    let mut pending = Vec::new();
    for spec in specs {
        let id = spec.id.to_string();
        match recorded.get(&id).filter(|_| !remove.contains(&id)) {
            Some(status) => {
                summary.skipped += 1;
                summary.add(Status::from_name(status).unwrap_or(Status::Failed));
            }
            None => pending.push(spec.clone()),
        }
    }
    let in_sweep: HashSet<String> = specs.iter().map(|r| r.id.to_string()).collect();
    summary.stale = recorded
        .keys()
        .filter(|id| ours(id) && !in_sweep.contains(*id))
        .count();
    Ok(Prepared { pending, summary })
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
    let (eigenvalues, analysis) =
        analyse(&w, n).map_err(|e| format!("{} spectrum: {e}", stage.name()))?;
    Ok(StageSpectrum {
        stage,
        eigenvalues,
        analysis,
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
    if sweep.output.weights {
        record.networks.push((Stage::Initial, initial.clone()));
    }
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
            if sweep.output.weights {
                record.networks.push((Stage::Trained, trained.params));
            }
        }
    }
    record.train_seconds = start.elapsed().as_secs_f64();
    Ok(record)
}

/// Runs of one shard by outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardStatus {
    pub shard: Shard,
    pub total: usize,
    pub ok: usize,
    /// Recorded `failed` or `diverged`.
    pub failed: usize,
    /// Not recorded at all.
    pub missing: usize,
}

/// What `out` holds of each of `shards` shards of `sweep`.
pub fn shard_status(sweep: &Sweep, out: &Path, shards: u64) -> io::Result<Vec<ShardStatus>> {
    let recorded = recorded_runs(out)?;
    let mut status: Vec<ShardStatus> = (0..shards)
        .map(|index| ShardStatus {
            shard: Shard {
                index,
                count: shards,
            },
            total: 0,
            ok: 0,
            failed: 0,
            missing: 0,
        })
        .collect();
    for spec in expand(sweep) {
        let s = &mut status[Shard::of(spec.id, shards).index as usize];
        s.total += 1;
        match recorded.get(&spec.id.to_string()).map(String::as_str) {
            Some("ok") => s.ok += 1,
            Some(_) => s.failed += 1,
            None => s.missing += 1,
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::store::part_files;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dalesweep-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn specs() -> (Sweep, Vec<RunSpec>) {
        let text = "[sweep]\nname = \"t\"\n[grid]\ntask = [\"and\"]\nconstraint = [\"none\"]\ninit = [\"normal\"]\nn = [4]\nseed = 4\n[train]\nepochs = 1\ntrials = 64\ntest_trials = 8\n";
        let sweep = parse(&SweepSource {
            origin: "t.toml".into(),
            text: text.into(),
        })
        .unwrap();
        let specs = expand(&sweep);
        (sweep, specs)
    }

    fn record(spec: &RunSpec, status: Status) -> RunRecord {
        RunRecord {
            status,
            history: vec![0.5, 0.25],
            ..RunRecord::new(spec.clone())
        }
    }

    #[test]
    fn a_panicking_run_is_a_failed_record() {
        let (sweep, specs) = specs();
        // A constrained run without its E/I fraction cannot be built: the engine panics.
        let broken = RunSpec {
            constraint: crate::dale::Constraint::Dale,
            exc_frac: None,
            ..specs[0].clone()
        };
        let record = execute(&broken, &sweep);
        assert_eq!(record.status, Status::Failed);
        assert_eq!(
            record.error.as_deref(),
            Some("panic: a constrained run has an exc_frac")
        );
        assert!(record.spectra.is_empty() && record.history.is_empty());
        assert_eq!(execute(&specs[0], &sweep).status, Status::Ok);
    }

    #[test]
    fn prepare_skips_recorded_retries_failed_and_removes_orphans() {
        let out = scratch("prepare");
        let (_, specs) = specs();
        let prov = Provenance::default();
        let mut writer = PartWriter::create(&out, "t".into(), &prov).unwrap();
        writer
            .write(
                &[
                    record(&specs[0], Status::Ok),
                    record(&specs[1], Status::Failed),
                ],
                &prov,
            )
            .unwrap();
        writer
            .write(&[record(&specs[2], Status::Ok)], &prov)
            .unwrap();
        // The second batch was cut off before its runs part: its history rows are orphans.
        let runs_parts = part_files(&out, Table::Runs.name()).unwrap();
        std::fs::remove_file(&runs_parts[1]).unwrap();

        let p = prepare(&out, Shard::ALL, &specs, false).unwrap();
        let pending: Vec<RunId> = p.pending.iter().map(|r| r.id).collect();
        assert_eq!(pending, [specs[2].id, specs[3].id]);
        assert_eq!(
            (p.summary.skipped, p.summary.ok, p.summary.failed),
            (2, 1, 1)
        );
        let history = ids_in(&out, Table::History).unwrap();
        assert_eq!(history.len(), 2, "orphan rows of the cut-off run removed");
        assert!(!history.contains(&specs[2].id.to_string()));

        let p = prepare(&out, Shard::ALL, &specs, true).unwrap();
        let pending: Vec<RunId> = p.pending.iter().map(|r| r.id).collect();
        assert_eq!(pending, [specs[1].id, specs[2].id, specs[3].id]);
        assert_eq!((p.summary.skipped, p.summary.failed), (1, 0));
        let recorded = recorded_runs(&out).unwrap();
        assert_eq!(
            recorded.keys().collect::<Vec<_>>(),
            [&specs[0].id.to_string()]
        );
        assert_eq!(ids_in(&out, Table::History).unwrap().len(), 1);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
