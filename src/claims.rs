//! The paper's claims tested on a sweep's fitted radii: which statistics each claim takes
//! (group means and spreads, least-squares slopes and paired differences with 95 % intervals,
//! from [`crate::stats`]) and the rules that turn them into a verdict. Pure: it takes [`Network`]s (what the tables say of each
//! run) and returns the rows of the report's tables; reading and writing live in
//! [`crate::dataset`] and [`crate::report`].
//!
//! Only runs with status `ok` count; every group is an (init, constraint) pair. The stage a
//! network has "before training" is `projected` for a constrained run and `initial` for an
//! unconstrained one (which is not projected), so every table can show how much of an effect
//! the first projection made and how much training added.
//!
//! Rules, stated once here and in the report:
//! - **independent** of a factor (N or the excitatory fraction): the 95 % interval of the
//!   least-squares slope covers 0 *and* the change the slope predicts across the swept range is
//!   at most [`INDEPENDENCE_TOLERANCE`] of the group's mean radius. The regression has an
//!   intercept per task and both factors at once, so one factor is not read through the other.
//! - **shape**: Dale-constrained networks from the normal initialisation should be disks and
//!   from the orthogonal one rings; the claim holds for a group when at least
//!   [`SHAPE_MAJORITY`] of its networks have the expected `shape`.
//! - **smaller than without the constraint**: each constrained network is paired with the
//!   unconstrained network of the same task, init, N and seed (same initial matrix and data);
//!   the claim holds when the 95 % interval of the mean paired difference lies below 0.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bulk::Shape;
use crate::dale::Constraint;
use crate::init::InitKind;
use crate::record::Stage;
use crate::stats::{least_squares, mean, mean_estimate, std_dev, t_quantile_975, Estimate};

/// A change across the swept range counts as "small" up to this fraction of the mean radius.
pub const INDEPENDENCE_TOLERANCE: f64 = 0.10;
/// The fraction of a group's networks that must have the expected shape.
pub const SHAPE_MAJORITY: f64 = 0.90;

/// The fitted bulk of one stage's spectrum (a `spectra` row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BulkRadii {
    pub outer: f64,
    pub inner: f64,
    pub shape: Shape,
}

/// What the tables say of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub run_id: String,
    pub task: String,
    pub n: usize,
    pub exc_frac: Option<f64>,
    pub init: String,
    pub constraint: String,
    pub seed: u64,
    pub status: String,
    pub accuracy: Option<f64>,
    /// Indexed by [`stage_index`]: initial, projected, trained.
    pub stages: [Option<BulkRadii>; 3],
}

impl Network {
    /// The fit of `stage`, if the run has it.
    pub fn stage(&self, stage: Stage) -> Option<BulkRadii> {
        self.stages[stage_index(stage)]
    }
    pub fn group(&self) -> Group {
        Group {
            init: self.init.clone(),
            constraint: self.constraint.clone(),
        }
    }
    fn constrained(&self) -> bool {
        constrained(&self.constraint)
    }
}

/// Whether a stored `constraint` is a sign constraint (anything but `none`).
fn constrained(constraint: &str) -> bool {
    constraint != Constraint::None.name()
}

/// The position of a stage in [`Network::stages`].
pub fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::Initial => 0,
        Stage::Projected => 1,
        Stage::Trained => 2,
    }
}

/// An (init, constraint) pair: one series in the figures, one row in the tables.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Group {
    pub init: String,
    pub constraint: String,
}

impl Group {
    pub fn label(&self) -> String {
        format!("{} / {}", self.init, self.constraint)
    }
    pub fn constrained(&self) -> bool {
        constrained(&self.constraint)
    }
    /// Whether `n` belongs to this group.
    pub fn holds(&self, n: &Network) -> bool {
        n.init == self.init && n.constraint == self.constraint
    }
    /// The stage its networks have before training: `projected` when constrained, else
    /// `initial` (an unconstrained network is not projected).
    pub fn before_training(&self) -> Stage {
        if self.constrained() {
            Stage::Projected
        } else {
            Stage::Initial
        }
    }
}

