//! `report.md`: the figures and one table per claim of the paper, computed from a sweep's
//! Parquet tables by [`crate::claims`], with the rules that decide each verdict written next
//! to the numbers. The report is a folder: `DIR/report.md` links `DIR/figures/*` and the
//! plotted values are in `DIR/data/*.csv`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::claims::{assess, Claims, Verdict, INDEPENDENCE_TOLERANCE, SHAPE_MAJORITY};
use crate::dataset;
use crate::plot::{draw, load, Figure, Format, PlotError, Plotted, Selection};
use crate::stats::Estimate;

/// Writes `root/report.md` (and its figures); returns the report's path.
pub fn report(root: &Path, format: Format) -> Result<PathBuf, PlotError> {
    let networks = load(root)?;
    let plotted = draw(root, &networks, &Selection::Examples, format)?;
    let claims = assess(&networks);
    let provenance = dataset::provenance(root)?;
    let text = render(root, &claims, &plotted, &provenance);
    let path = root.join("report.md");
    let tmp = root.join(".report.md.tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, &path)?;
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

fn radii_table(c: &Claims) -> String {
    let mut s = String::from(
        "\n## Mean radii of the trained networks\n\n\
         Mean ± standard deviation over the group's networks (all tasks, sizes, fractions and \
         seeds); accuracy is the mean held-out accuracy.\n\n\
         | init | constraint | networks | accuracy | radius_outer | radius_inner |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for r in &c.radii {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} ± {} | {} ± {} |",
            r.group.init,
            r.group.constraint,
            r.networks,
            r.accuracy.map_or("-".to_string(), |a| format!("{a:.3}")),
            radius(r.outer.0),
            radius(r.outer.1),
            radius(r.inner.0),
            radius(r.inner.1)
        );
    }
    s
}

fn shape_table(c: &Claims) -> String {
    let mut s = format!(
        "\n## Claim: disk for normal init, ring for orthogonal init\n\n\
         A network's shape is the fit's `shape` (ring when radius_inner >= 0.3 radius_outer). \
         The claim concerns Dale-constrained networks; it holds for a group when at least \
         {:.0} % of its networks have the expected shape. Unconstrained groups are shown for \
         comparison.\n\n\
         | init | constraint | stage | networks | rings | mean r_in / r_out | expected | verdict |\n\
         |---|---|---|---:|---:|---:|---|---|\n",
        SHAPE_MAJORITY * 100.0
    );
    for r in &c.shapes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.group.init,
            r.group.constraint,
            r.stage.name(),
            r.networks,
            r.rings,
            radius(r.mean_inner_over_outer),
            r.expected.unwrap_or("-"),
            r.verdict.name()
        );
    }
    s
}

fn slope_table(c: &Claims) -> String {
    let mut s = format!(
        "\n## Claim: the radius is independent of N and of the excitatory fraction\n\n\
         Least squares of radius_outer on N and exc_frac together, with one intercept per task, \
         per group and stage; 95 % t intervals. \"change\" is slope x (largest - smallest swept \
         value), in radius units and as a share of the group's mean radius. Rule: independent \
         when the slope's interval covers 0 and the change is at most {:.0} % of the mean \
         radius. A factor the group does not vary is untestable.\n\n\
         | init | constraint | stage | factor | range | networks | mean radius_outer | slope [95 % CI] | change [95 % CI] | change / radius | verdict |\n\
         |---|---|---|---|---|---:|---:|---:|---:|---:|---|\n",
        INDEPENDENCE_TOLERANCE * 100.0
    );
    for r in &c.slopes {
        let span = r.range.1 - r.range.0;
        let slope = r.slope.map_or("-".to_string(), |e| {
            format!("{:+.2e} [{:+.2e}, {:+.2e}]", e.value, e.low, e.high)
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {}..{} | {} | {} | {} | {} | {} | {} |",
            r.group.init,
            r.group.constraint,
            r.stage.name(),
            r.factor.name(),
            r.range.0,
            r.range.1,
            r.networks,
            radius(r.mean_radius),
            slope,
            interval(r.slope, span),
            r.relative_change()
                .map_or("-".to_string(), |x| format!("{:+.1} %", 100.0 * x)),
            match r.verdict {
                Verdict::Fails => format!("fails: {}", r.failure()),
                v => v.name().to_string(),
            }
        );
    }
    s
}

fn difference_table(c: &Claims) -> String {
    let mut s = String::from(
        "\n## Claim: the radius is smaller than without the constraint\n\n\
         Each constrained network is paired with the unconstrained network of the same task, \
         init, N and seed (same initial matrix and data). Before training the pair is the \
         projected matrix against the shared initial one; after training, trained against \
         trained. Rule: smaller when the 95 % interval of the mean paired difference of \
         radius_outer is below 0.\n\n\
         | init | constraint | stage | pairs | constrained | unconstrained | difference [95 % CI] | verdict |\n\
         |---|---|---|---:|---:|---:|---:|---|\n",
    );
    for r in &c.differences {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.group.init,
            r.group.constraint,
            r.stage.name(),
            r.pairs,
            radius(r.constrained),
            radius(r.unconstrained),
            interval(r.difference, 1.0),
            r.verdict.name()
        );
    }
    s
}

fn movement_table(c: &Claims) -> String {
    let mut s = String::from(
        "\n## What the projection did, and what training did\n\n\
         Mean radius at each stage, and the mean per-network change made by the first \
         projection (projected - initial) and by training (trained - the stage before \
         training), with 95 % intervals. Where the projection's change is the larger, the \
         trained spectrum owes more to the constraint's first step than to learning.\n\n\
         | init | constraint | radius | networks | initial | projected | trained | by projection [95 % CI] | by training [95 % CI] |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &c.movement {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.group.init,
            r.group.constraint,
            r.radius.name(),
            r.networks,
            radius(r.initial),
            r.projected.map_or("-".to_string(), radius),
            radius(r.trained),
            interval(r.by_projection, 1.0),
            interval(r.by_training, 1.0)
        );
    }
    s
}
