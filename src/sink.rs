//! Parquet output. Each table is a folder of part files under the output directory; every part
//! file of a table has the same schema, failed runs included, and carries `run_id` and the grid
//! coordinates as typed columns. The schema of a table is whatever [`batch`] declares: building
//! a batch of zero records gives it, so there is one schema source.
//!
//! A part file is written into the hidden folder `.staging` of the output directory, fsynced,
//! then renamed into its table folder, so a table folder only ever holds complete part files
//! (and no temporary file, which polars would refuse). Footer
//! metadata carries the sweep file, its hash, the engine version and the git commit. A batch is
//! written table by table in [`Table::COMMIT_ORDER`], `runs` last.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float32Builder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::dale::SignRule;
use crate::grid::{RunId, RunSpec};
use crate::model::{tensor_shape, Params, TENSORS};
use crate::record::{RunRecord, Simulated, Stage, StageSpectrum};

/// The tables of a sweep's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Runs,
    Spectra,
    Eigenvalues,
    History,
    /// Only with `[output] weights = true`.
    Weights,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Runs,
        Table::Spectra,
        Table::Eigenvalues,
        Table::History,
        Table::Weights,
    ];
    /// The order in which a batch is written and rows are removed: `runs` last, so a `runs`
    /// row is the commit record of a run (its other rows are complete once it exists).
    pub const COMMIT_ORDER: [Table; 5] = [
        Table::History,
        Table::Eigenvalues,
        Table::Spectra,
        Table::Weights,
        Table::Runs,
    ];

    /// The folder name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Runs => "runs",
            Table::Spectra => "spectra",
            Table::Eigenvalues => "eigenvalues",
            Table::History => "history",
            Table::Weights => "weights",
        }
    }

    /// The table's schema.
    pub fn schema(self) -> SchemaRef {
        batch(self, &[], &Provenance::default()).schema()
    }
}

/// Where results came from; written into every file.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    pub sweep_text: String,
    pub sweep_hash: String,
    pub engine_version: String,
    pub git_commit: Option<String>,
}

/// Columns under construction; each call appends one named column.
#[derive(Default)]
struct Columns {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Columns {
    fn push(&mut self, name: &str, nullable: bool, array: ArrayRef) {
        self.fields
            .push(Field::new(name, array.data_type().clone(), nullable));
        self.arrays.push(array);
    }
    fn str<'a>(
        &mut self,
        name: &str,
        nullable: bool,
        values: impl Iterator<Item = Option<&'a str>>,
    ) {
        let mut b = StringBuilder::new();
        values.for_each(|v| b.append_option(v));
        self.push(name, nullable, Arc::new(b.finish()));
    }
    fn int(&mut self, name: &str, nullable: bool, values: impl Iterator<Item = Option<i64>>) {
        let mut b = Int64Builder::new();
        values.for_each(|v| b.append_option(v));
        self.push(name, nullable, Arc::new(b.finish()));
    }
    fn float(&mut self, name: &str, nullable: bool, values: impl Iterator<Item = Option<f64>>) {
        let mut b = Float64Builder::new();
        values.for_each(|v| b.append_option(v));
        self.push(name, nullable, Arc::new(b.finish()));
    }
    fn float32(&mut self, name: &str, values: impl Iterator<Item = f32>) {
        let mut b = Float32Builder::new();
        values.for_each(|v| b.append_value(v));
        self.push(name, false, Arc::new(b.finish()));
    }
    fn boolean_opt(&mut self, name: &str, values: impl Iterator<Item = Option<bool>>) {
        let mut b = BooleanBuilder::new();
        values.for_each(|v| b.append_option(v));
        self.push(name, true, Arc::new(b.finish()));
    }
    fn boolean(&mut self, name: &str, values: impl Iterator<Item = bool>) {
        let mut b = BooleanBuilder::new();
        values.for_each(|v| b.append_value(v));
        self.push(name, false, Arc::new(b.finish()));
    }
    /// `run_id` and the six grid coordinates, one row per item.
    fn coordinates<'a>(&mut self, specs: impl Iterator<Item = &'a RunSpec> + Clone) {
        // Rows of one run come together: format its id once, not once per row.
        let mut b = StringBuilder::new();
        let mut last: Option<(RunId, String)> = None;
        for spec in specs.clone() {
            if last.as_ref().is_none_or(|(id, _)| *id != spec.id) {
                last = Some((spec.id, spec.id.to_string()));
            }
            b.append_value(&last.as_ref().expect("set above").1);
        }
        self.push("run_id", false, Arc::new(b.finish()));
        self.str("task", false, specs.clone().map(|s| Some(s.task.name())));
        self.int("n", false, specs.clone().map(|s| Some(s.n as i64)));
        self.float("exc_frac", true, specs.clone().map(|s| s.exc_frac));
        self.str("init", false, specs.clone().map(|s| Some(s.init.name())));
        self.str(
            "constraint",
            false,
            specs.clone().map(|s| Some(s.constraint.name())),
        );
        self.int("seed", false, specs.map(|s| Some(s.seed as i64)));
    }
    fn finish(self) -> RecordBatch {
        let schema = Arc::new(Schema::new(self.fields));
        RecordBatch::try_new(schema, self.arrays)
            .expect("columns of equal length and declared types")
    }
}

