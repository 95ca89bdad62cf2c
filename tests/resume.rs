//! Sweeps that survive interruption: SIGKILL at several moments then resume, shards whose union
//! is the unsharded result, `status` after a partial run, the shard lock, and progress lines in
//! a redirected log.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{
    dalesweep, dalesweep_ok, python_check, root, rows, scratch, spawn_dalesweep, sweep_file,
};

/// 36 quick runs (about 0.1 s each): 2 tasks x (dale 2 fractions + none) x 2 inits x 3 sizes.
const SWEEP: &str = "[sweep]\nname = \"resume\"\nseed = 9\n\n[grid]\ntask = [\"and\", \"xor\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"orthogonal\", \"normal\"]\nn = [8, 16, 24]\nexc_frac = [0.5, 0.8]\nseed = 1\n\n[train]\nepochs = 6\ntrials = 192\ntest_trials = 64\nlr = 1e-3\n";
const RUNS: usize = 36;
const TABLES: [&str; 4] = ["runs", "spectra", "eigenvalues", "history"];

fn same_tables(a: &Path, b: &Path) {
    for table in TABLES {
        assert!(
            rows(&a.join(table), &["train_seconds"]) == rows(&b.join(table), &["train_seconds"]),
            "{table} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// pandas and polars read every table, and no run has two rows.
fn readable_without_duplicates(out: &Path) {
    let script = "import sys, pandas as pd, polars as pl\nout = sys.argv[1]\nfor t in ['runs', 'spectra', 'eigenvalues', 'history']:\n    a = pd.read_parquet(f'{out}/{t}')\n    b = pl.scan_parquet(f'{out}/{t}/').collect()\n    assert len(a) == b.height, t\n    keys = {'runs': ['run_id'], 'spectra': ['run_id', 'stage'], 'eigenvalues': ['run_id', 'stage', 'index'], 'history': ['run_id', 'epoch']}[t]\n    assert not a.duplicated(keys).any(), (t, 'duplicate rows')\nprint(len(pd.read_parquet(f'{out}/runs')))\n";
    python_check(&[OsStr::new("-c"), OsStr::new(script), out.as_os_str()]);
}

#[test]
fn killed_sweeps_resume_to_the_uninterrupted_result() {
    let dir = scratch("kill_resume");
    let sweep = sweep_file(&dir, "s.toml", SWEEP);
    let whole = dir.join("whole");
    dalesweep_ok(
        &[
            "run",
            &sweep,
            "--out",
            whole.to_str().unwrap(),
            "--threads",
            "2",
        ],
        0,
    );
    assert_eq!(rows(&whole.join("runs"), &[]).len(), RUNS);
    let out = dir.join("killed");
    let mut kills = 0;
    // First a kill before anything is written, then kills 0, 20, 60 and 120 ms after each new
    // process commits its first batch: during the next part writes and computations, whatever
    // the machine's speed.
    let parts = |out: &Path| std::fs::read_dir(out.join("runs")).map_or(0, |d| d.count());
    for (after_commit, delay_ms) in [
        (false, 50u64),
        (true, 0),
        (true, 20),
        (true, 60),
        (true, 120),
    ] {
        let before = parts(&out);
        let mut child = spawn_dalesweep(&[
            "run",
            &sweep,
            "--out",
            out.to_str().unwrap(),
            "--threads",
            "2",
        ]);
        let start = Instant::now();
        while after_commit && parts(&out) == before && child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no batch committed in 60 s"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        if out.join("runs").exists() {
            readable_without_duplicates(&out);
        }
    }
    assert_eq!(
        kills, 5,
        "the sweep finished before it was killed five times"
    );
    dalesweep_ok(
        &[
            "run",
            &sweep,
            "--out",
            out.to_str().unwrap(),
            "--threads",
            "1",
        ],
        0,
    );
    readable_without_duplicates(&out);
    same_tables(&whole, &out);
}

#[test]
fn three_shards_make_the_unsharded_dataset_and_status_tracks_them() {
    let dir = scratch("shards");
    let sweep = sweep_file(&dir, "s.toml", SWEEP);
    let (whole, sharded) = (dir.join("whole"), dir.join("sharded"));
    dalesweep_ok(&["run", &sweep, "--out", whole.to_str().unwrap()], 0);
    let sharded_s = sharded.to_str().unwrap();
    for k in [0, 2] {
        dalesweep_ok(
            &[
                "run",
                &sweep,
                "--out",
                sharded_s,
                "--shard",
                &format!("{k}/3"),
            ],
            0,
        );
    }
    let partial = dalesweep_ok(&["status", &sweep, "--out", sharded_s, "--shards", "3"], 1);
    let text = String::from_utf8(partial.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["shard", "runs", "ok", "failed", "missing"]);
    let (n0, n1, n2): (usize, usize, usize) = (
        lines[1][1].parse().unwrap(),
        lines[2][1].parse().unwrap(),
        lines[3][1].parse().unwrap(),
    );
    assert_eq!(n0 + n1 + n2, RUNS);
    assert_eq!(
        lines[1],
        ["0/3", &n0.to_string(), &n0.to_string(), "0", "0"]
    );
    assert_eq!(
        lines[2],
        ["1/3", &n1.to_string(), "0", "0", &n1.to_string()]
    );
    assert_eq!(
        lines[3],
        ["2/3", &n2.to_string(), &n2.to_string(), "0", "0"]
    );
    assert!(
        text.contains("resubmit (missing runs): --array=1\n"),
        "{text}"
    );
    assert_eq!(rows(&sharded.join("runs"), &[]).len(), n0 + n2);
    dalesweep_ok(&["run", &sweep, "--out", sharded_s, "--shard", "1/3"], 0);
    dalesweep_ok(&["status", &sweep, "--out", sharded_s, "--shards", "3"], 0);
    same_tables(&whole, &sharded);
    // Rerunning a complete sweep computes nothing and says so.
    let again = dalesweep_ok(&["run", &sweep, "--out", sharded_s], 0);
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!(
        "{RUNS} of {RUNS} runs already recorded, 0 to compute"
    )));
    same_tables(&whole, &sharded);
}

