//! The `dalesweep` binary: parse the command line, hand it to the library, exit with its code.
use clap::Parser;

fn main() -> std::process::ExitCode {
    dalesweep::cli::run(dalesweep::cli::Cli::parse())
}