/// The rows of `table` for `records`.
pub fn batch(table: Table, records: &[RunRecord], prov: &Provenance) -> RecordBatch {
    let mut c = Columns::default();
    match table {
        Table::Runs => runs_columns(&mut c, records, prov),
        Table::Spectra => spectra_columns(&mut c, records),
        Table::Eigenvalues => {
            let rows: Vec<_> = records
                .iter()
                .flat_map(|r| {
                    r.spectra.iter().flat_map(move |s| {
                        s.eigenvalues
                            .iter()
                            .enumerate()
                            .map(move |(k, e)| (&r.spec, s, k, e))
                    })
                })
                .collect();
            c.coordinates(rows.iter().map(|r| r.0));
            c.str("stage", false, rows.iter().map(|r| Some(r.1.stage.name())));
            c.int("index", false, rows.iter().map(|r| Some(r.2 as i64)));
            c.float("re", false, rows.iter().map(|r| Some(r.3.re)));
            c.float("im", false, rows.iter().map(|r| Some(r.3.im)));
            c.float("modulus", false, rows.iter().map(|r| Some(r.3.modulus())));
            c.boolean(
                "is_outlier",
                rows.iter().map(|r| r.1.analysis.separation.is_outlier[r.2]),
            );
        }
        Table::History => {
            let rows: Vec<_> = records
                .iter()
                .flat_map(|r| {
                    r.history
                        .iter()
                        .enumerate()
                        .map(move |(k, l)| (&r.spec, k, *l))
                })
                .collect();
            c.coordinates(rows.iter().map(|r| r.0));
            c.int("epoch", false, rows.iter().map(|r| Some(r.1 as i64 + 1)));
            c.float("loss", false, rows.iter().map(|r| Some(r.2)));
        }
        Table::Weights => weights_columns(&mut c, records),
    }
    c.finish()
}

/// One row per run, stage and tensor: the tensor's shape and its values in row-major order,
/// with the number of inhibitory units (the first `n_inh`; null without a constraint).
fn weights_columns(c: &mut Columns, records: &[RunRecord]) {
    let rows: Vec<(&RunSpec, Stage, usize, &Params<f32>)> = records
        .iter()
        .flat_map(|r| {
            r.networks.iter().flat_map(move |(stage, p)| {
                (0..TENSORS.len()).map(move |k| (&r.spec, *stage, k, p))
            })
        })
        .collect();
    c.coordinates(rows.iter().map(|r| r.0));
    c.str("stage", false, rows.iter().map(|r| Some(r.1.name())));
    c.str("tensor", false, rows.iter().map(|r| Some(TENSORS[r.2])));
    c.int(
        "rows",
        false,
        rows.iter().map(|r| Some(tensor_shape(r.0.n, r.2).0 as i64)),
    );
    c.int(
        "cols",
        false,
        rows.iter().map(|r| Some(tensor_shape(r.0.n, r.2).1 as i64)),
    );
    let n_inh = |s: &RunSpec| {
        SignRule::new(s.constraint, s.n, s.exc_frac)
            .partition
            .map(|p| p.n_inh as i64)
    };
    c.int("n_inh", true, rows.iter().map(|r| n_inh(r.0)));
    let mut values = ListBuilder::new(Float32Builder::new()).with_field(Arc::new(Field::new(
        "item",
        DataType::Float32,
        false,
    )));
    for r in &rows {
        values.values().append_slice(r.3.tensor(r.2));
        values.append(true);
    }
    c.push("values", false, Arc::new(values.finish()));
}

