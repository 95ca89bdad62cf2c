//! Sweep files: TOML parsed into raw types that keep every value's position, then checked into
//! a [`Sweep`] that cannot exist unless every value is allowed. Every error names the file,
//! line and column, the key path, the value and what is allowed.

use std::fmt::Display;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::dale::Constraint;
use crate::init::InitKind;
use crate::spectrum::AnalysisSettings;
use crate::task::Task;
use crate::train::TrainSettings;

/// The embedded default sweep (`sweeps/default.toml`).
pub const DEFAULT_SWEEP: &str = include_str!("../sweeps/default.toml");

/// A sweep file's text and where it came from.
#[derive(Clone, Debug)]
pub struct SweepSource {
    /// Path as given, or `<default>` for the embedded sweep.
    pub origin: String,
    pub text: String,
}

impl SweepSource {
    /// Reads a sweep file.
    pub fn read(path: &Path) -> Result<SweepSource, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{origin}: cannot read the sweep file: {e}")))?;
        Ok(SweepSource { origin, text })
    }

    /// The embedded default sweep.
    pub fn default_sweep() -> SweepSource {
        SweepSource {
            origin: "<default>".into(),
            text: DEFAULT_SWEEP.into(),
        }
    }

    /// SHA-256 of the file's bytes, in hex.
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.text.as_bytes()))
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A rejected sweep file; the message says where, what and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A checked sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub name: String,
    pub master_seed: u64,
    pub grid: Grid,
    pub train: TrainSettings,
    pub analysis: AnalysisSettings,
    pub output: OutputSettings,
    /// Only [`parse`] makes one: a `Sweep` has passed every check.
    #[allow(dead_code)]
    checked: Checked,
}

#[derive(Clone, Debug)]
struct Checked;

/// The checked grid axes, in the order the file gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub task: Vec<Task>,
    pub constraint: Vec<Constraint>,
    pub init: Vec<InitKind>,
    pub n: Vec<usize>,
    /// Empty when every constraint is `none`.
    pub exc_frac: Vec<f64>,
    pub seed: Vec<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    sweep: RawMeta,
    grid: RawGrid,
    #[serde(default)]
    train: RawTrain,
    #[serde(default)]
    analysis: RawAnalysis,
    #[serde(default)]
    output: RawOutput,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    weights: Option<bool>,
}

/// The `[output]` settings: what is stored besides the four tables. They change no run's
/// numbers, so they are not part of run ids.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputSettings {
    /// Store every network's initial and trained parameters in a `weights` table.
    pub weights: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: Spanned<String>,
    seed: Option<Spanned<i64>>,
}

type List<T> = Spanned<Vec<Spanned<T>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    task: List<String>,
    constraint: List<String>,
    init: List<String>,
    n: List<i64>,
    exc_frac: Option<List<f64>>,
    seed: Spanned<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTrain {
    epochs: Option<Spanned<i64>>,
    trials: Option<Spanned<i64>>,
    test_trials: Option<Spanned<i64>>,
    batch: Option<Spanned<i64>>,
    lr: Option<Spanned<f64>>,
    beta1: Option<Spanned<f64>>,
    beta2: Option<Spanned<f64>>,
    epsilon: Option<Spanned<f64>>,
    decay: Option<Spanned<f64>>,
    clipnorm: Option<Spanned<f64>>,
    early_stop_loss: Option<Spanned<f64>>,
    normal_gain: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAnalysis {
    mask_threshold: Option<Spanned<f64>>,
}

/// Largest network the grid accepts.
pub const MAX_UNITS: i64 = 20_000;

/// Parses and checks a sweep file.
pub fn parse(src: &SweepSource) -> Result<Sweep, ConfigError> {
    let at = Locator { src };
    let raw: RawFile = toml::from_str(&src.text).map_err(|e| at.toml_error(&e))?;
    let train = check_train(&at, &raw.train)?;
    let analysis = AnalysisSettings {
        mask_threshold: float(
            &at,
            "analysis.mask_threshold",
            raw.analysis.mask_threshold.as_ref(),
            1e-4,
            |x| x >= 0.0,
            "must be >= 0 (0 turns masking off)",
        )?,
    };
    let grid = check_grid(&at, &raw.grid)?;
    let name = raw.sweep.name.get_ref().trim().to_string();
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(at.bad(
            raw.sweep.name.span(),
            "sweep.name",
            format!("{:?}", name),
            "must be a non-empty name without slashes",
        ));
    }
    let master_seed = match &raw.sweep.seed {
        None => 0,
        Some(s) if *s.get_ref() >= 0 => *s.get_ref() as u64,
        Some(s) => {
            return Err(at.bad(
                s.span(),
                "sweep.seed",
                s.get_ref(),
                "must be a non-negative integer",
            ))
        }
    };
    Ok(Sweep {
        name,
        master_seed,
        grid,
        train,
        analysis,
        output: OutputSettings {
            weights: raw.output.weights.unwrap_or(false),
        },
        checked: Checked,
    })
}

