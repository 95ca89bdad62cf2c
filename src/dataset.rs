//! A sweep's output tables read back for figures and the report: each run as a
//! [`Network`] (coordinates, status, accuracy, the fitted bulk of every stage), the loss curves
//! of `history`, and the eigenvalues of chosen runs. Only the needed columns are read, so the
//! summary of a large sweep never touches its `eigenvalues` table.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::path::Path;

use arrow_array::{Array, Float64Array};

use crate::bulk::Shape;
use crate::claims::{stage_index, BulkRadii, Network};
use crate::record::Stage;
use crate::sink::Table;
use crate::store::{footer, part_files, scan};

fn optional(a: &Float64Array, i: usize) -> Option<f64> {
    a.is_valid(i).then(|| a.value(i))
}

fn shape_named(name: &str) -> io::Result<Shape> {
    Shape::from_name(name).ok_or_else(|| io::Error::other(format!("unknown shape {name:?}")))
}

fn stage_named(name: &str) -> io::Result<Stage> {
    Stage::from_name(name).ok_or_else(|| io::Error::other(format!("unknown stage {name:?}")))
}

/// Every run recorded under `root`, with the fitted bulk of each stage, in the order of
/// task, constraint, init, N, exc_frac, seed.
pub fn networks(root: &Path) -> io::Result<Vec<Network>> {
    let mut out = Vec::new();
    let coordinates = [
        "run_id",
        "task",
        "n",
        "exc_frac",
        "init",
        "constraint",
        "seed",
    ];
    let columns: Vec<&str> = coordinates
        .iter()
        .copied()
        .chain(["status", "accuracy"])
        .collect();
    scan(root, Table::Runs.name(), &columns, |c| {
        let (id, task, n, exc) = (
            c.str("run_id")?,
            c.str("task")?,
            c.int("n")?,
            c.float("exc_frac")?,
        );
        let (init, constraint, seed) = (c.str("init")?, c.str("constraint")?, c.int("seed")?);
        let (status, accuracy) = (c.str("status")?, c.float("accuracy")?);
        for i in 0..c.batch.num_rows() {
            out.push(Network {
                run_id: id.value(i).to_string(),
                task: task.value(i).to_string(),
                n: n.value(i) as usize,
                exc_frac: optional(exc, i),
                init: init.value(i).to_string(),
                constraint: constraint.value(i).to_string(),
                seed: seed.value(i) as u64,
                status: status.value(i).to_string(),
                accuracy: optional(accuracy, i),
                stages: [None; 3],
            });
        }
        Ok(())
    })?;
    let index: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(k, n)| (n.run_id.clone(), k))
        .collect();
    let columns = ["run_id", "stage", "radius_outer", "radius_inner", "shape"];
    scan(root, Table::Spectra.name(), &columns, |c| {
        let (id, stage, shape) = (c.str("run_id")?, c.str("stage")?, c.str("shape")?);
        let (outer, inner) = (c.float("radius_outer")?, c.float("radius_inner")?);
        for i in 0..c.batch.num_rows() {
            // Rows of a run without a `runs` row (cut by a kill) are not part of the sweep.
            if let Some(&k) = index.get(id.value(i)) {
                out[k].stages[stage_index(stage_named(stage.value(i))?)] = Some(BulkRadii {
                    outer: outer.value(i),
                    inner: inner.value(i),
                    shape: shape_named(shape.value(i))?,
                });
            }
        }
        Ok(())
    })?;
    out.sort_by(|a, b| {
        let key = |n: &Network| (n.task.clone(), n.constraint.clone(), n.init.clone(), n.n);
        key(a)
            .cmp(&key(b))
            .then(
                a.exc_frac
                    .partial_cmp(&b.exc_frac)
                    .expect("no NaN fractions"),
            )
            .then(a.seed.cmp(&b.seed))
    });
    Ok(out)
}

/// Mean training loss per epoch of every run that has a history, by run id.
pub fn loss_curves(root: &Path) -> io::Result<HashMap<String, Vec<f64>>> {
    let mut rows: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    scan(
        root,
        Table::History.name(),
        &["run_id", "epoch", "loss"],
        |c| {
            let (id, epoch, loss) = (c.str("run_id")?, c.int("epoch")?, c.float("loss")?);
            for i in 0..c.batch.num_rows() {
                rows.entry(id.value(i).to_string())
                    .or_default()
                    .push((epoch.value(i), loss.value(i)));
            }
            Ok(())
        },
    )?;
    Ok(rows
        .into_iter()
        .map(|(id, mut r)| {
            r.sort_by_key(|e| e.0);
            (id, r.into_iter().map(|e| e.1).collect())
        })
        .collect())
}

/// One eigenvalue of one stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EigenPoint {
    pub stage: Stage,
    pub re: f64,
    pub im: f64,
    pub is_outlier: bool,
}

/// The eigenvalues of the runs in `ids`, in table order (stage, then index).
pub fn eigenvalues(
    root: &Path,
    ids: &HashSet<String>,
) -> io::Result<HashMap<String, Vec<EigenPoint>>> {
    let mut out: HashMap<String, Vec<EigenPoint>> = HashMap::new();
    let columns = ["run_id", "stage", "re", "im", "is_outlier"];
    scan(root, Table::Eigenvalues.name(), &columns, |c| {
        let (id, stage) = (c.str("run_id")?, c.str("stage")?);
        let (re, im, outlier) = (c.float("re")?, c.float("im")?, c.boolean("is_outlier")?);
        for i in (0..c.batch.num_rows()).filter(|&i| ids.contains(id.value(i))) {
            out.entry(id.value(i).to_string())
                .or_default()
                .push(EigenPoint {
                    stage: stage_named(stage.value(i))?,
                    re: re.value(i),
                    im: im.value(i),
                    is_outlier: outlier.value(i),
                });
        }
        Ok(())
    })?;
    Ok(out)
}

/// What produced the `runs` table, one line per distinct footer: the sweep file's hash, the
/// engine version and the git commit.
pub fn provenance(root: &Path) -> io::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for path in part_files(root, Table::Runs.name())? {
        let meta = footer(&path)?;
        let get = |key: &str| meta.get(key).map_or("?", String::as_str);
        out.insert(format!(
            "sweep file {}, dalesweep {}, commit {}",
            get("dalesweep.sweep_hash"),
            get("dalesweep.engine_version"),
            get("dalesweep.git_commit")
        ));
    }
    Ok(out)
}
