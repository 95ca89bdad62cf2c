"""Reads the weights table of a dalesweep output folder with pandas and polars and checks that
every stored matrix restores to its shape and that Dale runs satisfy their sign constraint
exactly. Usage: check_weights.py OUT_DIR EXPECTED_ROWS"""
import sys

import numpy as np
import pandas as pd
import polars as pl

out, expected = sys.argv[1], int(sys.argv[2])
frame = pd.read_parquet(f"{out}/weights")
assert len(frame) == expected == pl.scan_parquet(f"{out}/weights/").collect().height, len(frame)

checked = 0
for row in frame.itertuples():
    w = np.asarray(row.values).reshape(row.rows, row.cols)
    assert w.dtype == np.float32 and np.isfinite(w).all()
    if row.constraint == "none":
        assert pd.isna(row.n_inh)
        continue
    n_inh = int(row.n_inh)
    assert n_inh == int(np.floor(row.n * (1 - row.exc_frac) + 0.5)), (row.n, row.exc_frac, n_inh)
    if row.stage != "trained":
        continue  # the initial matrix is stored unprojected, as the reference code keeps it
    if row.tensor == "w_in":
        assert (w >= 0).all(), "input weights must be >= 0"
    if row.tensor == "w_rec":
        # w[i, j] is the weight from unit i to unit j; units 0..n_inh-1 are inhibitory.
        signed = w if row.constraint == "dale" else w.T
        assert (signed[:n_inh] <= 0).all(), f"{row.run_id}: an inhibitory unit has a positive weight"
        assert (signed[n_inh:] >= 0).all(), f"{row.run_id}: an excitatory unit has a negative weight"
        assert (w == 0).any(), "the projection zeroes weights"
        checked += 1
assert checked > 0
print(f"{checked} trained Dale matrices satisfy their sign constraint exactly")
