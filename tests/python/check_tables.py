"""Reads every table of a dalesweep output folder with pandas and with polars, exactly as a
user would, and checks row counts and column types. Usage: check_tables.py OUT_DIR EXPECTED_RUNS"""
import sys

import pandas as pd
import polars as pl

out, expected_runs = sys.argv[1], int(sys.argv[2])

COORDS_PD = {"run_id": "str", "task": "str", "n": "int64", "exc_frac": "float64", "init": "str", "constraint": "str", "seed": "int64"}
COORDS_PL = {"run_id": pl.String, "task": pl.String, "n": pl.Int64, "exc_frac": pl.Float64, "init": pl.String, "constraint": pl.String, "seed": pl.Int64}
EXTRA = {
    "runs": {"status": "str", "epochs": "int64", "steps": "int64", "final_loss": "float64", "accuracy": "float64", "train_seconds": "float64", "engine_version": "str", "sweep_hash": "str"},
    "spectra": {
        "stage": "str", "spectral_radius": "float64", "ref_radius_outer": "float64", "ref_radius_inner": "float64",
        "n_outliers": "int64", "outlier_re": "float64", "outlier_im": "float64", "radius_outer": "float64",
        "radius_inner": "float64", "fit_ks": "float64", "shape": "str", "henrici": "float64",
        "dominant_frequency_hz": "float64", "svd_entropy": "float64", "radius_circular_law": "float64",
    },
    "eigenvalues": {"stage": "str", "re": "float64", "im": "float64", "modulus": "float64", "is_outlier": "bool"},
    "history": {"epoch": "int64", "loss": "float64"},
}
PL_TYPES = {"str": pl.String, "int64": pl.Int64, "float64": pl.Float64, "bool": pl.Boolean}


def string_like(dtype):
    return dtype == object or pd.api.types.is_string_dtype(dtype)


for table, extra in EXTRA.items():
    frame = pd.read_parquet(f"{out}/{table}")
    lazy = pl.scan_parquet(f"{out}/{table}/").collect()
    globbed = pl.read_parquet(f"{out}/{table}/*.parquet")
    assert len(frame) == len(lazy) == len(globbed) > 0, (table, len(frame), len(lazy), len(globbed))
    for name, kind in {**COORDS_PD, **extra}.items():
        dtype = frame[name].dtype
        ok = string_like(dtype) if kind == "str" else str(dtype) == kind
        assert ok, f"pandas {table}.{name}: {dtype}, want {kind}"
        want_pl = COORDS_PL.get(name) or PL_TYPES[kind]
        assert lazy.schema[name] == want_pl, f"polars {table}.{name}: {lazy.schema[name]}, want {want_pl}"
    # Typed coordinates filter directly, without a join or a cast.
    constrained = frame[frame["exc_frac"] == 0.8]
    assert len(constrained) > 0 and (constrained["constraint"] != "none").all(), table
    assert frame.loc[frame["constraint"] == "none", "exc_frac"].isna().all(), table
    assert lazy.filter(pl.col("n") == int(frame["n"].iloc[0])).height > 0, table

runs = pd.read_parquet(f"{out}/runs")
assert len(runs) == expected_runs == runs["run_id"].nunique(), (len(runs), expected_runs)
print(f"pandas {pd.__version__} and polars {pl.__version__} read all tables of {out}: ok")
