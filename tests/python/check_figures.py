"""Opens every figure of a dalesweep output folder (SVG with the XML parser, PNG with Pillow) and
checks the figures show the sweep's data, read independently from the Parquet tables with pandas.
Expects `dalesweep report` (SVG) and `dalesweep plot --format png --run all` to have run.
Usage: check_figures.py OUT_DIR"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

import pandas as pd
from PIL import Image

out = sys.argv[1]
figures = os.path.join(out, "figures")
data = os.path.join(out, "data")
runs = pd.read_parquet(os.path.join(out, "runs"))
spectra = pd.read_parquet(os.path.join(out, "spectra"))
eigen = pd.read_parquet(os.path.join(out, "eigenvalues"))

svgs = sorted(glob.glob(os.path.join(figures, "*.svg")))
pngs = sorted(glob.glob(os.path.join(figures, "*.png")))
summary = ["radius_vs_n", "radius_vs_exc_frac", "radius_by_stage", "loss"]
names = lambda paths: {os.path.splitext(os.path.basename(p))[0] for p in paths}
assert set(summary) <= names(svgs) and set(summary) <= names(pngs), (svgs, pngs)
assert len([p for p in pngs if "network_" in p]) == len(runs), "one PNG per run with --run all"

# Every SVG parses and every circle marker of a network figure is one bulk eigenvalue.
for path in svgs:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), path
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.startswith("network_"):
        continue
    run = name[len("network_"):]
    mine = eigen[eigen.run_id == run]
    circles = sum(1 for e in root.iter() if e.tag.endswith("circle"))
    assert circles == int((~mine.is_outlier).sum()) > 0, (path, circles)
    # The figure's data file holds exactly the run's eigenvalues (Rust prints shortest
    # round-trip floats, so equality is exact).
    plotted = pd.read_csv(os.path.join(data, name + ".csv"))
    key = ["stage", "re", "im", "is_outlier"]
    a = plotted[key].sort_values(key).reset_index(drop=True)
    b = mine[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)

# Every PNG decodes to a real picture (not one flat colour).
for path in pngs:
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width >= 300 and im.height >= 300, path
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 10, path

# radius_vs_n: one point per group, radius and N, at the mean of the trained spectra.
ok = runs[runs.status == "ok"].run_id
trained = spectra[(spectra.stage == "trained") & spectra.run_id.isin(ok)]
plotted = pd.read_csv(os.path.join(data, "radius_vs_n.csv"))
for radius in ["outer", "inner"]:
    col = "radius_" + radius
    expected = trained.groupby(["task", "init", "constraint", "n"])[col].agg(["mean", "count"]).reset_index()
    assert len(expected) > 0
    for row in expected.itertuples():
        series = f"{row.init} / {row.constraint} {radius}"
        hit = plotted[(plotted.panel == f"task {row.task}") & (plotted.series == series) & (plotted.x == row.n)]
        assert len(hit) == 1, (series, row.n)
        assert abs(hit["mean"].iloc[0] - row.mean) < 1e-12 and hit["count"].iloc[0] == row.count, (series, row)
    assert plotted.series.str.endswith(radius).sum() == len(expected)
print(f"{len(svgs)} SVG and {len(pngs)} PNG figures checked")
