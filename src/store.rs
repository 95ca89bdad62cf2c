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

use arrow_array::{Array, BooleanArray, RecordBatch, StringArray};
use arrow_select::filter::filter_record_batch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::grid::Shard;
use crate::sink::{write_atomically, Table};

/// The visible part files of a table folder, sorted by name (none if the folder is missing).
pub fn part_files(root: &Path, table: Table) -> io::Result<Vec<PathBuf>> {
    let dir = root.join(table.name());
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

fn string_column<'a>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> io::Result<&'a StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| io::Error::other(format!("{}: no string column {name}", path.display())))
}

/// `run_id -> status` of every run the `runs` table records.
pub fn recorded_runs(root: &Path) -> io::Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for path in part_files(root, Table::Runs)? {
        let builder = reader(&path)?;
        let mask = ProjectionMask::columns(builder.parquet_schema(), ["run_id", "status"]);
        for batch in builder
            .with_projection(mask)
            .build()
            .map_err(io::Error::other)?
        {
            let batch = batch.map_err(io::Error::other)?;
            let (ids, status) = (
                string_column(&batch, "run_id", &path)?,
                string_column(&batch, "status", &path)?,
            );
            for i in 0..batch.num_rows() {
                out.insert(ids.value(i).to_string(), status.value(i).to_string());
            }
        }
    }
    Ok(out)
}

/// The run ids that have rows in `table`.
pub fn ids_in(root: &Path, table: Table) -> io::Result<HashSet<String>> {
    let mut out = HashSet::new();
    for path in part_files(root, table)? {
        let builder = reader(&path)?;
        let mask = ProjectionMask::columns(builder.parquet_schema(), ["run_id"]);
        for batch in builder
            .with_projection(mask)
            .build()
            .map_err(io::Error::other)?
        {
            let batch = batch.map_err(io::Error::other)?;
            let ids = string_column(&batch, "run_id", &path)?;
            out.extend((0..batch.num_rows()).map(|i| ids.value(i).to_string()));
        }
    }
    Ok(out)
}

/// Removes every row of the runs in `ids` from every table, `runs` last. Returns how many part
/// files were rewritten.
pub fn remove_runs(root: &Path, ids: &HashSet<String>) -> io::Result<usize> {
    let mut rewritten = 0;
    if ids.is_empty() {
        return Ok(0);
    }
    for table in Table::COMMIT_ORDER {
        for path in part_files(root, table)? {
            rewritten += usize::from(remove_from_file(root, table, &path, ids)?);
        }
    }
    Ok(rewritten)
}

/// Rewrites one part file without the rows of `ids`, keeping its footer metadata; returns
/// whether it held any.
fn remove_from_file(
    root: &Path,
    table: Table,
    path: &Path,
    ids: &HashSet<String>,
) -> io::Result<bool> {
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
    let mut removed = false;
    for batch in &batches {
        let run_ids = string_column(batch, "run_id", path)?;
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|i| Some(!ids.contains(run_ids.value(i))))
            .collect();
        removed |= keep.true_count() < batch.num_rows();
        kept.push(filter_record_batch(batch, &keep).map_err(io::Error::other)?);
    }
    if !removed {
        return Ok(false);
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
    write_atomically(root, table, name, &merged, props)?;
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
