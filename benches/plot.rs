//! Time to draw the summary figures (and the whole report) of a sweep of 10 080 runs, from its
//! tables alone. The sweep is real but tiny (N 4..12, one update per network), computed once
//! into the target folder and resumed (so skipped) on later runs of the bench.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dalesweep::config::{parse, SweepSource};
use dalesweep::grid::Shard;
use dalesweep::plot::{plot, Format, Selection};
use dalesweep::report::report;
use dalesweep::runner::{run_sweep, RunOptions};

/// 4 tasks x (2 inits x 5 sizes x (2 fractions + baseline) x 84 seeds) = 10 080 runs.
const SWEEP: &str = "[sweep]\nname = \"plot-bench\"\nseed = 5\n\n[grid]\ntask = [\"and\", \"or\", \"xor\", \"flipflop\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"orthogonal\", \"normal\"]\nn = [4, 6, 8, 10, 12]\nexc_frac = [0.5, 0.7]\nseed = 84\n\n[train]\nepochs = 1\ntrials = 16\nbatch = 16\ntest_trials = 16\n";

fn dataset() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plot-bench-10k");
    let source = SweepSource {
        origin: "plot-bench".into(),
        text: SWEEP.into(),
    };
    let opts = RunOptions {
        out: out.clone(),
        threads: 0,
        progress_every: Duration::from_secs(30),
        shard: Shard::parse("0/1").unwrap(),
        retry_failed: false,
    };
    let summary = run_sweep(&parse(&source).unwrap(), &source, &opts).unwrap();
    assert_eq!(summary.total, 10_080);
    out
}

fn figures(c: &mut Criterion) {
    let out = dataset();
    let mut group = c.benchmark_group("plot_10080_runs");
    group.sample_size(10);
    for format in [Format::Svg, Format::Png] {
        group.bench_with_input(
            BenchmarkId::new("summary", format.extension()),
            &format,
            |b, &f| b.iter(|| plot(&out, &Selection::Runs(Vec::new()), f).unwrap()),
        );
    }
    group.bench_function("report_svg", |b| {
        b.iter(|| report(&out, Format::Svg).unwrap())
    });
    group.finish();
}

criterion_group!(benches, figures);
criterion_main!(benches);
