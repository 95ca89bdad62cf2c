#!/usr/bin/env bash
# Makes sure the system packages dalesweep needs are present: Debian's OpenBLAS (BLAS + LAPACK)
# and pkg-config to build, and with `--slurm` the SLURM daemons the cluster test starts.
# Installs them when run as root; otherwise prints the command.
set -euo pipefail
packages=(libopenblas-dev pkg-config)
if [ "${1:-}" = --slurm ]; then
    packages+=(slurmctld slurmd slurm-client munge)
fi
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "missing system packages: ${missing[*]}" >&2
    echo "run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
