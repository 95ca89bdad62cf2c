//! The tables a sweep writes: the same rows whatever the thread count, the right row counts,
//! and readable by real pandas and polars with typed coordinates.

use crate::util::{dalesweep_ok, field, plan_count, python_check, root, rows, scratch, sweep_file};

/// Two tasks, all three constraints, both inits, two sizes: 2 x (2 + 2 + 1) x 2 x 2 = 40 runs.
const SMALL: &str = "[sweep]\nname = \"small\"\nseed = 5\n\n[grid]\ntask = [\"xor\", \"flipflop\"]\nconstraint = [\"dale\", \"dale_incoming\", \"none\"]\ninit = [\"orthogonal\", \"normal\"]\nn = [8, 12]\nexc_frac = [0.5, 0.8]\nseed = 1\n\n[train]\nepochs = 2\ntrials = 96\ntest_trials = 40\nbatch = 32\nlr = 1e-3\n";

const TABLES: [&str; 4] = ["runs", "spectra", "eigenvalues", "history"];

#[test]
fn thread_counts_give_identical_tables_that_pandas_and_polars_read() {
    let dir = scratch("threads");
    let sweep = sweep_file(&dir, "small.toml", SMALL);
    let (one, two) = (dir.join("t1"), dir.join("t2"));
    dalesweep_ok(
        &[
            "run",
            &sweep,
            "--out",
            one.to_str().unwrap(),
            "--threads",
            "1",
        ],
        0,
    );
    dalesweep_ok(
        &[
            "run",
            &sweep,
            "--out",
            two.to_str().unwrap(),
            "--threads",
            "2",
        ],
        0,
    );
    for table in TABLES {
        let (a, b) = (
            rows(&one.join(table), &["train_seconds"]),
            rows(&two.join(table), &["train_seconds"]),
        );
        assert!(!a.is_empty(), "{table} is empty");
        assert!(
            a == b,
            "{table} differs between --threads 1 and --threads 2"
        );
    }
    let count = plan_count(&sweep);
    assert_eq!(count, 40);
    let runs = rows(&one.join("runs"), &[]);
    assert_eq!(runs.len(), count);
    let constrained = runs
        .iter()
        .filter(|r| field(r, "constraint") != "none")
        .count();
    let spectra = rows(&one.join("spectra"), &[]);
    assert_eq!(
        spectra.len(),
        2 * count + constrained,
        "initial + trained for all, projected for constrained"
    );
    let eigen = rows(&one.join("eigenvalues"), &[]);
    let units: usize = spectra
        .iter()
        .map(|r| field(r, "n").parse::<usize>().unwrap())
        .sum();
    assert_eq!(eigen.len(), units);
    assert_eq!(rows(&one.join("history"), &[]).len(), 2 * count);
    python_check(&[
        root().join("tests/python/check_tables.py"),
        one.clone(),
        count.to_string().into(),
    ]);
}

/// `[output] weights = true` stores every network's parameters; Python restores them and finds
/// the sign constraint exact on every trained Dale matrix. Without it there is no table.
#[test]
fn stored_weights_restore_and_keep_dale_signs() {
    let dir = scratch("weights");
    let sweep = sweep_file(
        &dir,
        "w.toml",
        &format!("{SMALL}\n[output]\nweights = true\n"),
    );
    let out = dir.join("out");
    dalesweep_ok(&["run", &sweep, "--out", out.to_str().unwrap()], 0);
    let rows_expected = 40 * 2 * 5; // runs x (initial, trained) x tensors
    python_check(&[
        root().join("tests/python/check_weights.py"),
        out.clone(),
        rows_expected.to_string().into(),
    ]);
    let plain = dir.join("plain");
    dalesweep_ok(
        &[
            "run",
            &sweep_file(&dir, "p.toml", SMALL),
            "--out",
            plain.to_str().unwrap(),
        ],
        0,
    );
    assert!(plain.join("runs").exists() && !plain.join("weights").exists());
}

/// Every part file's footer carries the sweep file, its hash, the engine version and the commit.
#[test]
fn every_part_file_carries_provenance() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = scratch("provenance");
    let text = SMALL.replace("epochs = 2", "epochs = 0");
    let sweep = sweep_file(&dir, "p.toml", &text);
    let out = dir.join("out");
    dalesweep_ok(&["run", &sweep, "--out", out.to_str().unwrap()], 0);
    let hash = rows(&out.join("runs"), &[])
        .iter()
        .map(|r| field(r, "sweep_hash").to_string())
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(hash.len(), 1);
    let hash = hash.into_iter().next().unwrap();
    assert_eq!(hash.len(), 64);
    for table in TABLES {
        for entry in std::fs::read_dir(out.join(table)).unwrap() {
            let file = std::fs::File::open(entry.unwrap().path()).unwrap();
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
            let kv: std::collections::HashMap<String, String> = builder
                .metadata()
                .file_metadata()
                .key_value_metadata()
                .unwrap()
                .iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect();
            assert_eq!(kv["dalesweep.sweep_toml"], text);
            assert_eq!(kv["dalesweep.sweep_hash"], hash);
            assert_eq!(kv["dalesweep.engine_version"], env!("CARGO_PKG_VERSION"));
            let commit = env!("DALESWEEP_GIT_COMMIT");
            assert_eq!(
                kv.get("dalesweep.git_commit").map(String::as_str),
                Some(commit).filter(|c| !c.is_empty())
            );
        }
    }
}

