# dalesweep recipes. `just sweep` runs the default sweep; `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Run the embedded default sweep into results/default/
sweep *ARGS: deps
    cargo run --release -- run --out results/default {{ARGS}}

# Figures and report.md for a sweep's output (default: the default sweep's)
report DIR="results/default": deps
    cargo run --release -- report --out {{DIR}}

# Figures only: `just plot results/paper --run all --format png`
plot DIR="results/default" *ARGS: deps
    cargo run --release -- plot --out {{DIR}} {{ARGS}}

# The Jarne & Caruso reproduction (2000 networks, ~450 core-hours) here, resumable; clusters: README
sweep-paper *ARGS: deps
    cargo run --release -- run sweeps/paper.toml --out results/paper {{ARGS}}

# List the runs of a sweep without training (default: the embedded sweep)
plan *ARGS: deps
    cargo run --release -- plan {{ARGS}}

# Run every test (unit, integration, Python readers, a real SLURM cluster) in release mode
test: venv
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "$(id -u)" = 0 ]; then scripts/ensure-deps.sh --slurm; else scripts/ensure-deps.sh; fi
    if [ -z "${CI:-}" ] && { [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/slurmctld ]; }; then
        echo "SKIPPING the SLURM cluster test: it needs root and Debian's slurmctld, slurmd, slurm-client, munge (CI runs it)" >&2
        export DALESWEEP_SKIP_SLURM=1
    fi
    cargo test --release

# Criterion benchmarks: training step per size, SGEMM ceiling, eigen-analysis, figures of 10 080 runs
bench: deps
    cargo bench --bench train_step --bench eig --bench plot -- --noplot

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
