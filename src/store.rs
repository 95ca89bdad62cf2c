//! What an output directory already holds, and changing it safely: which runs are recorded
//! (and how), removing the rows of given runs, and the lock that keeps two processes from
//! running the same shard into one directory.
//!
//! The `runs` row of a run is its commit record: the sink writes it last, and rows are removed
//! from the other tables first. Rows are removed by rewriting each affected part file in the
//! staging folder and renaming it onto the same name, which replaces it atomically: a reader sees
//! the file before or after, never half of it and never a run twice.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use arrow_array::{
    Array, BooleanArray, Float32Array, Float64Array, Int64Array, ListArray, RecordBatch,
    StringArray,
};
use arrow_select::filter::filter_record_batch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::grid::Shard;
use crate::model::{Params, TENSORS};
use crate::sink::{write_atomically, Table};

/// The visible part files of a table folder, sorted by name (none if the folder is missing).
pub fn part_files(root: &Path, folder: &str) -> io::Result<Vec<PathBuf>> {
    let dir = root.join(folder);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".parquet") && !name.starts_with('.') {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn reader(path: &Path) -> io::Result<ParquetRecordBatchReaderBuilder<File>> {
    let bad =
        |e: parquet::errors::ParquetError| io::Error::other(format!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(File::open(path)?).map_err(bad)
}

/// One batch of a part file, with typed access to its columns by name.
pub struct BatchColumns<'a> {
    pub batch: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> BatchColumns<'a> {
    fn typed<T: 'static>(&self, name: &str) -> io::Result<&'a T> {
        self.batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<T>())
            .ok_or_else(|| {
                io::Error::other(format!(
                    "{}: column {name} is missing or of another type",
                    self.path.display()
                ))
            })
    }
    pub fn str(&self, name: &str) -> io::Result<&'a StringArray> {
        self.typed(name)
    }
    pub fn int(&self, name: &str) -> io::Result<&'a Int64Array> {
        self.typed(name)
    }
    pub fn float(&self, name: &str) -> io::Result<&'a Float64Array> {
        self.typed(name)
    }
    pub fn boolean(&self, name: &str) -> io::Result<&'a BooleanArray> {
        self.typed(name)
    }
    pub fn list(&self, name: &str) -> io::Result<&'a ListArray> {
        self.typed(name)
    }
}

/// Calls `each` on every batch of one part file, reading only `columns`.
pub fn scan_file(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&BatchColumns) -> io::Result<()>,
) -> io::Result<()> {
    let builder = reader(path)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    for batch in builder
        .with_projection(mask)
        .build()
        .map_err(io::Error::other)?
    {
        let batch = batch.map_err(io::Error::other)?;
        each(&BatchColumns {
            batch: &batch,
            path,
        })?;
    }
    Ok(())
}

/// [`scan_file`] over every part file of a table folder.
pub fn scan(
    root: &Path,
    folder: &str,
    columns: &[&str],
    mut each: impl FnMut(&BatchColumns) -> io::Result<()>,
) -> io::Result<()> {
    for path in part_files(root, folder)? {
        scan_file(&path, columns, &mut each)?;
    }
    Ok(())
}

/// The footer metadata (key -> value) of one part file.
pub fn footer(path: &Path) -> io::Result<HashMap<String, String>> {
    let builder = reader(path)?;
    let kv = builder.metadata().file_metadata().key_value_metadata();
    Ok(kv
        .into_iter()
        .flatten()
        .filter_map(|k| Some((k.key.clone(), k.value.clone()?)))
        .collect())
}

/// `run_id -> status` of every run the `runs` table records.
pub fn recorded_runs(root: &Path) -> io::Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    scan(root, Table::Runs.name(), &["run_id", "status"], |c| {
        let (ids, status) = (c.str("run_id")?, c.str("status")?);
        for i in 0..c.batch.num_rows() {
            out.insert(ids.value(i).to_string(), status.value(i).to_string());
        }
        Ok(())
    })?;
    Ok(out)
}

/// The run ids that have rows in `table`.
pub fn ids_in(root: &Path, table: Table) -> io::Result<HashSet<String>> {
    let mut out = HashSet::new();
    for path in part_files(root, table.name())? {
        out.extend(ids_in_file(&path)?);
    }
    Ok(out)
}

/// The run ids of one part file, reading only that column.
fn ids_in_file(path: &Path) -> io::Result<HashSet<String>> {
    let mut out = HashSet::new();
    scan_file(path, &["run_id"], |c| {
        let ids = c.str("run_id")?;
        out.extend((0..c.batch.num_rows()).map(|i| ids.value(i).to_string()));
        Ok(())
    })?;
    Ok(out)
}

/// Removes every row of the runs in `ids` from every table, `runs` last. Returns how many part
/// files were rewritten.
pub fn remove_runs(root: &Path, ids: &HashSet<String>) -> io::Result<usize> {
    remove_rows(root, &Table::COMMIT_ORDER.map(Table::name), ids)
}

/// Removes every row of the runs in `ids` from the tables in `folders`, in that order. Returns
/// how many part files were rewritten.
pub fn remove_rows(root: &Path, folders: &[&str], ids: &HashSet<String>) -> io::Result<usize> {
    let mut rewritten = 0;
    if ids.is_empty() {
        return Ok(0);
    }
    for folder in folders {
        for path in part_files(root, folder)? {
            rewritten += usize::from(remove_from_file(root, folder, &path, ids)?);
        }
    }
    Ok(rewritten)
}

