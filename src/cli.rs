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
use crate::grid::expand;
use crate::runner::{run_sweep, RunOptions};

const EXIT_CODES: &str = "Exit codes:\n  0  every run ended ok\n  1  the sweep finished, but some runs failed or diverged (see the runs table)\n  2  fatal: bad sweep file or arguments, or unwritable output";

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
        Command::Run {
            sweep,
            out,
            threads,
            progress_every,
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