struct Locator<'a> {
    src: &'a SweepSource,
}

impl Locator<'_> {
    /// 1-based line and column of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.src.text[..offset.min(self.src.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    fn bad(
        &self,
        span: Range<usize>,
        key: &str,
        value: impl Display,
        allowed: &str,
    ) -> ConfigError {
        let (line, col) = self.line_col(span.start);
        ConfigError(format!(
            "{}:{line}:{col}: {key} = {value} {allowed}",
            self.src.origin
        ))
    }

    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let Some(span) = e.span() else {
            return ConfigError(format!("{}: {}", self.src.origin, e.message()));
        };
        let (line, col) = self.line_col(span.start);
        let key = self
            .key_path_at(span.start)
            .map(|k| format!("{k}: "))
            .unwrap_or_default();
        ConfigError(format!(
            "{}:{line}:{col}: {key}{}\n{e}",
            self.src.origin,
            e.message().trim_end()
        ))
    }

    /// The dotted key of the `key = value` line holding `offset`, under its `[table]` header.
    fn key_path_at(&self, offset: usize) -> Option<String> {
        let text = &self.src.text[..offset.min(self.src.text.len())];
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.src.text[line_start..]
            .find('\n')
            .map_or(self.src.text.len(), |i| line_start + i);
        let line = self.src.text[line_start..line_end].trim();
        let table = text[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['));
        let table = table.map(|t| t.trim_matches(|c| c == '[' || c == ']').trim());
        let key = line
            .split('=')
            .next()
            .map(str::trim)
            .filter(|k| !k.is_empty() && !line.starts_with('['));
        match (table, key) {
            (Some(t), Some(k)) => Some(format!("{t}.{k}")),
            (None, Some(k)) => Some(k.to_string()),
            (Some(t), None) => Some(t.to_string()),
            (None, None) => None,
        }
    }
}

fn float(
    at: &Locator,
    key: &str,
    v: Option<&Spanned<f64>>,
    default: f64,
    ok: impl Fn(f64) -> bool,
    allowed: &str,
) -> Result<f64, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) if s.get_ref().is_finite() && ok(*s.get_ref()) => Ok(*s.get_ref()),
        Some(s) => Err(at.bad(s.span(), key, s.get_ref(), allowed)),
    }
}

fn int(
    at: &Locator,
    key: &str,
    v: Option<&Spanned<i64>>,
    default: usize,
    min: i64,
    max: i64,
) -> Result<usize, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) if (min..=max).contains(s.get_ref()) => Ok(*s.get_ref() as usize),
        Some(s) => Err(at.bad(
            s.span(),
            key,
            s.get_ref(),
            &format!("must be an integer in [{min}, {max}]"),
        )),
    }
}

