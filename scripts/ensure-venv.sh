#!/usr/bin/env bash
# Makes sure .venv holds the Python readers the tests use (pandas, polars, pyarrow, Pillow).
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/python/requirements.txt
if [ -x .venv/bin/python ] && .venv/bin/python -c "import pandas, polars, pyarrow, PIL" 2>/dev/null; then
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
        echo "python3 cannot create a venv; run: sudo apt-get install -y python3-venv" >&2
        exit 1
    fi
fi
echo "creating .venv with $(tr '\n' ' ' < "$req")" >&2
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