fn spectra_columns(c: &mut Columns, records: &[RunRecord]) {
    let rows: Vec<(&RunSpec, &StageSpectrum)> = records
        .iter()
        .flat_map(|r| r.spectra.iter().map(move |s| (&r.spec, s)))
        .collect();
    let a = || rows.iter().map(|r| &r.1.analysis);
    c.coordinates(rows.iter().map(|r| r.0));
    c.str("stage", false, rows.iter().map(|r| Some(r.1.stage.name())));
    c.float(
        "spectral_radius",
        false,
        a().map(|a| Some(a.radii.spectral_radius)),
    );
    c.float("ref_radius_outer", true, a().map(|a| a.radii.outer));
    c.float("ref_radius_inner", false, a().map(|a| Some(a.radii.inner)));
    c.int(
        "n_outliers",
        false,
        a().map(|a| Some(a.n_outliers() as i64)),
    );
    c.float(
        "outlier_re",
        true,
        a().map(|a| a.largest_outlier.map(|e| e.re)),
    );
    c.float(
        "outlier_im",
        true,
        a().map(|a| a.largest_outlier.map(|e| e.im)),
    );
    c.float(
        "radius_outer",
        false,
        a().map(|a| Some(a.separation.bulk.radius_outer)),
    );
    c.float(
        "radius_inner",
        false,
        a().map(|a| Some(a.separation.bulk.radius_inner)),
    );
    c.float("fit_ks", false, a().map(|a| Some(a.separation.bulk.fit_ks)));
    c.str(
        "shape",
        false,
        a().map(|a| Some(a.separation.bulk.shape.name())),
    );
    c.float("henrici", false, a().map(|a| Some(a.henrici)));
    c.float(
        "dominant_frequency_hz",
        true,
        a().map(|a| a.dominant_frequency_hz),
    );
    c.float("svd_entropy", false, a().map(|a| Some(a.svd_entropy)));
    c.float(
        "radius_circular_law",
        false,
        a().map(|a| Some(a.radius_circular_law)),
    );
}

fn runs_columns(c: &mut Columns, records: &[RunRecord], prov: &Provenance) {
    let r = || records.iter();
    c.coordinates(r().map(|r| &r.spec));
    c.str("status", false, r().map(|r| Some(r.status.name())));
    c.str("error", true, r().map(|r| r.error.as_deref()));
    c.str(
        "stop_reason",
        true,
        r().map(|r| r.stop_reason.map(|s| s.name())),
    );
    c.int("epochs", false, r().map(|r| Some(r.epochs as i64)));
    c.int("steps", false, r().map(|r| Some(r.steps as i64)));
    c.float("final_loss", true, r().map(|r| r.final_loss));
    c.float("accuracy", true, r().map(|r| r.accuracy));
    c.float("test_loss", true, r().map(|r| r.test_loss));
    c.float("train_seconds", false, r().map(|r| Some(r.train_seconds)));
    c.str(
        "engine_version",
        false,
        r().map(|_| Some(prov.engine_version.as_str())),
    );
    c.str(
        "sweep_hash",
        false,
        r().map(|_| Some(prov.sweep_hash.as_str())),
    );
}

/// The tables `simulate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimTable {
    /// One row per run, trial, step and unit: the unit's activity `h`.
    Activity,
    /// One row per run, trial and step: the output and the first three principal components.
    Trajectories,
    /// One row per run: accuracy, dimensionality, E/I activity, frequency.
    Dynamics,
}

impl SimTable {
    pub const ALL: [SimTable; 3] = [
        SimTable::Activity,
        SimTable::Trajectories,
        SimTable::Dynamics,
    ];

    /// The folder name.
    pub fn name(self) -> &'static str {
        match self {
            SimTable::Activity => "activity",
            SimTable::Trajectories => "trajectories",
            SimTable::Dynamics => "dynamics",
        }
    }

    /// The table's schema.
    pub fn schema(self) -> SchemaRef {
        sim_batch(self, &[]).schema()
    }
}