fn check_train(at: &Locator, t: &RawTrain) -> Result<TrainSettings, ConfigError> {
    let d = TrainSettings::default();
    let unit = |x: f64| (0.0..1.0).contains(&x);
    Ok(TrainSettings {
        epochs: int(
            at,
            "train.epochs",
            t.epochs.as_ref(),
            d.epochs,
            0,
            1_000_000,
        )?,
        trials: int(
            at,
            "train.trials",
            t.trials.as_ref(),
            d.trials,
            1,
            100_000_000,
        )?,
        test_trials: int(
            at,
            "train.test_trials",
            t.test_trials.as_ref(),
            d.test_trials,
            1,
            100_000_000,
        )?,
        batch: int(at, "train.batch", t.batch.as_ref(), d.batch, 1, 1_000_000)?,
        lr: float(
            at,
            "train.lr",
            t.lr.as_ref(),
            d.lr,
            |x| x > 0.0,
            "must be > 0",
        )?,
        beta1: float(
            at,
            "train.beta1",
            t.beta1.as_ref(),
            d.beta1,
            unit,
            "must be in [0, 1)",
        )?,
        beta2: float(
            at,
            "train.beta2",
            t.beta2.as_ref(),
            d.beta2,
            unit,
            "must be in [0, 1)",
        )?,
        epsilon: float(
            at,
            "train.epsilon",
            t.epsilon.as_ref(),
            d.epsilon,
            |x| x > 0.0,
            "must be > 0",
        )?,
        decay: float(
            at,
            "train.decay",
            t.decay.as_ref(),
            d.decay,
            |x| x >= 0.0,
            "must be >= 0",
        )?,
        clipnorm: float(
            at,
            "train.clipnorm",
            t.clipnorm.as_ref(),
            d.clipnorm,
            |x| x >= 0.0,
            "must be >= 0 (0 turns clipping off)",
        )?,
        early_stop_loss: float(
            at,
            "train.early_stop_loss",
            t.early_stop_loss.as_ref(),
            d.early_stop_loss,
            |x| x >= 0.0,
            "must be >= 0 (0 turns early stopping off)",
        )?,
        normal_gain: float(
            at,
            "train.normal_gain",
            t.normal_gain.as_ref(),
            d.normal_gain,
            |x| x > 0.0,
            "must be > 0",
        )?,
    })
}

/// Checks one list axis: non-empty, each element mapped by `check`, no repeats.
fn axis<T: PartialEq, R: Display>(
    at: &Locator,
    key: &str,
    list: &List<R>,
    check: impl Fn(&R) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    if list.get_ref().is_empty() {
        return Err(at.bad(list.span(), key, "[]", "must list at least one value"));
    }
    let mut out = Vec::new();
    for (k, item) in list.get_ref().iter().enumerate() {
        let key = format!("{key}[{k}]");
        let value = check(item.get_ref())
            .map_err(|allowed| at.bad(item.span(), &key, quoted(item.get_ref()), &allowed))?;
        if out.contains(&value) {
            return Err(at.bad(
                item.span(),
                &key,
                quoted(item.get_ref()),
                "repeats an earlier value: list each value once",
            ));
        }
        out.push(value);
    }
    Ok(out)
}

fn quoted(v: &impl Display) -> String {
    let s = v.to_string();
    if s.parse::<f64>().is_ok() {
        s
    } else {
        format!("{s:?}")
    }
}

