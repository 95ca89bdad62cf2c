//! The command line: arguments parsed with clap, dispatched to the library, and every outcome
//! mapped to an exit code. The only module that prints results or uses `anyhow`.
//!
//! Exit codes: 0 every run ok; 1 the sweep finished but some runs failed or diverged;
//! 2 fatal: bad sweep file or arguments, unwritable output; nothing was run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::{parse, ConfigError, Sweep, SweepSource};
use crate::grid::{expand, Shard};
use crate::plot::{plot, Format, Selection};
use crate::report::report;
use crate::runner::{run_sweep, shard_status, RunOptions, ShardStatus};
use crate::simulate::{simulate, SimulateOptions};
use crate::slurm::{script, JobArray, DEFAULT_MAX_ARRAY};

const EXIT_CODES: &str = "Exit codes:\n  0  every run ended ok\n  1  the sweep finished, but some runs failed or diverged (see the runs table)\n  2  fatal: bad sweep file or arguments, unwritable or full output, or another process on the same shard";

/// Sweeps of Dale-constrained recurrent networks: train every network of a grid and write
/// the eigenvalue spectra of its recurrent matrix to Parquet.
#[derive(Parser, Debug)]
#[command(name = "dalesweep", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train and analyse every run of a sweep, writing Parquet tables under --out.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// Sweep file (TOML). Without it, the embedded default sweep (sweeps/default.toml).
        sweep: Option<PathBuf>,
        /// Output directory [default: results/<sweep name>]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads, one network each [default: one per core]
        #[arg(long)]
        threads: Option<usize>,
        /// Seconds between progress lines when stderr is not a terminal.
        #[arg(long, default_value_t = 30.0)]
        progress_every: f64,
        /// Run only shard K of N (0 <= K < N): the runs whose id is K modulo N.
        #[arg(long, value_parser = Shard::parse, default_value = "0/1")]
        shard: Shard,
        /// Also rerun runs recorded as failed or diverged (their old rows are removed first).
        #[arg(long)]
        retry_failed: bool,
    },
    /// Report, per shard, how many runs of a sweep are done, failed and missing under --out.
    #[command(
        after_help = "Exit code 0 when every run is recorded ok, 1 otherwise, 2 on bad input."
    )]
    Status {
        /// Sweep file (TOML). Without it, the embedded default sweep.
        sweep: Option<PathBuf>,
        /// Output directory of the sweep.
        #[arg(long)]
        out: PathBuf,
        /// Number of shards the sweep was split into (the job array's size).
        #[arg(long, default_value_t = 1)]
        shards: u64,
    },
    /// Rerun stored networks (`[output] weights = true`) on trials of their task and write
    /// their activity, PCA trajectories and dynamics, without retraining.
    Simulate {
        /// Output directory of the sweep.
        #[arg(long)]
        out: PathBuf,
        /// Run ids to simulate (repeatable) [default: every stored network]
        #[arg(long = "run")]
        runs: Vec<String>,
        /// Trials per network: the first K of its held-out test set.
        #[arg(long, default_value_t = 8)]
        trials: usize,
        /// Worker threads [default: one per core]
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Draw figures from a sweep's tables (no retraining): the radius against N, exc_frac and
    /// stage, the loss curves, and chosen networks' eigenvalue planes, into DIR/figures
    /// (plotted values in DIR/data).
    Plot {
        /// Output directory of the sweep.
        #[arg(long)]
        out: PathBuf,
        /// Runs to draw a network figure for (repeatable), or `all` [default: one example
        /// per task, init and constraint]
        #[arg(long = "run")]
        runs: Vec<String>,
        /// Image format: svg or png.
        #[arg(long, default_value = "svg", value_parser = Format::parse)]
        format: Format,
    },
    /// Write DIR/report.md: the figures and a table per claim of the paper (disk vs ring,
    /// radius independent of N and exc_frac, smaller than without the constraint), with
    /// what the first projection and training each moved.
    Report {
        /// Output directory of the sweep.
        #[arg(long)]
        out: PathBuf,
        /// Image format of the figures: svg or png.
        #[arg(long, default_value = "svg", value_parser = Format::parse)]
        format: Format,
    },
    /// Write an sbatch script that runs a sweep as a SLURM job array of shards.
    Slurm {
        /// Sweep file (TOML).
        sweep: PathBuf,
        /// Output directory shared by all array tasks (the script goes there too).
        #[arg(long)]
        out: PathBuf,
        /// Number of array tasks (shards).
        #[arg(long)]
        array: u64,
        /// Largest array the cluster accepts (its MaxArraySize - 1).
        #[arg(long, default_value_t = DEFAULT_MAX_ARRAY)]
        max_array: u64,
        /// Cores per array task; each runs that many networks at once.
        #[arg(long, default_value_t = 1)]
        cpus_per_task: u32,
        /// SLURM partition.
        #[arg(long)]
        partition: Option<String>,
        /// Time limit per array task (SLURM syntax, e.g. 04:00:00).
        #[arg(long)]
        time: Option<String>,
        /// Make the tasks rerun failed and diverged runs.
        #[arg(long)]
        retry_failed: bool,
    },
    /// List the runs of a sweep (count, then run id and coordinates) without training.
    Plan {
        /// Sweep file (TOML). Without it, the embedded default sweep.
        sweep: Option<PathBuf>,
    },
}

