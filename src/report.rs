//! `report.md`: the figures and one table per claim of the paper, computed from a sweep's
//! Parquet tables by [`crate::claims`], with the rules that decide each verdict written next
//! to the numbers. The report is a folder: `DIR/report.md` links `DIR/figures/*` and the
//! plotted values are in `DIR/data/*.csv`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::bulk::Shape;
use crate::claims::{assess, Claims, Group, Verdict, INDEPENDENCE_TOLERANCE, SHAPE_MAJORITY};
use crate::dataset;
use crate::plot::{draw, load, replace_file, Figure, Format, PlotError, Plotted, Selection};
use crate::stats::Estimate;

/// Writes `root/report.md` (and its figures); returns the report's path.
pub fn report(root: &Path, format: Format) -> Result<PathBuf, PlotError> {
    let networks = load(root)?;
    let plotted = draw(root, &networks, &Selection::Examples, format)?;
    let claims = assess(&networks);
    let provenance = dataset::provenance(root)?;
    let text = render(root, &claims, &plotted, &provenance);
    let path = root.join("report.md");
    replace_file(&path, &text)?;
    Ok(path)
}

/// The whole report as Markdown.
pub fn render(
    root: &Path,
    claims: &Claims,
    plotted: &Plotted,
    provenance: &BTreeSet<String>,
) -> String {
    let name = root.file_name().map_or_else(
        || root.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut s = format!("# dalesweep report: {name}\n\n");
    let _ = writeln!(
        s,
        "Computed by `dalesweep report` from the Parquet tables under `{}`: {} networks used \
         (status `ok`), {} runs left out (failed or diverged). Produced by: {}.\n",
        root.display(),
        claims.networks,
        claims.excluded,
        provenance.iter().cloned().collect::<Vec<_>>().join("; ")
    );
    s += &verdict_summary(claims);
    s += "\n## Figures\n\n";
    for f in &plotted.summary {
        s += &image(f);
    }
    s += &radii_table(claims);
    s += &shape_table(claims);
    s += &slope_table(claims);
    s += &difference_table(claims);
    s += &movement_table(claims);
    s += "\n## Example networks\n\nOne network per task, init and constraint (its largest N, \
          smallest exc_frac and seed). Grey: unit circle; blue: fitted outer (solid) and inner \
          (dashed) bulk radius; black dots: bulk eigenvalues; red crosses: outliers. `dalesweep \
          plot --run ID` draws any other run.\n\n";
    for (_, f) in &plotted.networks {
        s += &image(f);
    }
    s
}

fn image(f: &Figure) -> String {
    format!("![{}]({})\n\n", f.title, f.path.display())
}

fn radius(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "-".to_string()
    }
}

fn interval(e: Option<Estimate>, scale: f64) -> String {
    e.map_or("-".to_string(), |e| {
        format!(
            "{:+.3} [{:+.3}, {:+.3}]",
            e.value * scale,
            e.low * scale,
            e.high * scale
        )
    })
}

fn count(verdicts: impl Iterator<Item = Verdict>) -> String {
    let all: Vec<Verdict> = verdicts.filter(|v| *v != Verdict::NoClaim).collect();
    let n = |v: Verdict| all.iter().filter(|x| **x == v).count();
    format!(
        "holds in {}, fails in {}, untestable in {} of {} rows",
        n(Verdict::Holds),
        n(Verdict::Fails),
        n(Verdict::Untestable),
        all.len()
    )
}

fn verdict_summary(c: &Claims) -> String {
    let trained = |s: crate::record::Stage| s == crate::record::Stage::Trained;
    format!(
        "## Verdicts on the trained networks\n\n\
         - disk for normal init, ring for orthogonal init (Dale): {}\n\
         - radius independent of N and of exc_frac: {}\n\
         - radius smaller than without the constraint: {}\n\n\
         The tables below give the same tests on the networks before training, so an effect \
         of the first projection is not credited to learning.\n",
        count(
            c.shapes
                .iter()
                .filter(|r| trained(r.stage))
                .map(|r| r.verdict)
        ),
        count(
            c.slopes
                .iter()
                .filter(|r| trained(r.stage))
                .map(|r| r.verdict)
        ),
        count(
            c.differences
                .iter()
                .filter(|r| trained(r.stage))
                .map(|r| r.verdict)
        ),
    )
}

/// A Markdown table: the header (a name and `'r'` for right-aligned, else left), then `rows`.
fn table(columns: &[(&str, char)], rows: impl Iterator<Item = Vec<String>>) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let align: Vec<&str> = columns
        .iter()
        .map(|c| if c.1 == 'r' { "---:" } else { "---" })
        .collect();
    let mut s = format!("| {} |\n|{}|\n", names.join(" | "), align.join("|"));
    for row in rows {
        s += &format!("| {} |\n", row.join(" | "));
    }
    s
}

/// The first two cells of every row.
fn group_cells(g: &Group) -> Vec<String> {
    vec![g.init.clone(), g.constraint.clone()]
}

fn with(mut cells: Vec<String>, more: impl IntoIterator<Item = String>) -> Vec<String> {
    cells.extend(more);
    cells
}

const GROUP: [(&str, char); 2] = [("init", 'l'), ("constraint", 'l')];

fn radii_table(c: &Claims) -> String {
    let intro = "\n## Mean radii of the trained networks\n\n\
         Mean ± standard deviation over the group's networks (all tasks, sizes, fractions and \
         seeds); accuracy is the mean held-out accuracy.\n\n";
    let columns = [
        GROUP[0],
        GROUP[1],
        ("networks", 'r'),
        ("accuracy", 'r'),
        ("radius_outer", 'r'),
        ("radius_inner", 'r'),
    ];
    let rows = c.radii.iter().map(|r| {
        with(
            group_cells(&r.group),
            [
                r.networks.to_string(),
                r.accuracy.map_or("-".to_string(), |a| format!("{a:.3}")),
                format!("{} ± {}", radius(r.outer.0), radius(r.outer.1)),
                format!("{} ± {}", radius(r.inner.0), radius(r.inner.1)),
            ],
        )
    });
    format!("{intro}{}", table(&columns, rows))
}