fn named<'a, T: 'a>(
    from: fn(&str) -> Option<T>,
    names: &'a [&'a str],
) -> impl Fn(&String) -> Result<T, String> + 'a {
    move |s| {
        from(s).ok_or_else(|| {
            format!(
                "is not allowed: use one of {}",
                names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

fn check_grid(at: &Locator, g: &RawGrid) -> Result<Grid, ConfigError> {
    let task_names: Vec<&str> = Task::ALL.iter().map(|t| t.name()).collect();
    let constraint_names: Vec<&str> = Constraint::ALL.iter().map(|c| c.name()).collect();
    let init_names: Vec<&str> = InitKind::ALL.iter().map(|k| k.name()).collect();
    let task = axis(
        at,
        "grid.task",
        &g.task,
        named(Task::from_name, &task_names),
    )?;
    let constraint = axis(
        at,
        "grid.constraint",
        &g.constraint,
        named(Constraint::from_name, &constraint_names),
    )?;
    let init = axis(
        at,
        "grid.init",
        &g.init,
        named(InitKind::from_name, &init_names),
    )?;
    let n = axis(at, "grid.n", &g.n, |&v| {
        if (2..=MAX_UNITS).contains(&v) {
            Ok(v as usize)
        } else {
            Err(format!("must be a number of units in [2, {MAX_UNITS}]"))
        }
    })?;
    let needs_partition = constraint.iter().any(|c| c.is_constrained());
    let exc_frac = match (&g.exc_frac, needs_partition) {
        (Some(list), _) => axis(at, "grid.exc_frac", list, |&v| {
            if v > 0.0 && v < 1.0 {
                Ok(v)
            } else {
                Err("is out of range: the fraction of excitatory units must be in (0, 1), exclusive".into())
            }
        })?,
        (None, true) => {
            return Err(ConfigError(format!(
                "{}: grid.exc_frac is missing: a constrained run (\"dale\" or \"dale_incoming\") needs the fraction of excitatory units, e.g. exc_frac = [0.8]",
                at.src.origin
            )))
        }
        (None, false) => Vec::new(),
    };
    let seed = check_seeds(at, &g.seed)?;
    Ok(Grid {
        task,
        constraint,
        init,
        n,
        exc_frac,
        seed,
    })
}

/// `seed = k` means seeds 0..k-1; `seed = [..]` lists them.
fn check_seeds(at: &Locator, s: &Spanned<toml::Value>) -> Result<Vec<u64>, ConfigError> {
    let allowed = "must be a count k >= 1 (seeds 0..k-1) or a non-empty list of distinct non-negative integers";
    let bad = || at.bad(s.span(), "grid.seed", s.get_ref(), allowed);
    match s.get_ref() {
        toml::Value::Integer(k) if (1..=1_000_000).contains(k) => Ok((0..*k as u64).collect()),
        toml::Value::Array(items) if !items.is_empty() => {
            let mut out = Vec::new();
            for item in items {
                match item.as_integer() {
                    Some(v) if v >= 0 && !out.contains(&(v as u64)) => out.push(v as u64),
                    _ => return Err(bad()),
                }
            }
            Ok(out)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Sweep, ConfigError> {
        parse(&SweepSource {
            origin: "s.toml".into(),
            text: text.into(),
        })
    }

    const GOOD: &str = "[sweep]\nname = \"t\"\nseed = 3\n\n[grid]\ntask = [\"and\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"normal\"]\nn = [10, 20]\nexc_frac = [0.8]\nseed = 2\n";

    #[test]
    fn good_file_gets_reference_defaults() {
        let s = parse_text(GOOD).unwrap();
        assert_eq!(s.train, TrainSettings::default());
        assert_eq!(s.analysis.mask_threshold, 1e-4);
        assert_eq!(s.grid.seed, vec![0, 1]);
        assert_eq!(s.master_seed, 3);
    }

    #[test]
    fn errors_name_file_line_column_key_value_and_fix() {
        let cases = [
            (GOOD.replace("exc_frac = [0.8]", "exc_frac = [0.8, 1.3]"), "s.toml:10:18: grid.exc_frac[1] = 1.3 is out of range"),
            (GOOD.replace("n = [10, 20]", "n = [1]"), "s.toml:9:6: grid.n[0] = 1 must be a number of units in [2, 20000]"),
            (GOOD.replace("init = [\"normal\"]", "init = []"), "s.toml:8:8: grid.init = [] must list at least one value"),
            (GOOD.replace("task = [\"and\"]", "task = [\"nand\"]"), "s.toml:6:9: grid.task[0] = \"nand\" is not allowed: use one of \"and\", \"or\", \"xor\", \"flipflop\""),
            (format!("{GOOD}\n[train]\nepochs = \"ten\"\n"), "s.toml:14:10: train.epochs: invalid type: string \"ten\", expected i64"),
            (format!("{GOOD}\n[train]\nlearning_rate = 0.1\n"), "s.toml:14:1: train.learning_rate: unknown field `learning_rate`, expected one of"),
            (format!("{GOOD}\n[train]\nlr = -1.0\n"), "s.toml:14:6: train.lr = -1 must be > 0"),
            (GOOD.replace("seed = 2", "seed = 0"), "s.toml:11:8: grid.seed = 0 must be a count"),
            (GOOD.replace("exc_frac = [0.8]\n", ""), "s.toml: grid.exc_frac is missing"),
        ];
        for (text, want) in cases {
            let err = parse_text(&text).unwrap_err().to_string();
            assert!(err.starts_with(want), "got:\n{err}\nwant prefix:\n{want}");
        }
    }

    #[test]
    fn exc_frac_is_optional_for_baseline_only_sweeps() {
        let text = GOOD
            .replace("[\"dale\", \"none\"]", "[\"none\"]")
            .replace("exc_frac = [0.8]\n", "");
        assert!(parse_text(&text).unwrap().grid.exc_frac.is_empty());
    }

    #[test]
    fn shipped_sweeps_parse() {
        for path in [
            "sweeps/default.toml",
            "sweeps/reference.toml",
            "sweeps/learns.toml",
            "sweeps/paper.toml",
        ] {
            let src =
                SweepSource::read(Path::new(&format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))))
                    .unwrap();
            parse(&src).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
}