/// Runs the parsed command line and returns the process's exit code.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load(path: Option<&Path>) -> Result<(Sweep, SweepSource), ConfigError> {
    let source = match path {
        Some(p) => SweepSource::read(p)?,
        None => SweepSource::default_sweep(),
    };
    Ok((parse(&source)?, source))
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plan { sweep } => {
            let (sweep, _) = load(sweep.as_deref())?;
            print!("{}", plan_text(&sweep));
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            out,
            runs,
            trials,
            threads,
        } => {
            if trials == 0 {
                anyhow::bail!("--trials 0: simulate at least one trial");
            }
            let opts = SimulateOptions {
                out,
                runs,
                trials,
                threads: threads.unwrap_or(0),
            };
            let count = simulate(&opts)?;
            eprintln!(
                "simulated {count} networks x {trials} trials into {}",
                opts.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plot { out, runs, format } => {
            let selection = match runs.as_slice() {
                [] => Selection::Examples,
                [all] if all == "all" => Selection::All,
                _ => Selection::Runs(runs),
            };
            let plotted = plot(&out, &selection, format)?;
            for f in plotted
                .summary
                .iter()
                .chain(plotted.networks.iter().map(|n| &n.1))
            {
                println!("{}", out.join(&f.path).display());
            }
            eprintln!(
                "{} summary and {} network figures in {}; plotted values in {}",
                plotted.summary.len(),
                plotted.networks.len(),
                out.join("figures").display(),
                out.join("data").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { out, format } => {
            let path = report(&out, format)?;
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { sweep, out, shards } => {
            let (sweep, _) = load(sweep.as_deref())?;
            if shards == 0 {
                anyhow::bail!("--shards 0: give the number of shards, at least 1");
            }
            let status = shard_status(&sweep, &out, shards)
                .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            print!("{}", status_text(&status));
            Ok(if status.iter().all(|s| s.ok == s.total) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Slurm {
            sweep,
            out,
            array,
            max_array,
            cpus_per_task,
            partition,
            time,
            retry_failed,
        } => {
            let (parsed, _) = load(Some(&sweep))?;
            if array == 0 || array > max_array {
                anyhow::bail!("--array {array} must be between 1 and {max_array} (raise --max-array if the cluster's MaxArraySize allows it)");
            }
            std::fs::create_dir_all(out.join("logs"))
                .map_err(|e| anyhow::anyhow!("{}: {e} (choose a writable --out)", out.display()))?;
            let (out, sweep) = (std::fs::canonicalize(&out)?, std::fs::canonicalize(&sweep)?);
            let exe = std::env::current_exe()?;
            let job = JobArray {
                name: &parsed.name,
                exe: &exe,
                sweep: &sweep,
                out: &out,
                shards: array,
                cpus_per_task,
                partition: partition.as_deref(),
                time: time.as_deref(),
                retry_failed,
            };
            let path = out.join(format!("{}.sbatch", parsed.name));
            std::fs::write(&path, script(&job))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            println!("{}", path.display());
            eprintln!(
                "submit with: sbatch {}
follow with: dalesweep status {} --out {} --shards {array}",
                path.display(),
                sweep.display(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            sweep,
            out,
            threads,
            progress_every,
            shard,
            retry_failed,
        } => {
            let (sweep, source) = load(sweep.as_deref())?;
            if !(progress_every > 0.0 && progress_every.is_finite()) {
                anyhow::bail!(
                    "--progress-every {progress_every} must be a positive number of seconds"
                );
            }
            let out = out.unwrap_or_else(|| Path::new("results").join(&sweep.name));
            let opts = RunOptions {
                out,
                threads: threads.unwrap_or(0),
                progress_every: Duration::from_secs_f64(progress_every),
                shard,
                retry_failed,
            };
            let summary = run_sweep(&sweep, &source, &opts)?;
            eprintln!(
                "{}: {} runs, {} ok, {} diverged, {} failed; tables in {}",
                sweep.name,
                summary.total,
                summary.ok,
                summary.diverged,
                summary.failed,
                opts.out.display()
            );
            Ok(if summary.all_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// The `plan` listing: a count line, a header, then one aligned line per run in grid order.
pub fn plan_text(sweep: &Sweep) -> String {
    let runs = expand(sweep);
    let mut out = format!("{} runs in sweep {}\n", runs.len(), sweep.name);
    out += &format!(
        "{:<16}  {:<8}  {:<13}  {:<10}  {:>5}  {:>8}  {:>4}\n",
        "run_id", "task", "constraint", "init", "n", "exc_frac", "seed"
    );
    for r in &runs {
        out += &format!(
            "{:<16}  {:<8}  {:<13}  {:<10}  {:>5}  {:>8}  {:>4}\n",
            r.id.to_string(),
            r.task.name(),
            r.constraint.name(),
            r.init.name(),
            r.n,
            r.exc_frac_text(),
            r.seed
        );
    }
    out
}

/// The `status` table: one line per shard, a total, and which array indices to resubmit.
pub fn status_text(status: &[ShardStatus]) -> String {
    let mut out = format!(
        "{:>7}  {:>6}  {:>6}  {:>6}  {:>7}\n",
        "shard", "runs", "ok", "failed", "missing"
    );
    for s in status {
        out += &format!(
            "{:>7}  {:>6}  {:>6}  {:>6}  {:>7}\n",
            s.shard.to_string(),
            s.total,
            s.ok,
            s.failed,
            s.missing
        );
    }
    let sum = |f: fn(&ShardStatus) -> usize| status.iter().map(f).sum::<usize>();
    out += &format!(
        "{:>7}  {:>6}  {:>6}  {:>6}  {:>7}\n",
        "total",
        sum(|s| s.total),
        sum(|s| s.ok),
        sum(|s| s.failed),
        sum(|s| s.missing)
    );
    let list = |f: fn(&ShardStatus) -> bool| {
        status
            .iter()
            .filter(|s| f(s))
            .map(|s| s.shard.index.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let missing = list(|s| s.missing > 0);
    if !missing.is_empty() {
        out += &format!("resubmit (missing runs): --array={missing}\n");
    }
    let failed = list(|s| s.failed > 0);
    if !failed.is_empty() {
        out += &format!("rerun with --retry-failed (failed runs): --array={failed}\n");
    }
    out
}