/// The rows of a simulation table for `sims`.
pub fn sim_batch(table: SimTable, sims: &[Simulated]) -> RecordBatch {
    let mut c = Columns::default();
    match table {
        SimTable::Activity => {
            let rows: Vec<(&Simulated, usize, usize, usize)> = sims
                .iter()
                .flat_map(|s| {
                    (0..s.trials.len()).flat_map(move |k| {
                        (0..s.activity.steps)
                            .flat_map(move |t| (0..s.activity.n).map(move |j| (s, k, t, j)))
                    })
                })
                .collect();
            step_columns(&mut c, rows.iter().map(|r| (r.0, r.1, r.2)));
            c.int("unit", false, rows.iter().map(|r| Some(r.3 as i64)));
            c.boolean_opt(
                "is_excitatory",
                rows.iter().map(|r| r.0.n_inh.map(|i| r.3 >= i)),
            );
            c.float32(
                "h",
                rows.iter().map(|(s, k, t, j)| {
                    s.activity.states[(k * s.activity.steps + t) * s.activity.n + j]
                }),
            );
        }
        SimTable::Trajectories => {
            let rows: Vec<(&Simulated, usize, usize)> = sims
                .iter()
                .flat_map(|s| {
                    (0..s.trials.len())
                        .flat_map(move |k| (0..s.activity.steps).map(move |t| (s, k, t)))
                })
                .collect();
            step_columns(&mut c, rows.iter().copied());
            c.float32(
                "output",
                rows.iter()
                    .map(|(s, k, t)| s.activity.outputs[k * s.activity.steps + t]),
            );
            for (pc, name) in ["pc1", "pc2", "pc3"].into_iter().enumerate() {
                c.float(
                    name,
                    true,
                    rows.iter().map(|(s, k, t)| {
                        (pc < s.activity.n)
                            .then(|| s.summary.pca.scores[k * s.activity.steps + t][pc])
                    }),
                );
            }
            c.float(
                "explained_variance",
                false,
                rows.iter()
                    .map(|(s, _, _)| Some(s.summary.pca.explained.iter().take(3).sum())),
            );
        }
        SimTable::Dynamics => {
            c.coordinates(sims.iter().map(|s| &s.spec));
            c.int(
                "trials",
                false,
                sims.iter().map(|s| Some(s.trials.len() as i64)),
            );
            c.float(
                "accuracy",
                false,
                sims.iter().map(|s| Some(s.activity.score.accuracy)),
            );
            c.float(
                "test_loss",
                false,
                sims.iter().map(|s| Some(s.activity.score.mse)),
            );
            c.int(
                "n_pc_90",
                false,
                sims.iter().map(|s| Some(s.summary.n_pc_90 as i64)),
            );
            for (pc, name) in ["pc1_variance", "pc2_variance", "pc3_variance"]
                .into_iter()
                .enumerate()
            {
                c.float(
                    name,
                    true,
                    sims.iter()
                        .map(|s| s.summary.pca.explained.get(pc).copied()),
                );
            }
            c.float(
                "mean_exc_stimulus",
                true,
                sims.iter().map(|s| s.summary.mean_exc_stimulus),
            );
            c.float(
                "mean_inh_stimulus",
                true,
                sims.iter().map(|s| s.summary.mean_inh_stimulus),
            );
            c.float(
                "mean_exc_response",
                true,
                sims.iter().map(|s| s.summary.mean_exc_response),
            );
            c.float(
                "mean_inh_response",
                true,
                sims.iter().map(|s| s.summary.mean_inh_response),
            );
            c.float(
                "activity_frequency_hz",
                true,
                sims.iter().map(|s| s.summary.activity_frequency_hz),
            );
        }
    }
    c.finish()
}

/// Coordinates, `trial`, `trial_type` and `t` of per-step rows.
fn step_columns<'a>(
    c: &mut Columns,
    rows: impl Iterator<Item = (&'a Simulated, usize, usize)> + Clone,
) {
    c.coordinates(rows.clone().map(|r| &r.0.spec));
    c.int("trial", false, rows.clone().map(|r| Some(r.1 as i64)));
    c.int(
        "trial_type",
        false,
        rows.clone()
            .map(|r| Some(i64::from(r.0.trials[r.1].kind()))),
    );
    c.int("t", false, rows.map(|r| Some(r.2 as i64)));
}

/// Writes part files into the table folders of one output directory.
pub struct PartWriter {
    root: PathBuf,
    /// Unique to this writer, so concurrent processes never collide on a file name.
    token: String,
    seq: u64,
    props: WriterProperties,
}

