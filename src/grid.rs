//! A checked [`Sweep`] expanded into [`RunSpec`]s, in a documented order, each with a stable
//! [`RunId`] and its own random streams.
//!
//! **Order** (outermost first): `task`, `constraint`, `init`, `n`, `exc_frac`, `seed`, each axis
//! in the order the sweep file lists it. For `constraint = "none"` the `exc_frac` axis collapses
//! to one run whose `exc_frac` is null.
//!
//! **Run id**: the first 8 bytes (16 hex digits) of SHA-256 over a canonical text of everything
//! that determines the run's numbers: [`NUMERICS_VERSION`], the master seed, the run's
//! coordinates, every `[train]` and `[analysis]` setting. Floats are written in Rust's shortest
//! round-trip form.
//!
//! **Random streams**: each stream is a ChaCha8 generator seeded with SHA-256 of the stream's
//! name, the master seed and only the coordinates that stream depends on: the initial weights
//! on (`n`, `init`, `seed`), the training trials, their shuffling and the held-out test trials
//! on (`task`, `seed`). So `dale`, `dale_incoming` and `none` runs, and every `exc_frac`, start
//! from the same initial matrix and see the same trials: comparisons across the constraint
//! axis are paired. No stream depends on which other runs exist, their order or the thread.

use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::config::{hex, Sweep};
use crate::dale::Constraint;
use crate::init::InitKind;
use crate::task::Task;

/// Bumped whenever a change to the engine changes the numbers a run produces, so that results
/// of an older engine are never mistaken for a run of this one.
pub const NUMERICS_VERSION: u32 = 1;

/// A run's stable identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub [u8; 8]);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunId({self})")
    }
}

impl RunId {
    /// The id as a number, for shard assignment.
    pub fn as_u64(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }
}

/// A disjoint part of a sweep for one process: the runs whose id, read as a big-endian
/// integer, is `index` modulo `count`. Assignment by id, not position, so a shard's runs stay
/// the same when the sweep file gains or loses runs. `0/1` is the whole sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N` with `0 <= K < N` (K as in `SLURM_ARRAY_TASK_ID` of `--array=0-(N-1)`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let err = || format!("--shard {text:?} must be K/N with integers 0 <= K < N, e.g. 0/4");
        let (k, n) = text.split_once('/').ok_or_else(err)?;
        let (index, count) = (
            k.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }

    /// Whether the run with this id belongs to the shard.
    pub fn contains(&self, id: RunId) -> bool {
        id.as_u64() % self.count == self.index
    }

    /// The shard of `count` that holds `id`.
    pub fn of(id: RunId, count: u64) -> Shard {
        Shard {
            index: id.as_u64() % count,
            count,
        }
    }

    /// A name for files: `0-of-4`.
    pub fn label(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for RunId {
    type Err = String;
    fn from_str(text: &str) -> Result<RunId, String> {
        let bytes =
            u64::from_str_radix(text, 16).map_err(|_| format!("{text:?} is not a run id"))?;
        if text.len() != 16 {
            return Err(format!("{text:?} is not a run id"));
        }
        Ok(RunId(bytes.to_be_bytes()))
    }
}

/// One network of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub id: RunId,
    pub task: Task,
    pub constraint: Constraint,
    pub init: InitKind,
    pub n: usize,
    /// `None` for the unconstrained baseline.
    pub exc_frac: Option<f64>,
    pub seed: u64,
}

/// The independent random streams of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Init,
    TrainTrials,
    Shuffle,
    TestTrials,
}

impl RunSpec {
    /// The generator of one of the run's streams.
    pub fn rng(&self, master_seed: u64, stream: Stream) -> ChaCha8Rng {
        let key = match stream {
            Stream::Init => format!(
                "init;n={};init={};seed={}",
                self.n,
                self.init.name(),
                self.seed
            ),
            Stream::TrainTrials => {
                format!("train_trials;task={};seed={}", self.task.name(), self.seed)
            }
            Stream::Shuffle => format!("shuffle;task={};seed={}", self.task.name(), self.seed),
            Stream::TestTrials => {
                format!("test_trials;task={};seed={}", self.task.name(), self.seed)
            }
        };
        let digest = Sha256::digest(format!(
            "dalesweep/stream/v1;master_seed={master_seed};{key}"
        ));
        ChaCha8Rng::from_seed(digest.into())
    }

    /// `exc_frac` as text: the number, or `none`.
    pub fn exc_frac_text(&self) -> String {
        self.exc_frac.map_or("none".into(), |f| format!("{f:?}"))
    }
}

/// The canonical text hashed into run ids: settings shared by every run of a sweep.
fn settings_text(sweep: &Sweep) -> String {
    let t = &sweep.train;
    format!(
        "dalesweep/run/v{NUMERICS_VERSION};master_seed={};epochs={};trials={};test_trials={};batch={};lr={:?};beta1={:?};beta2={:?};epsilon={:?};decay={:?};clipnorm={:?};early_stop_loss={:?};normal_gain={:?};mask_threshold={:?}",
        sweep.master_seed, t.epochs, t.trials, t.test_trials, t.batch, t.lr, t.beta1, t.beta2, t.epsilon, t.decay, t.clipnorm, t.early_stop_loss, t.normal_gain, sweep.analysis.mask_threshold
    )
}

