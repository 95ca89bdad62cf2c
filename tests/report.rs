//! Figures and the report: claim tables checked by hand on a tiny synthetic dataset written as
//! real Parquet, and (from the default-sweep test) every figure of a real sweep opened by
//! Python readers and matched against the tables.

use std::path::Path;

use dalesweep::bulk::{BulkFit, Separation, Shape};
use dalesweep::config::{parse, SweepSource};
use dalesweep::grid::expand;
use dalesweep::record::{RunRecord, Stage, StageSpectrum};
use dalesweep::sink::{PartWriter, Provenance};
use dalesweep::spectrum::{Analysis, Eigenvalue, ReferenceRadii};

use crate::util::{dalesweep_ok, python_check, root, scratch};

const SWEEP: &str = "[sweep]\nname = \"hand\"\n\n[grid]\ntask = [\"and\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"normal\"]\nn = [10, 20]\nexc_frac = [0.8]\nseed = 2\n\n[train]\nepochs = 1\n";

/// A stage whose fitted bulk is `(outer, inner)`; the other columns are placeholders the
/// report does not read.
fn stage(stage: Stage, outer: f64, inner: f64) -> StageSpectrum {
    let eigenvalues = vec![
        Eigenvalue { re: outer, im: 0.0 },
        Eigenvalue { re: inner, im: 0.0 },
    ];
    let shape = if inner >= 0.3 * outer {
        Shape::Ring
    } else {
        Shape::Disk
    };
    StageSpectrum {
        stage,
        eigenvalues,
        analysis: Analysis {
            radii: ReferenceRadii {
                spectral_radius: outer,
                outer: None,
                inner,
            },
            separation: Separation {
                is_outlier: vec![false, false],
                bulk: BulkFit {
                    radius_inner: inner,
                    radius_outer: outer,
                    fit_ks: 0.0,
                    shape,
                },
            },
            largest_outlier: None,
            henrici: 0.0,
            dominant_frequency_hz: None,
            svd_entropy: 1.0,
            radius_circular_law: outer,
        },
    }
}

/// Trained outer radii by (constraint, N, seed): chosen so the numbers can be worked by hand.
fn trained_outer(constraint: &str, n: usize, seed: u64) -> f64 {
    match (constraint, n, seed) {
        ("dale", 10, 0) => 0.50,
        ("dale", 10, 1) => 0.54,
        ("dale", 20, 0) => 0.52,
        ("dale", 20, 1) => 0.56,
        ("none", 10, 0) => 1.0,
        ("none", 10, 1) => 1.1,
        ("none", 20, 0) => 0.9,
        _ => 1.0,
    }
}

fn write_synthetic(root: &Path) {
    let source = SweepSource {
        origin: "hand.toml".into(),
        text: SWEEP.into(),
    };
    let specs = expand(&parse(&source).unwrap());
    let records: Vec<RunRecord> = specs
        .into_iter()
        .map(|spec| {
            let c = spec.constraint.name();
            let outer = trained_outer(c, spec.n, spec.seed);
            let mut r = RunRecord::new(spec);
            r.accuracy = Some(1.0);
            r.history = vec![0.5, 0.25];
            r.spectra.push(stage(Stage::Initial, 1.0, 0.1));
            if c == "dale" {
                r.spectra.push(stage(Stage::Projected, 0.6, 0.05));
            }
            r.spectra.push(stage(Stage::Trained, outer, 0.1 * outer));
            r
        })
        .collect();
    let prov = Provenance {
        sweep_text: SWEEP.into(),
        sweep_hash: source.hash(),
        engine_version: "test".into(),
        git_commit: None,
    };
    let mut writer = PartWriter::create(root, "hand".into(), &prov).unwrap();
    writer.write(&records, &prov).unwrap();
}

/// The report's table row whose first cells are `start`.
fn row<'a>(report: &'a str, start: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no row {start:?} in\n{report}"))
}