/// A claim's outcome on one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails,
    /// Too few networks or a factor the sweep does not vary.
    Untestable,
    /// The paper makes no claim for this group (e.g. the unconstrained baseline's shape).
    NoClaim,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Untestable => "untestable",
            Verdict::NoClaim => "no claim",
        }
    }
    fn of(holds: bool) -> Verdict {
        if holds {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    }
}

/// Mean radii of the trained networks of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct RadiiRow {
    pub group: Group,
    pub networks: usize,
    pub accuracy: Option<f64>,
    pub outer: (f64, f64),
    pub inner: (f64, f64),
}

/// A swept factor the radius may depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Size,
    ExcFrac,
}

impl Factor {
    pub fn name(self) -> &'static str {
        match self {
            Factor::Size => "N",
            Factor::ExcFrac => "exc_frac",
        }
    }
}

/// The outer radius against one factor, for one group and stage.
#[derive(Clone, Debug, PartialEq)]
pub struct SlopeRow {
    pub group: Group,
    pub stage: Stage,
    pub factor: Factor,
    pub networks: usize,
    pub mean_radius: f64,
    /// Smallest and largest value of the factor in the group.
    pub range: (f64, f64),
    /// Radius change per unit of the factor.
    pub slope: Option<Estimate>,
    pub verdict: Verdict,
}

impl SlopeRow {
    /// Why the claim fails, in the rule's words; empty unless it does.
    pub fn failure(&self) -> String {
        let (Some(slope), Some(change)) = (self.slope, self.relative_change()) else {
            return String::new();
        };
        let mut why = Vec::new();
        if !slope.covers_zero() {
            why.push("slope interval excludes 0".to_string());
        }
        if change.abs() > INDEPENDENCE_TOLERANCE {
            why.push(format!(
                "change above {:.0} %",
                100.0 * INDEPENDENCE_TOLERANCE
            ));
        }
        why.join(", ")
    }

    /// The change the slope predicts across the swept range, as a fraction of the mean radius.
    pub fn relative_change(&self) -> Option<f64> {
        self.slope
            .map(|s| s.value * (self.range.1 - self.range.0) / self.mean_radius)
    }
}

/// Disk or ring, for one group and stage.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeRow {
    pub group: Group,
    pub stage: Stage,
    pub networks: usize,
    pub rings: usize,
    pub mean_inner_over_outer: f64,
    pub expected: Option<Shape>,
    pub verdict: Verdict,
}

/// Constrained minus unconstrained outer radius over pairs, for one constrained group.
#[derive(Clone, Debug, PartialEq)]
pub struct DifferenceRow {
    pub group: Group,
    /// The constrained network's stage; its partner's is the matching unconstrained stage.
    pub stage: Stage,
    pub pairs: usize,
    pub constrained: f64,
    pub unconstrained: f64,
    pub difference: Option<Estimate>,
    pub verdict: Verdict,
}

/// Which fitted radius a row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Radius {
    Outer,
    Inner,
}

impl Radius {
    pub fn name(self) -> &'static str {
        match self {
            Radius::Outer => "outer",
            Radius::Inner => "inner",
        }
    }
    pub fn of(self, b: BulkRadii) -> f64 {
        match self {
            Radius::Outer => b.outer,
            Radius::Inner => b.inner,
        }
    }
}

/// How far the projection and then training moved one radius of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct MovementRow {
    pub group: Group,
    pub radius: Radius,
    pub networks: usize,
    pub initial: f64,
    /// `None` for unconstrained groups.
    pub projected: Option<f64>,
    pub trained: f64,
    /// Per network, projected - initial.
    pub by_projection: Option<Estimate>,
    /// Per network, trained - before training.
    pub by_training: Option<Estimate>,
}

/// Every claim table of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    /// Networks used (status `ok`, trained spectrum present).
    pub networks: usize,
    /// Runs left out (failed or diverged).
    pub excluded: usize,
    pub radii: Vec<RadiiRow>,
    pub slopes: Vec<SlopeRow>,
    pub shapes: Vec<ShapeRow>,
    pub differences: Vec<DifferenceRow>,
    pub movement: Vec<MovementRow>,
}

/// The networks every claim and summary figure counts: status `ok`, trained spectrum present.
pub fn usable(networks: &[Network]) -> Vec<&Network> {
    networks
        .iter()
        .filter(|n| n.status == "ok" && n.stage(Stage::Trained).is_some())
        .collect()
}

