# dalesweep recipes. `just sweep` runs the default sweep; `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Run the embedded default sweep into results/default/
sweep *ARGS: deps
    cargo run --release -- run --out results/default {{ARGS}}

# List the runs of a sweep without training (default: the embedded sweep)
plan *ARGS: deps
    cargo run --release -- plan {{ARGS}}

# Run every test (unit, integration, Python readers) in release mode
test: deps venv
    cargo test --release

# Criterion benchmarks: training step per size, SGEMM ceiling, eigen-analysis
bench: deps
    cargo bench --bench train_step --bench eig -- --noplot

# Formatting and lints, as required before a commit
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets --release -- -D warnings

# Debian's OpenBLAS (installed when run as root; otherwise the command to run is printed)
deps:
    scripts/ensure-deps.sh

# The Python readers used by the tests (pandas, polars, pyarrow) in .venv
venv:
    scripts/ensure-venv.sh
