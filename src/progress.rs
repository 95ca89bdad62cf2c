//! Progress of a sweep on stderr: on a terminal, one line redrawn in place; otherwise (batch
//! logs, SLURM) a plain line at a steady interval, and always one at the start and the end.
//! Each says done/total, failures, rate and the time left.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::record::Status;

/// Counts and timing of a running sweep.
pub struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    start: Instant,
    last: Instant,
    every: Duration,
    terminal: bool,
    /// `done` when the last line was printed.
    printed: Option<usize>,
}

impl Progress {
    /// Starts reporting on `total` runs; plain lines every `every` when not on a terminal.
    pub fn new(total: usize, every: Duration) -> Progress {
        let now = Instant::now();
        let mut p = Progress {
            total,
            done: 0,
            failed: 0,
            start: now,
            last: now,
            every,
            terminal: std::io::stderr().is_terminal(),
            printed: None,
        };
        p.print();
        p
    }

    /// Counts one finished run.
    pub fn record(&mut self, status: Status) {
        self.done += 1;
        if status != Status::Ok {
            self.failed += 1;
        }
        let interval = if self.terminal {
            Duration::from_millis(200)
        } else {
            self.every
        };
        if self.last.elapsed() >= interval {
            self.last = Instant::now();
            self.print();
        }
    }

    /// Prints the last line (unless it was just printed).
    pub fn finish(&mut self) {
        if self.printed != Some(self.done) {
            self.print();
        }
        if self.terminal {
            eprintln!();
        }
    }

    fn line(&self) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        };
        let eta = if self.done > 0 && self.done < self.total {
            clock((self.total - self.done) as f64 / rate)
        } else {
            "-".into()
        };
        format!(
            "progress: {}/{} runs, {} not ok, {:.3} runs/s, elapsed {}, eta {}",
            self.done,
            self.total,
            self.failed,
            rate,
            clock(secs),
            eta
        )
    }

    fn print(&mut self) {
        self.printed = Some(self.done);
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(
                err,
                "\r\x1b[2K{} {}",
                bar(self.done, self.total),
                self.line()
            )
        } else {
            writeln!(err, "{}", self.line())
        };
        let _ = err.flush();
    }
}

/// `[#####.....]`: the share of runs done, 24 cells wide.
fn bar(done: usize, total: usize) -> String {
    let cells = 24;
    let filled = (done * cells).checked_div(total).unwrap_or(cells);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(cells - filled))
}

/// Prints one informational line on stderr.
pub fn note(message: &str) {
    eprintln!("{message}");
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