impl PartWriter {
    /// A writer into `root`, creating its staging folder; table folders are created at their
    /// first part, so none is ever empty.
    pub fn create(root: &Path, token: String, prov: &Provenance) -> io::Result<PartWriter> {
        fs::create_dir_all(staging_dir(root))?;
        let mut meta = vec![
            KeyValue::new("dalesweep.sweep_toml".into(), prov.sweep_text.clone()),
            KeyValue::new("dalesweep.sweep_hash".into(), prov.sweep_hash.clone()),
            KeyValue::new(
                "dalesweep.engine_version".into(),
                prov.engine_version.clone(),
            ),
        ];
        if let Some(commit) = &prov.git_commit {
            meta.push(KeyValue::new("dalesweep.git_commit".into(), commit.clone()));
        }
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(meta))
            .build();
        Ok(PartWriter {
            root: root.to_path_buf(),
            token,
            seq: 0,
            props,
        })
    }

    /// Writes one part file per table holding `records`.
    pub fn write(&mut self, records: &[RunRecord], prov: &Provenance) -> io::Result<()> {
        let stores_weights = records.iter().any(|r| !r.networks.is_empty());
        let tables = Table::COMMIT_ORDER
            .into_iter()
            .filter(|t| *t != Table::Weights || stores_weights);
        self.write_part(tables.map(|t| (t.name(), batch(t, records, prov))))
    }

    /// Writes one part file per simulation table holding `sims`.
    pub fn write_simulated(&mut self, sims: &[Simulated]) -> io::Result<()> {
        self.write_part(
            SimTable::ALL
                .map(|t| (t.name(), sim_batch(t, sims)))
                .into_iter(),
        )
    }

    /// Writes the next part file of each `(folder, batch)`, in order.
    fn write_part(
        &mut self,
        tables: impl Iterator<Item = (&'static str, RecordBatch)>,
    ) -> io::Result<()> {
        self.seq += 1;
        let name = format!("part-{}-{:06}.parquet", self.token, self.seq);
        for (folder, rows) in tables {
            write_atomically(&self.root, folder, &name, &rows, self.props.clone())?;
        }
        Ok(())
    }
}

/// The folder under an output directory where part files are written before they are renamed
/// into their table folder. Temporary files never sit in a table folder: polars refuses a
/// directory that holds a file of another extension, hidden or not.
pub fn staging_dir(root: &Path) -> PathBuf {
    root.join(".staging")
}

/// Writes `batch` to `root/.staging/`, fsyncs it, renames it to `root/<folder>/name` (creating
/// the folder at its first part) and fsyncs that folder. Renaming onto an existing name
/// replaces the file atomically.
pub(crate) fn write_atomically(
    root: &Path,
    folder: &str,
    name: &str,
    batch: &RecordBatch,
    props: WriterProperties,
) -> io::Result<()> {
    let (staging, dir) = (staging_dir(root), root.join(folder));
    fs::create_dir_all(&staging)?;
    fs::create_dir_all(&dir)?;
    let tmp = staging.join(format!("{folder}-{name}.tmp"));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut writer =
            ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(io::Error::other)?;
        writer.write(batch).map_err(io::Error::other)?;
        let file = writer.into_inner().map_err(io::Error::other)?;
        file.sync_all()?;
        fs::rename(&tmp, dir.join(name))?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_pinned() {
        let describe = |t: Table| -> Vec<String> {
            t.schema()
                .fields()
                .iter()
                .map(|f| {
                    format!(
                        "{}:{}{}",
                        f.name(),
                        f.data_type(),
                        if f.is_nullable() { "?" } else { "" }
                    )
                })
                .collect()
        };
        let coords =
            "run_id:Utf8 task:Utf8 n:Int64 exc_frac:Float64? init:Utf8 constraint:Utf8 seed:Int64";
        let tail = |s: &str| format!("{coords} {s}");
        assert_eq!(
            describe(Table::Runs).join(" "),
            tail("status:Utf8 error:Utf8? stop_reason:Utf8? epochs:Int64 steps:Int64 final_loss:Float64? accuracy:Float64? test_loss:Float64? train_seconds:Float64 engine_version:Utf8 sweep_hash:Utf8")
        );
        assert_eq!(describe(Table::Spectra).join(" "), tail("stage:Utf8 spectral_radius:Float64 ref_radius_outer:Float64? ref_radius_inner:Float64 n_outliers:Int64 outlier_re:Float64? outlier_im:Float64? radius_outer:Float64 radius_inner:Float64 fit_ks:Float64 shape:Utf8 henrici:Float64 dominant_frequency_hz:Float64? svd_entropy:Float64 radius_circular_law:Float64"));
        assert_eq!(
            describe(Table::Eigenvalues).join(" "),
            tail("stage:Utf8 index:Int64 re:Float64 im:Float64 modulus:Float64 is_outlier:Boolean")
        );
        assert_eq!(
            describe(Table::History).join(" "),
            tail("epoch:Int64 loss:Float64")
        );
        assert_eq!(
            describe(Table::Weights).join(" "),
            tail("stage:Utf8 tensor:Utf8 rows:Int64 cols:Int64 n_inh:Int64? values:List(non-null Float32)")
        );
    }
}
