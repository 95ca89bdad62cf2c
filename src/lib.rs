//! dalesweep: sweeps of Dale-constrained recurrent networks and the eigenvalue spectra of
//! their recurrent matrices (Jarne & Caruso, Cognitive Neurodynamics 18, 2024).
//!
//! Modules in data-flow order; imports point from later to earlier only:
//!
//! - numeric core, no IO: [`linalg`] (BLAS), [`random`], [`task`], [`dale`], [`init`],
//!   [`model`] (forward + BPTT), [`train`] (Adam, epochs, scoring), [`bulk`] (outliers,
//!   disk/ring fit), [`spectrum`] (LAPACK, metrics), [`dynamics`] (PCA, frequency of activity),
//!   [`stats`] (means, t intervals, least squares);
//! - plan: [`config`] (sweep file -> checked `Sweep`), [`grid`] (runs, ids, random streams);
//! - results: [`record`] (row values), [`sink`] (Parquet), [`store`] (what a directory holds),
//!   [`claims`] (the paper's claims tested on fitted radii; no IO), [`dataset`] (tables read
//!   back as [`claims::Network`]s for figures and the report);
//! - edge: [`runner`] (threads, resume, writing), [`simulate`] (stored networks rerun), [`plot`]
//!   (figures), [`report`] (report.md), [`progress`], [`slurm`] (job arrays), [`cli`].
//!
//! **Determinism contract.** A run's numbers are a function of its `RunSpec` and the sweep's
//! settings alone: its random streams are derived from the master seed and its coordinates
//! (see [`grid`]), every draw algorithm is written out in [`random`], and OpenBLAS runs one
//! thread per call. The same sweep file and binary thus give bit-identical tables whatever the
//! thread count or which other runs share the sweep (timing columns aside); across machines,
//! BLAS kernels may differ in the last bits.

extern crate openblas_src;

pub mod bulk;
pub mod claims;
pub mod cli;
pub mod config;
pub mod dale;
pub mod dataset;
pub mod dynamics;
pub mod grid;
pub mod init;
pub mod linalg;
pub mod model;
pub mod plot;
pub mod progress;
pub mod random;
pub mod record;
pub mod report;
pub mod runner;
pub mod simulate;
pub mod sink;
pub mod slurm;
pub mod spectrum;
pub mod stats;
pub mod store;
pub mod task;
pub mod train;