/// Tests every claim on `networks`.
pub fn assess(networks: &[Network]) -> Claims {
    let ok = usable(networks);
    let mut groups: BTreeMap<Group, Vec<&Network>> = BTreeMap::new();
    for n in &ok {
        groups.entry(n.group()).or_default().push(n);
    }
    let mut claims = Claims {
        networks: ok.len(),
        excluded: networks.len() - ok.len(),
        radii: Vec::new(),
        slopes: Vec::new(),
        shapes: Vec::new(),
        differences: Vec::new(),
        movement: Vec::new(),
    };
    for (group, members) in &groups {
        claims.radii.push(radii(group, members));
        let stages = [group.before_training(), Stage::Trained];
        for stage in stages {
            claims.slopes.extend(slopes(group, members, stage));
            claims.shapes.push(shape(group, members, stage));
        }
        if group.constrained() {
            for stage in stages {
                claims
                    .differences
                    .push(difference(group, members, &ok, stage));
            }
        }
        for radius in [Radius::Outer, Radius::Inner] {
            claims.movement.push(movement(group, members, radius));
        }
    }
    claims
}

fn values(members: &[&Network], stage: Stage, radius: Radius) -> Vec<f64> {
    members
        .iter()
        .filter_map(|n| n.stage(stage).map(|b| radius.of(b)))
        .collect()
}

fn radii(group: &Group, members: &[&Network]) -> RadiiRow {
    let outer = values(members, Stage::Trained, Radius::Outer);
    let inner = values(members, Stage::Trained, Radius::Inner);
    let acc: Vec<f64> = members.iter().filter_map(|n| n.accuracy).collect();
    RadiiRow {
        group: group.clone(),
        networks: members.len(),
        accuracy: (!acc.is_empty()).then(|| mean(&acc)),
        outer: (mean(&outer), std_dev(&outer)),
        inner: (mean(&inner), std_dev(&inner)),
    }
}

/// Both factors' slopes from one regression: outer radius ~ task intercepts + N + exc_frac
/// (a factor enters only if the group varies it; both centred).
fn slopes(group: &Group, members: &[&Network], stage: Stage) -> Vec<SlopeRow> {
    let rows: Vec<(&Network, f64)> = members
        .iter()
        .filter_map(|n| n.stage(stage).map(|b| (*n, b.outer)))
        .collect();
    let y: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let value = |f: Factor, n: &Network| match f {
        Factor::Size => n.n as f64,
        Factor::ExcFrac => n.exc_frac.unwrap_or(f64::NAN),
    };
    let factors: Vec<(Factor, Vec<f64>)> = [Factor::Size, Factor::ExcFrac]
        .into_iter()
        .filter(|f| *f == Factor::Size || group.constrained())
        .map(|f| (f, rows.iter().map(|r| value(f, r.0)).collect()))
        .collect();
    let in_model: Vec<&(Factor, Vec<f64>)> = factors
        .iter()
        .filter(|(_, v)| v.iter().any(|x| *x != v[0]))
        .collect();
    let (design, first_factor) = design_matrix(&rows, &in_model);
    let fit = least_squares(&design, &y);
    factors
        .iter()
        .map(|(factor, v)| {
            let column = in_model.iter().position(|(f, _)| f == factor);
            let slope = column.and_then(|c| {
                let (coef, se, df) = fit.as_ref()?;
                let (k, half) = (first_factor + c, t_quantile_975(*df) * se[first_factor + c]);
                Some(Estimate {
                    value: coef[k],
                    low: coef[k] - half,
                    high: coef[k] + half,
                })
            });
            let range = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                    (lo.min(*x), hi.max(*x))
                });
            let mut row = SlopeRow {
                group: group.clone(),
                stage,
                factor: *factor,
                networks: rows.len(),
                mean_radius: mean(&y),
                range,
                slope,
                verdict: Verdict::Untestable,
            };
            if let (Some(s), Some(change)) = (slope, row.relative_change()) {
                row.verdict =
                    Verdict::of(s.covers_zero() && change.abs() <= INDEPENDENCE_TOLERANCE);
            }
            row
        })
        .collect()
}