/// Rewrites one part file without the rows of `ids`, keeping its footer metadata (or deletes it
/// when nothing would be left); returns whether it held any.
fn remove_from_file(
    root: &Path,
    folder: &str,
    path: &Path,
    ids: &HashSet<String>,
) -> io::Result<bool> {
    let held = ids_in_file(path)?;
    if !held.iter().any(|id| ids.contains(id)) {
        return Ok(false);
    }
    if held.iter().all(|id| ids.contains(id)) {
        // Nothing would be left: removing the file is as atomic as replacing it.
        fs::remove_file(path)?;
        return Ok(true);
    }
    let builder = reader(path)?;
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder
        .build()
        .map_err(io::Error::other)?
        .collect::<Result<_, _>>()
        .map_err(io::Error::other)?;
    let mut kept = Vec::new();
    for batch in &batches {
        let run_ids = BatchColumns { batch, path }.str("run_id")?;
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|i| Some(!ids.contains(run_ids.value(i))))
            .collect();
        kept.push(filter_record_batch(batch, &keep).map_err(io::Error::other)?);
    }
    let merged = arrow_select::concat::concat_batches(&schema, &kept).map_err(io::Error::other)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(metadata)
        .build();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 part name");
    write_atomically(root, folder, name, &merged, props)?;
    Ok(true)
}

/// An exclusive lock on one shard of one output directory, held while the value lives.
pub struct ShardLock {
    _file: File,
}

/// Why a shard lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another dalesweep process is running shard {shard} into this directory (lock {path})"
    )]
    Held { shard: Shard, path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Takes the lock of `shard` under `root/.locks/`, or says who holds it. (It keeps two
/// processes off the same shard; a shard of another count overlapping it is not detected.)
pub fn lock_shard(root: &Path, shard: Shard) -> Result<ShardLock, LockError> {
    let dir = root.join(".locks");
    let path = dir.join(format!("shard-{}.lock", shard.label()));
    let io_err = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(&dir).map_err(io_err)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err)?;
    match file.try_lock() {
        Ok(()) => Ok(ShardLock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => Err(LockError::Held { shard, path }),
        Err(fs::TryLockError::Error(e)) => Err(io_err(e)),
    }
}

/// A trained network from the `weights` table, with the sweep file that produced it.
pub struct StoredNetwork {
    pub params: Params<f32>,
    /// The `dalesweep.sweep_toml` footer of the part file that holds it.
    pub sweep_text: String,
}

/// Tensors of one stored network as they are read: units, footer sweep file, tensors so far.
type Partial = (usize, String, Vec<Option<Vec<f32>>>);

/// The runs with a trained network in the `weights` table (reading only two columns).
pub fn stored_ids(root: &Path) -> io::Result<HashSet<String>> {
    let mut out = HashSet::new();
    scan(root, Table::Weights.name(), &["run_id", "stage"], |c| {
        let (ids, stages) = (c.str("run_id")?, c.str("stage")?);
        let trained = (0..c.batch.num_rows()).filter(|&i| stages.value(i) == "trained");
        out.extend(trained.map(|i| ids.value(i).to_string()));
        Ok(())
    })?;
    Ok(out)
}

/// The trained networks of the runs in `ids` stored under `root`, by run id (a run without
/// stored weights is absent).
pub fn stored_networks(
    root: &Path,
    ids: &HashSet<String>,
) -> io::Result<HashMap<String, StoredNetwork>> {
    let mut parts: HashMap<String, Partial> = HashMap::new();
    for path in part_files(root, Table::Weights.name())? {
        let sweep_text = footer(&path)?
            .remove("dalesweep.sweep_toml")
            .ok_or_else(|| {
                io::Error::other(format!("{}: no sweep file in the footer", path.display()))
            })?;
        let columns = ["run_id", "stage", "tensor", "n", "values"];
        scan_file(&path, &columns, |c| {
            let (ids_col, stages, tensors) = (c.str("run_id")?, c.str("stage")?, c.str("tensor")?);
            let (n, values) = (c.int("n")?, c.list("values")?);
            let wanted = |i: usize| stages.value(i) == "trained" && ids.contains(ids_col.value(i));
            for i in (0..c.batch.num_rows()).filter(|&i| wanted(i)) {
                let k = TENSORS
                    .iter()
                    .position(|t| *t == tensors.value(i))
                    .ok_or_else(|| {
                        io::Error::other(format!("unknown tensor {}", tensors.value(i)))
                    })?;
                let list = values.value(i);
                let floats = list
                    .as_any()
                    .downcast_ref::<Float32Array>()
                    .ok_or_else(|| io::Error::other("weights values are not float32"))?;
                let entry = parts
                    .entry(ids_col.value(i).to_string())
                    .or_insert_with(|| {
                        (
                            n.value(i) as usize,
                            sweep_text.clone(),
                            vec![None; TENSORS.len()],
                        )
                    });
                entry.2[k] = Some(floats.values().to_vec());
            }
            Ok(())
        })?;
    }
    let mut out = HashMap::new();
    for (id, (n, sweep_text, tensors)) in parts {
        let data: Option<Vec<f32>> = tensors
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|t| t.concat());
        let params = data
            .and_then(|d| Params::from_vec(n, d))
            .ok_or_else(|| io::Error::other(format!("run {id}: stored tensors are incomplete")))?;
        out.insert(id, StoredNetwork { params, sweep_text });
    }
    Ok(out)
}
