//! `dalesweep simulate`: stored networks rerun without retraining reproduce the sweep's test
//! accuracy exactly and their outputs bit for bit, and a run without weights is refused.

use std::collections::BTreeMap;
use std::ffi::OsStr;

use crate::util::{dalesweep, dalesweep_ok, field, python_check, rows, scratch, sweep_file};

const SWEEP: &str = "[sweep]\nname = \"sim\"\nseed = 21\n\n[grid]\ntask = [\"xor\", \"flipflop\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"normal\"]\nn = [10, 20]\nexc_frac = [0.8]\nseed = 2\n\n[train]\nepochs = 2\ntrials = 128\ntest_trials = 40\nbatch = 16\nlr = 1e-3\n";

/// `run_id -> (accuracy, test_loss)` of a table with those columns.
fn scores(dir: &std::path::Path) -> BTreeMap<String, (String, String)> {
    rows(dir, &[])
        .iter()
        .map(|r| {
            (
                field(r, "run_id").to_string(),
                (
                    field(r, "accuracy").to_string(),
                    field(r, "test_loss").to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn simulated_networks_reproduce_accuracy_and_outputs() {
    let dir = scratch("simulate");
    let sweep = sweep_file(
        &dir,
        "s.toml",
        &format!("{SWEEP}\n[output]\nweights = true\n"),
    );
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    dalesweep_ok(&["run", &sweep, "--out", out_s], 0);
    dalesweep_ok(
        &[
            "simulate",
            "--out",
            out_s,
            "--trials",
            "40",
            "--threads",
            "2",
        ],
        0,
    );
    let (recorded, simulated) = (scores(&out.join("runs")), scores(&out.join("dynamics")));
    assert_eq!(recorded.len(), 16);
    assert_eq!(
        recorded, simulated,
        "accuracy and test loss reproduced exactly"
    );

    // One network alone, on one thread: the same outputs and components, bit for bit, and its
    // old rows replaced rather than duplicated.
    let keep = |r: &Vec<String>| {
        ["run_id", "trial", "t", "output", "pc1", "pc2", "pc3"]
            .iter()
            .map(|c| field(r, c).to_string())
            .collect::<Vec<_>>()
    };
    let before: Vec<Vec<String>> = rows(&out.join("trajectories"), &[])
        .iter()
        .map(keep)
        .collect();
    let id = recorded.keys().next().unwrap().clone();
    dalesweep_ok(
        &[
            "simulate",
            "--out",
            out_s,
            "--run",
            &id,
            "--trials",
            "40",
            "--threads",
            "1",
        ],
        0,
    );
    let after: Vec<Vec<String>> = rows(&out.join("trajectories"), &[])
        .iter()
        .map(keep)
        .collect();
    assert_eq!(before, after);
    assert_eq!(after.len(), 16 * 40 * 290 / 2 + 16 * 40 * 410 / 2);

    let script = "import sys, pandas as pd, polars as pl\nout = sys.argv[1]\nfor t in ['activity', 'trajectories', 'dynamics']:\n    a = pd.read_parquet(f'{out}/{t}'); b = pl.scan_parquet(f'{out}/{t}/').collect()\n    assert len(a) == b.height > 0, t\nact = pd.read_parquet(f'{out}/activity')\nassert str(act.h.dtype) == 'float32' and act.loc[act.constraint == 'none', 'is_excitatory'].isna().all()\nd = pd.read_parquet(f'{out}/dynamics')\nassert (d.n_pc_90 >= 1).all() and d.loc[d.constraint == 'dale', 'mean_exc_response'].notna().all()\n";
    python_check(&[OsStr::new("-c"), OsStr::new(script), out.as_os_str()]);
}

#[test]
fn a_run_without_weights_is_refused_with_the_fix() {
    let dir = scratch("simulate_refused");
    let sweep = sweep_file(
        &dir,
        "s.toml",
        &SWEEP
            .replace("seed = 2", "seed = 1")
            .replace("epochs = 2", "epochs = 0"),
    );
    let out = dir.join("out");
    dalesweep_ok(&["run", &sweep, "--out", out.to_str().unwrap()], 0);
    let id = rows(&out.join("runs"), &[])
        .first()
        .map(|r| field(r, "run_id").to_string())
        .unwrap();
    let refused = dalesweep(&["simulate", "--out", out.to_str().unwrap(), "--run", &id]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "run {id} has no stored weights: set `[output] weights = true`"
        )),
        "{stderr}"
    );
    let none = dalesweep(&["simulate", "--out", out.to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("holds no stored networks"));
    assert!(!out.join("activity").exists());
}