fn shape_table(c: &Claims) -> String {
    let intro = format!(
        "\n## Claim: disk for normal init, ring for orthogonal init\n\n\
         A network's shape is the fit's `shape` (ring when radius_inner >= 0.3 radius_outer). \
         The claim concerns Dale-constrained networks; it holds for a group when at least \
         {:.0} % of its networks have the expected shape. Unconstrained groups are shown for \
         comparison.\n\n",
        SHAPE_MAJORITY * 100.0
    );
    let columns = [
        GROUP[0],
        GROUP[1],
        ("stage", 'l'),
        ("networks", 'r'),
        ("rings", 'r'),
        ("mean r_in / r_out", 'r'),
        ("expected", 'l'),
        ("verdict", 'l'),
    ];
    let rows = c.shapes.iter().map(|r| {
        with(
            group_cells(&r.group),
            [
                r.stage.name().to_string(),
                r.networks.to_string(),
                r.rings.to_string(),
                radius(r.mean_inner_over_outer),
                r.expected.map_or("-", Shape::name).to_string(),
                r.verdict.name().to_string(),
            ],
        )
    });
    format!("{intro}{}", table(&columns, rows))
}

fn slope_table(c: &Claims) -> String {
    let intro = format!(
        "\n## Claim: the radius is independent of N and of the excitatory fraction\n\n\
         Least squares of radius_outer on N and exc_frac together, with one intercept per task, \
         per group and stage; 95 % t intervals. \"change\" is slope x (largest - smallest swept \
         value), in radius units and as a share of the group's mean radius. Rule: independent \
         when the slope's interval covers 0 and the change is at most {:.0} % of the mean \
         radius. A factor the group does not vary is untestable.\n\n",
        INDEPENDENCE_TOLERANCE * 100.0
    );
    let columns = [
        GROUP[0],
        GROUP[1],
        ("stage", 'l'),
        ("factor", 'l'),
        ("range", 'l'),
        ("networks", 'r'),
        ("mean radius_outer", 'r'),
        ("slope [95 % CI]", 'r'),
        ("change [95 % CI]", 'r'),
        ("change / radius", 'r'),
        ("verdict", 'l'),
    ];
    let rows = c.slopes.iter().map(|r| {
        let slope = r.slope.map_or("-".to_string(), |e| {
            format!("{:+.2e} [{:+.2e}, {:+.2e}]", e.value, e.low, e.high)
        });
        let verdict = match r.verdict {
            Verdict::Fails => format!("fails: {}", r.failure()),
            v => v.name().to_string(),
        };
        with(
            group_cells(&r.group),
            [
                r.stage.name().to_string(),
                r.factor.name().to_string(),
                format!("{}..{}", r.range.0, r.range.1),
                r.networks.to_string(),
                radius(r.mean_radius),
                slope,
                interval(r.slope, r.range.1 - r.range.0),
                r.relative_change()
                    .map_or("-".to_string(), |x| format!("{:+.1} %", 100.0 * x)),
                verdict,
            ],
        )
    });
    format!("{intro}{}", table(&columns, rows))
}

fn difference_table(c: &Claims) -> String {
    let intro = "\n## Claim: the radius is smaller than without the constraint\n\n\
         Each constrained network is paired with the unconstrained network of the same task, \
         init, N and seed (same initial matrix and data). Before training the pair is the \
         projected matrix against the shared initial one; after training, trained against \
         trained. Rule: smaller when the 95 % interval of the mean paired difference of \
         radius_outer is below 0.\n\n";
    let columns = [
        GROUP[0],
        GROUP[1],
        ("stage", 'l'),
        ("pairs", 'r'),
        ("constrained", 'r'),
        ("unconstrained", 'r'),
        ("difference [95 % CI]", 'r'),
        ("verdict", 'l'),
    ];
    let rows = c.differences.iter().map(|r| {
        with(
            group_cells(&r.group),
            [
                r.stage.name().to_string(),
                r.pairs.to_string(),
                radius(r.constrained),
                radius(r.unconstrained),
                interval(r.difference, 1.0),
                r.verdict.name().to_string(),
            ],
        )
    });
    format!("{intro}{}", table(&columns, rows))
}

fn movement_table(c: &Claims) -> String {
    let intro = "\n## What the projection did, and what training did\n\n\
         Mean radius at each stage, and the mean per-network change made by the first \
         projection (projected - initial) and by training (trained - the stage before \
         training), with 95 % intervals. Where the projection's change is the larger, the \
         trained spectrum owes more to the constraint's first step than to learning.\n\n";
    let columns = [
        GROUP[0],
        GROUP[1],
        ("radius", 'l'),
        ("networks", 'r'),
        ("initial", 'r'),
        ("projected", 'r'),
        ("trained", 'r'),
        ("by projection [95 % CI]", 'r'),
        ("by training [95 % CI]", 'r'),
    ];
    let rows = c.movement.iter().map(|r| {
        with(
            group_cells(&r.group),
            [
                r.radius.name().to_string(),
                r.networks.to_string(),
                radius(r.initial),
                r.projected.map_or("-".to_string(), radius),
                radius(r.trained),
                interval(r.by_projection, 1.0),
                interval(r.by_training, 1.0),
            ],
        )
    });
    format!("{intro}{}", table(&columns, rows))
}