#[test]
fn claim_tables_match_a_hand_computation() {
    let root = scratch("report_by_hand");
    write_synthetic(&root);
    dalesweep_ok(&["report", "--out", root.to_str().unwrap()], 0);
    let report = std::fs::read_to_string(root.join("report.md")).unwrap();

    // Slope on N, Dale trained radii 0.50 0.54 (N 10) and 0.52 0.56 (N 20): slope 0.002,
    // residuals +-0.02, s^2 = 0.0016 / 2, Sxx = 100, se = 0.002828, t(2) = 4.3027, so the
    // interval is 0.002 +- 0.01217; change over 10..20 = 0.020 = 3.8 % of the mean 0.530.
    assert_eq!(
        row(&report, "| normal | dale | trained | N |"),
        "| normal | dale | trained | N | 10..20 | 4 | 0.530 | +2.00e-3 [-1.02e-2, +1.42e-2] | +0.020 [-0.102, +0.142] | +3.8 % | holds |"
    );
    // Paired with the unconstrained nets (1.0, 1.1 at N 10; 0.9, 1.0 at N 20): differences
    // -0.50 -0.56 -0.38 -0.44, mean -0.47, sd 0.07746, se 0.03873, t(3) = 3.1824.
    assert_eq!(
        row(&report, "| normal | dale | trained | 4 | 0.530 |"),
        "| normal | dale | trained | 4 | 0.530 | 1.000 | -0.470 [-0.593, -0.347] | holds |"
    );
    // Projection 1.0 -> 0.6 for every network (no spread: the interval is the point); training
    // 0.6 -> trained: -0.10 -0.06 -0.08 -0.04, mean -0.07, se 0.01291, t(3) = 3.1824.
    assert_eq!(
        row(&report, "| normal | dale | outer |"),
        "| normal | dale | outer | 4 | 1.000 | 0.600 | 0.530 | -0.400 [-0.400, -0.400] | -0.070 [-0.111, -0.029] |"
    );
    assert!(report.contains("| normal | dale | trained | 4 | 0 | 0.100 | disk | holds |"));
    assert!(report.contains(
        "| normal | dale | trained | exc_frac | 0.8..0.8 | 4 | 0.530 | - | - | - | untestable |"
    ));
    assert!(report.contains("| normal | dale | 4 | 1.000 | 0.530 ± 0.026 | 0.053 ± 0.003 |"));
}

/// `report` and `plot` on a real sweep's output: every figure linked and readable, and the
/// plotted values are the tables' (see `tests/python/check_figures.py`).
pub fn check_report_and_figures(out: &Path) {
    let dir = out.to_str().unwrap();
    dalesweep_ok(&["report", "--out", dir], 0);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for heading in [
        "## Mean radii",
        "## Claim: disk",
        "## Claim: the radius is independent",
        "## Claim: the radius is smaller",
        "## What the projection did",
        "## Example networks",
    ] {
        assert!(report.contains(heading), "{heading}");
    }
    // Every section is filled: no claim row of the default sweep is untestable.
    assert!(!report.contains("untestable |"), "{report}");
    for link in report.lines().filter_map(|l| l.strip_prefix("![")) {
        let path = link.split("](").nth(1).unwrap().trim_end_matches(')');
        assert!(out.join(path).is_file(), "{path}");
    }
    dalesweep_ok(
        &["plot", "--out", dir, "--format", "png", "--run", "all"],
        0,
    );
    python_check(&[
        root().join("tests/python/check_figures.py"),
        out.to_path_buf(),
    ]);
}

#[test]
fn plot_refuses_bad_input_with_exit_2_and_writes_nothing() {
    let root = scratch("plot_bad_input");
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = dalesweep_ok(&["plot", "--out", empty.to_str().unwrap()], 2);
    assert!(String::from_utf8_lossy(&err.stderr)
        .contains("holds no runs table: run `dalesweep run --out"));

    let data = root.join("data");
    write_synthetic(&data);
    let dir = data.to_str().unwrap();
    let err = dalesweep_ok(&["plot", "--out", dir, "--run", "00000000deadbeef"], 2);
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("--run 00000000deadbeef: no such run under")
    );
    let err = dalesweep_ok(&["plot", "--out", dir, "--format", "jpg"], 2);
    assert!(String::from_utf8_lossy(&err.stderr).contains("format \"jpg\" is not one of svg, png"));
    assert!(!data.join("figures").exists() && !data.join("report.md").exists());
}