#[test]
fn an_edited_sweep_computes_only_new_runs_and_leaves_removed_ones() {
    let dir = scratch("edited");
    let first = sweep_file(
        &dir,
        "a.toml",
        &SWEEP.replace("n = [8, 16, 24]", "n = [8, 16]"),
    );
    let second = sweep_file(
        &dir,
        "b.toml",
        &SWEEP.replace("n = [8, 16, 24]", "n = [16, 24]"),
    );
    let out = dir.join("out");
    dalesweep_ok(&["run", &first, "--out", out.to_str().unwrap()], 0);
    let run = dalesweep_ok(&["run", &second, "--out", out.to_str().unwrap()], 0);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("12 of 24 runs already recorded, 12 to compute; 12 recorded runs are no longer in the sweep and are left alone"), "{stderr}");
    assert_eq!(rows(&out.join("runs"), &[]).len(), RUNS);
}

#[test]
fn a_second_process_on_the_same_shard_is_refused() {
    let dir = scratch("lock");
    let sweep = sweep_file(&dir, "s.toml", &SWEEP.replace("epochs = 6", "epochs = 200"));
    let out = dir.join("out");
    let mut first = spawn_dalesweep(&[
        "run",
        &sweep,
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    let lock = out.join(".locks/shard-0-of-1.lock");
    let start = Instant::now();
    while !lock.exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let second = dalesweep(&["run", &sweep, "--out", out.to_str().unwrap()]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&second.stderr)
            .contains("another dalesweep process is running shard 0/1"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
}

#[test]
fn progress_lines_reach_a_redirected_log() {
    let dir = scratch("progress_log");
    let sweep = sweep_file(&dir, "s.toml", SWEEP);
    let log = std::fs::File::create(dir.join("run.log")).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_dalesweep"))
        .args([
            "run",
            &sweep,
            "--out",
            dir.join("out").to_str().unwrap(),
            "--threads",
            "1",
            "--progress-every",
            "0.2",
        ])
        .current_dir(root())
        .stderr(log)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(dir.join("run.log")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(lines.len() >= 3, "{text}");
    assert!(
        lines[0].starts_with("progress: 0/36 runs, 0 not ok"),
        "{text}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("progress: 36/36 runs, 0 not ok"),
        "{text}"
    );
    assert!(lines
        .iter()
        .all(|l| l.contains("runs/s, elapsed ") && l.contains(", eta ")));
    assert!(
        !text.contains('\r'),
        "no terminal control characters in a log"
    );
}