#[test]
fn dale_projection_holds_on_projected_spectra_and_epochs_zero_skips_training() {
    let dir = scratch("epochs0");
    let text = SMALL.replace("epochs = 2", "epochs = 0");
    let sweep = sweep_file(&dir, "zero.toml", &text);
    let out = dir.join("out");
    dalesweep_ok(&["run", &sweep, "--out", out.to_str().unwrap()], 0);
    let runs = rows(&out.join("runs"), &[]);
    assert!(runs.iter().all(|r| field(r, "status") == "ok"
        && field(r, "epochs") == "0"
        && field(r, "accuracy") == "null"));
    let stages: std::collections::BTreeSet<String> = rows(&out.join("spectra"), &[])
        .iter()
        .map(|r| field(r, "stage").to_string())
        .collect();
    assert_eq!(
        stages.into_iter().collect::<Vec<_>>(),
        ["initial", "projected"]
    );
    assert!(rows(&out.join("history"), &[]).is_empty());
}

/// The embedded default sweep: every run ok, as many rows as `plan` lists, and every spectral
/// column filled for every stage with values in their ranges; then its report and figures.
#[test]
fn default_sweep_fills_every_spectral_column() {
    let out = scratch("default_sweep").join("out");
    dalesweep_ok(&["run", "--out", out.to_str().unwrap()], 0);
    let runs = rows(&out.join("runs"), &[]);
    assert_eq!(runs.len(), 24);
    assert!(runs.iter().all(|r| field(r, "status") == "ok"));
    let spectra = rows(&out.join("spectra"), &[]);
    assert_eq!(
        spectra.len(),
        24 * 2 + 16,
        "initial + trained for all, projected for dale"
    );
    let num = |r: &[String], c: &str| -> f64 {
        field(r, c)
            .parse()
            .unwrap_or_else(|_| panic!("{c} = {}", field(r, c)))
    };
    for r in &spectra {
        let (outer, inner) = (num(r, "radius_outer"), num(r, "radius_inner"));
        assert!(outer > 0.0 && (0.0..=outer).contains(&inner), "{r:?}");
        assert!(
            (0.0..=1.0).contains(&num(r, "fit_ks")) && (0.0..1.0).contains(&num(r, "henrici")),
            "{r:?}"
        );
        assert!(
            num(r, "svd_entropy") > 0.5 && num(r, "svd_entropy") <= 1.0,
            "{r:?}"
        );
        assert!(
            num(r, "radius_circular_law") > 0.0 && num(r, "dominant_frequency_hz") > 0.0,
            "{r:?}"
        );
        let shape = field(r, "shape");
        assert!(shape == "disk" || shape == "ring");
        let outliers: usize = field(r, "n_outliers").parse().unwrap();
        assert_eq!(outliers == 0, field(r, "outlier_re") == "null", "{r:?}");
        let (stage, init, constraint) =
            (field(r, "stage"), field(r, "init"), field(r, "constraint"));
        if stage == "initial" {
            assert_eq!(
                shape,
                if init == "orthogonal" { "ring" } else { "disk" },
                "{r:?}"
            );
        }
        if stage == "projected" && field(r, "exc_frac") == "0.8" {
            // 80 % excitatory columns: the projection adds a large real outlier.
            assert!(outliers >= 1 && num(r, "outlier_re") > 1.0, "{r:?}");
        }
        if stage == "trained" && constraint == "dale" {
            assert_eq!(
                shape,
                if init == "orthogonal" { "ring" } else { "disk" },
                "trained Dale {r:?}"
            );
        }
    }
    let eigen = rows(&out.join("eigenvalues"), &[]);
    let flagged = eigen
        .iter()
        .filter(|r| field(r, "is_outlier") == "true")
        .count();
    let counted: usize = spectra
        .iter()
        .map(|r| field(r, "n_outliers").parse::<usize>().unwrap())
        .sum();
    assert_eq!(flagged, counted);
    crate::report::check_report_and_figures(&out);
}
