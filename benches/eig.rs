//! Time of the spectral analysis of one N = 500 network: per stage, the eigenvalues (LAPACK
//! dgeev, f64), the singular values (for the SVD entropy), the bulk fit, outliers and metrics.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dalesweep::dale::{Constraint, SignRule};
use dalesweep::init::{initial_params, InitKind};
use dalesweep::linalg::set_blas_threads;
use dalesweep::model::Params;
use dalesweep::spectrum::{analyse, mask_small};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn eig(c: &mut Criterion) {
    set_blas_threads(1);
    let n = 500;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let initial: Params<f64> = initial_params(n, InitKind::Normal, 1.0, &mut rng);
    let mut projected = initial.clone();
    let (w_in, w_rec) = projected.w_in_rec_mut();
    SignRule::new(Constraint::Dale, n, Some(0.8)).project(w_in, w_rec);
    let mut group = c.benchmark_group("eig");
    group.sample_size(10);
    group.bench_with_input(BenchmarkId::new("one_stage", n), &n, |bench, &n| {
        bench.iter(|| analyse(initial.w_rec(), n).unwrap())
    });
    group.bench_with_input(BenchmarkId::new("three_stages", n), &n, |bench, &n| {
        bench.iter(|| {
            for w in [initial.w_rec(), projected.w_rec(), projected.w_rec()] {
                let mut w = w.to_vec();
                mask_small(&mut w, 1e-4);
                analyse(&w, n).unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, eig);
criterion_main!(benches);