/// The regression's rows: 1, an indicator per task after the first, each factor centred; and
/// the column of the first factor.
fn design_matrix(
    rows: &[(&Network, f64)],
    factors: &[&(Factor, Vec<f64>)],
) -> (Vec<Vec<f64>>, usize) {
    let tasks: BTreeSet<&str> = rows.iter().map(|r| r.0.task.as_str()).collect();
    let tasks: Vec<&str> = tasks.into_iter().skip(1).collect();
    let means: Vec<f64> = factors.iter().map(|(_, v)| mean(v)).collect();
    let design = rows
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            let mut row = vec![1.0];
            row.extend(tasks.iter().map(|t| f64::from(u8::from(n.task == *t))));
            row.extend(factors.iter().zip(&means).map(|((_, v), m)| v[i] - m));
            row
        })
        .collect();
    (design, 1 + tasks.len())
}

fn shape(group: &Group, members: &[&Network], stage: Stage) -> ShapeRow {
    let fits: Vec<BulkRadii> = members.iter().filter_map(|n| n.stage(stage)).collect();
    let rings = fits.iter().filter(|b| b.shape == Shape::Ring).count();
    let ratios: Vec<f64> = fits.iter().map(|b| b.inner / b.outer).collect();
    let init = |kind: InitKind| group.init == kind.name();
    let expected = match group.constrained() {
        true if init(InitKind::Normal) => Some(Shape::Disk),
        true if init(InitKind::Orthogonal) => Some(Shape::Ring),
        _ => None,
    };
    let verdict = match expected {
        None => Verdict::NoClaim,
        Some(_) if fits.is_empty() => Verdict::Untestable,
        Some(e) => {
            let matching = fits.iter().filter(|b| b.shape == e).count();
            Verdict::of(matching as f64 >= SHAPE_MAJORITY * fits.len() as f64)
        }
    };
    ShapeRow {
        group: group.clone(),
        stage,
        networks: fits.len(),
        rings,
        mean_inner_over_outer: mean(&ratios),
        expected,
        verdict,
    }
}

type PairKey<'a> = (&'a str, &'a str, usize, u64);

fn pair_key(n: &Network) -> PairKey<'_> {
    (&n.task, &n.init, n.n, n.seed)
}

fn difference(group: &Group, members: &[&Network], ok: &[&Network], stage: Stage) -> DifferenceRow {
    let partner_stage = if stage == Stage::Trained {
        Stage::Trained
    } else {
        Stage::Initial
    };
    let partners: HashMap<PairKey, BulkRadii> = ok
        .iter()
        .filter(|n| !n.constrained())
        .filter_map(|n| n.stage(partner_stage).map(|b| (pair_key(n), b)))
        .collect();
    let pairs: Vec<(f64, f64)> = members
        .iter()
        .filter_map(|n| Some((n.stage(stage)?.outer, partners.get(&pair_key(n))?.outer)))
        .collect();
    let diffs: Vec<f64> = pairs.iter().map(|(c, u)| c - u).collect();
    let difference = mean_estimate(&diffs);
    DifferenceRow {
        group: group.clone(),
        stage,
        pairs: pairs.len(),
        constrained: mean(&pairs.iter().map(|p| p.0).collect::<Vec<_>>()),
        unconstrained: mean(&pairs.iter().map(|p| p.1).collect::<Vec<_>>()),
        difference,
        verdict: difference.map_or(Verdict::Untestable, |d| Verdict::of(d.high < 0.0)),
    }
}

fn movement(group: &Group, members: &[&Network], radius: Radius) -> MovementRow {
    let before = group.before_training();
    let change = |from: Stage, to: Stage| -> Vec<f64> {
        members
            .iter()
            .filter_map(|n| Some(radius.of(n.stage(to)?) - radius.of(n.stage(from)?)))
            .collect()
    };
    let constrained = group.constrained();
    MovementRow {
        group: group.clone(),
        radius,
        networks: members.len(),
        initial: mean(&values(members, Stage::Initial, radius)),
        projected: constrained.then(|| mean(&values(members, Stage::Projected, radius))),
        trained: mean(&values(members, Stage::Trained, radius)),
        by_projection: if constrained {
            mean_estimate(&change(Stage::Initial, Stage::Projected))
        } else {
            None
        },
        by_training: mean_estimate(&change(before, Stage::Trained)),
    }
}
