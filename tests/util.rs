//! Shared helpers: running the binary, scratch folders, reading tables back as rows.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch folder named after the test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `dalesweep` with `args`.
pub fn dalesweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dalesweep"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run dalesweep")
}

/// Runs `dalesweep` and insists on exit code `code`.
pub fn dalesweep_ok(args: &[&str], code: i32) -> Output {
    let out = dalesweep(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "dalesweep {args:?}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes a sweep file into `dir` and returns its path as a string.
pub fn sweep_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// All record batches of a table folder (visible part files only).
pub fn batches(dir: &Path) -> Vec<RecordBatch> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            ParquetRecordBatchReaderBuilder::try_new(File::open(f).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
        })
        .collect()
}

/// A table's rows as text (floats by their exact bits), sorted, without the columns `skip`.
pub fn rows(dir: &Path, skip: &[&str]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for batch in batches(dir) {
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let mut row = Vec::new();
            for (field, col) in schema.fields().iter().zip(batch.columns()) {
                if !skip.contains(&field.name().as_str()) {
                    row.push(format!("{}={}", field.name(), cell(col.as_ref(), i)));
                }
            }
            out.push(row);
        }
    }
    out.sort();
    out
}

fn cell(col: &dyn Array, i: usize) -> String {
    if col.is_null(i) {
        return "null".into();
    }
    if let Some(a) = col.as_any().downcast_ref::<StringArray>() {
        return a.value(i).to_string();
    }
    if let Some(a) = col.as_any().downcast_ref::<Int64Array>() {
        return a.value(i).to_string();
    }
    if let Some(a) = col.as_any().downcast_ref::<Float64Array>() {
        return format!("{:?}", a.value(i));
    }
    if let Some(a) = col.as_any().downcast_ref::<arrow_array::Float32Array>() {
        return format!("{:?}", a.value(i));
    }
    if let Some(a) = col.as_any().downcast_ref::<arrow_array::BooleanArray>() {
        return a.value(i).to_string();
    }
    panic!("unexpected column type {:?}", col.data_type())
}

/// The value of column `name` in a row from [`rows`].
pub fn field<'a>(row: &'a [String], name: &str) -> &'a str {
    let prefix = format!("{name}=");
    row.iter()
        .find_map(|c| c.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The Python with pandas, polars and pyarrow: `$DALESWEEP_PYTHON`, else `.venv/bin/python`.
pub fn python() -> PathBuf {
    let python = std::env::var_os("DALESWEEP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python for the reader tests at {}: run `just venv` (python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt)",
        python.display()
    );
    python
}

/// Starts `dalesweep` with `args` in the background, its stderr discarded.
pub fn spawn_dalesweep(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_dalesweep"))
        .args(args)
        .current_dir(root())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start dalesweep")
}

/// The number of runs `dalesweep plan` lists for a sweep file.
pub fn plan_count(sweep: &str) -> usize {
    let plan = dalesweep_ok(&["plan", sweep], 0);
    let text = String::from_utf8(plan.stdout).unwrap();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("plan starts with a count")
}

/// Runs the test Python with `args` (a script path or `-c` code, then its arguments) and
/// insists that it succeeds.
pub fn python_check<S: AsRef<std::ffi::OsStr>>(args: &[S]) {
    let out = Command::new(python())
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
