//! Integration tests: the `dalesweep` binary run on small sweeps, its Parquet tables read back
//! in Rust and by real pandas and polars.

mod util;

mod cli;
mod learns;
mod report;
mod resume;
mod simulate;
mod slurm;
mod tables;
