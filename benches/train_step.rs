//! Time of one training step (forward and backward through T = 290 steps of a batch of 64,
//! clipped Adam update, Dale projection) per network size, with throughput in FLOP counted as
//! 6 T B N^2 per step; and the single-thread OpenBLAS SGEMM rate of a 1024^3 product measured
//! in the same run, the ceiling the step rates are compared with.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use dalesweep::dale::{Constraint, SignRule};
use dalesweep::init::{initial_params, InitKind};
use dalesweep::linalg::{set_blas_threads, Mat, Real};
use dalesweep::model::Params;
use dalesweep::task::{Task, Trial};
use dalesweep::train::{Stepper, TrainSettings};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

const BATCH: usize = 64;

fn sgemm_1024(c: &mut Criterion) {
    set_blas_threads(1);
    let n = 1024;
    let a: Vec<f32> = (0..n * n).map(|k| (k % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|k| (k % 5) as f32 * 0.1).collect();
    let mut out = vec![0f32; n * n];
    let mut group = c.benchmark_group("sgemm");
    group.throughput(Throughput::Elements(2 * (n * n * n) as u64));
    group.sample_size(20);
    group.bench_function("1024", |bench| {
        bench.iter(|| {
            f32::gemm(
                n,
                n,
                n,
                1.0,
                Mat::new(&a, n),
                Mat::new(&b, n),
                0.0,
                &mut out,
                n,
            )
        })
    });
    group.finish();
}

fn train_step(c: &mut Criterion) {
    set_blas_threads(1);
    let task = Task::And;
    let settings = TrainSettings::default();
    let mut group = c.benchmark_group("train_step");
    for n in [50usize, 100, 200, 500] {
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let rule = SignRule::new(Constraint::Dale, n, Some(0.8));
        let mut params: Params<f32> = initial_params(n, InitKind::Orthogonal, 1.0, &mut rng);
        let trials: Vec<Trial> = task.draw_many(&mut rng, BATCH);
        let picked: Vec<&Trial> = trials.iter().collect();
        let mut stepper = Stepper::new(task, n, BATCH);
        group.throughput(Throughput::Elements(
            (6 * task.steps() * BATCH * n * n) as u64,
        ));
        group.sample_size(if n >= 200 { 10 } else { 20 });
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| stepper.step(&settings, &rule, &mut params, &picked))
        });
    }
    group.finish();
}

/// Median wall time of `reps` calls of `f`, seconds.
fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

/// The table the issue asks for, from medians measured in this run: step time, GFLOP/s
/// (6 T B N^2 per step) and the ratio to the single-thread SGEMM rate of a 1024^3 product.
fn ratio_table() {
    set_blas_threads(1);
    let n = 1024;
    let a: Vec<f32> = (0..n * n).map(|k| (k % 7) as f32 * 0.1).collect();
    let mut out = vec![0f32; n * n];
    let sgemm = median_secs(15, || {
        f32::gemm(
            n,
            n,
            n,
            1.0,
            Mat::new(&a, n),
            Mat::new(&a, n),
            0.0,
            &mut out,
            n,
        )
    });
    let peak = 2.0 * (n * n * n) as f64 / sgemm / 1e9;
    println!(
        "\nsingle-thread SGEMM 1024^3: {:.2} ms median, {peak:.1} GFLOP/s",
        sgemm * 1e3
    );
    println!(
        "{:>5}  {:>12}  {:>9}  {:>10}",
        "N", "step median", "GFLOP/s", "/ SGEMM"
    );
    let task = Task::And;
    let settings = TrainSettings::default();
    for units in [50usize, 100, 200, 500] {
        let mut rng = ChaCha8Rng::seed_from_u64(units as u64);
        let rule = SignRule::new(Constraint::Dale, units, Some(0.8));
        let mut params: Params<f32> = initial_params(units, InitKind::Orthogonal, 1.0, &mut rng);
        let trials: Vec<Trial> = task.draw_many(&mut rng, BATCH);
        let picked: Vec<&Trial> = trials.iter().collect();
        let mut stepper = Stepper::new(task, units, BATCH);
        let reps = if units >= 200 { 11 } else { 31 };
        let step = median_secs(reps, || {
            stepper
                .step(&settings, &rule, &mut params, &picked)
                .unwrap();
        });
        let rate = (6 * task.steps() * BATCH * units * units) as f64 / step / 1e9;
        println!(
            "{units:>5}  {:>9.2} ms  {rate:>9.1}  {:>10.2}",
            step * 1e3,
            rate / peak
        );
    }
}

criterion_group!(benches, sgemm_1024, train_step);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio_table();
}