fn run_id(
    settings: &str,
    task: Task,
    constraint: Constraint,
    init: InitKind,
    n: usize,
    exc_frac: Option<f64>,
    seed: u64,
) -> RunId {
    let exc = exc_frac.map_or("none".into(), |f| format!("{f:?}"));
    let text = format!(
        "{settings};task={};constraint={};init={};n={n};exc_frac={exc};seed={seed}",
        task.name(),
        constraint.name(),
        init.name()
    );
    let digest = Sha256::digest(text);
    RunId(digest[..8].try_into().expect("8 bytes"))
}

/// Every run of the sweep, in the documented order.
pub fn expand(sweep: &Sweep) -> Vec<RunSpec> {
    let g = &sweep.grid;
    let settings = settings_text(sweep);
    let mut runs = Vec::new();
    for &task in &g.task {
        for &constraint in &g.constraint {
            let fractions: Vec<Option<f64>> = if constraint.is_constrained() {
                g.exc_frac.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            for &init in &g.init {
                for &n in &g.n {
                    for &exc_frac in &fractions {
                        for &seed in &g.seed {
                            let id = run_id(&settings, task, constraint, init, n, exc_frac, seed);
                            runs.push(RunSpec {
                                id,
                                task,
                                constraint,
                                init,
                                n,
                                exc_frac,
                                seed,
                            });
                        }
                    }
                }
            }
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, SweepSource};
    use rand::RngCore;

    fn sweep(text: &str) -> Sweep {
        parse(&SweepSource {
            origin: "t.toml".into(),
            text: text.into(),
        })
        .unwrap()
    }

    const TEXT: &str = "[sweep]\nname = \"t\"\nseed = 7\n[grid]\ntask = [\"xor\", \"and\"]\nconstraint = [\"none\", \"dale\"]\ninit = [\"normal\"]\nn = [8, 4]\nexc_frac = [0.5, 0.75]\nseed = [3]\n";

    #[test]
    fn expansion_order_and_collapse_are_pinned() {
        let runs = expand(&sweep(TEXT));
        let got: Vec<String> = runs
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {} {} {}",
                    r.id,
                    r.task.name(),
                    r.constraint.name(),
                    r.init.name(),
                    r.n,
                    r.exc_frac_text(),
                    r.seed
                )
            })
            .collect();
        let want = [
            "b289540de67bf24c xor none normal 8 none 3",
            "df8bae53d97f3179 xor none normal 4 none 3",
            "30b2057af3a438e7 xor dale normal 8 0.5 3",
            "a328409deb5757ec xor dale normal 8 0.75 3",
            "9e08c419430e6e54 xor dale normal 4 0.5 3",
            "e799d9b76091c8a7 xor dale normal 4 0.75 3",
            "5085ec3dfbf164c5 and none normal 8 none 3",
            "3494cf607d54d79b and none normal 4 none 3",
            "207d45a948cd47c6 and dale normal 8 0.5 3",
            "b7d4412a56436eb9 and dale normal 8 0.75 3",
            "c48f2bf9468aab37 and dale normal 4 0.5 3",
            "bed931ddc00dd5e2 and dale normal 4 0.75 3",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn shards_split_by_id_and_parse_strictly() {
        let runs = expand(&sweep(TEXT));
        let shards: Vec<Shard> = (0..3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        for r in &runs {
            assert_eq!(shards.iter().filter(|s| s.contains(r.id)).count(), 1);
            assert_eq!(Shard::of(r.id, 3), shards[(r.id.as_u64() % 3) as usize]);
            assert_eq!(r.id.to_string().parse::<RunId>().unwrap(), r.id);
        }
        // b289540de67bf24c = 12864906229238723148 = 0 (mod 4).
        assert!(Shard::parse("0/4").unwrap().contains(runs[0].id));
        for bad in ["3/3", "1/0", "a/2", "2", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            (Shard::ALL.to_string(), Shard::parse("2/5").unwrap().label()),
            ("0/1".into(), "2-of-5".into())
        );
    }

    #[test]
    fn canonical_text_is_pinned() {
        // The first id above is SHA-256 of this text plus ";task=xor;constraint=none;init=normal;n=8;exc_frac=none;seed=3".
        let want = "dalesweep/run/v1;master_seed=7;epochs=20;trials=15000;test_trials=1000;batch=64;lr=0.0001;beta1=0.9;beta2=0.999;epsilon=1e-8;decay=0.0001;clipnorm=0.5;early_stop_loss=9e-5;normal_gain=1.0;mask_threshold=0.0001";
        assert_eq!(settings_text(&sweep(TEXT)), want);
    }

    #[test]
    fn run_ids_follow_settings_but_streams_follow_coordinates() {
        let a = expand(&sweep(TEXT));
        let b = expand(&sweep(&format!("{TEXT}[train]\nlr = 0.001\n")));
        assert!(a.iter().zip(&b).all(|(x, y)| x.id != y.id));
        let (none, dale) = (&a[0], &a[2]);
        assert_eq!(
            none.rng(7, Stream::Init).next_u64(),
            dale.rng(7, Stream::Init).next_u64()
        );
        assert_ne!(
            none.rng(7, Stream::Init).next_u64(),
            none.rng(8, Stream::Init).next_u64()
        );
        assert_ne!(
            none.rng(7, Stream::TrainTrials).next_u64(),
            none.rng(7, Stream::TestTrials).next_u64()
        );
    }
}
