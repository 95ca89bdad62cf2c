//! Figures drawn from a sweep's Parquet tables alone (no retraining), as SVG or PNG with a
//! font compiled into the binary, so nothing is needed at run time. Under `DIR/figures`:
//!
//! - `network_<run_id>`: the eigenvalues of each stage in the complex plane with the unit
//!   circle, the fitted outer (solid) and inner (dashed) bulk radius and the outliers (red
//!   crosses), and the run's loss curve;
//! - `radius_vs_n`, `radius_vs_exc_frac`: trained outer (solid) and inner (dashed) radius
//!   against N and against the excitatory fraction, one panel per task, one colour per
//!   (init, constraint), mean and standard error over the networks at each point (seeds and
//!   the other factor pooled); unconstrained groups are a flat reference in the second;
//! - `radius_by_stage`: the same radii at the initial, projected and trained stage;
//! - `loss`: mean log10 training loss per epoch and group.
//!
//! Each figure's plotted values are also written to `DIR/data/<figure>.csv`, so a reader can
//! check or re-plot them. Files are written under a hidden name and renamed into place.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;

use crate::claims::{self, Factor, Group, Network};
use crate::dataset;

mod network;
mod summary;

use network::NetworkFigure;
use summary::{loss_chart, radius_chart, stage_chart};

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// Colour-blind-safe colours (Okabe & Ito), one per (init, constraint) group.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// Image format of the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
    pub fn parse(text: &str) -> Result<Format, String> {
        match text {
            "svg" => Ok(Format::Svg),
            "png" => Ok(Format::Png),
            other => Err(format!("format {other:?} is not one of svg, png")),
        }
    }
}

/// Which runs get a per-network figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// One per (task, init, constraint): its largest N, then smallest exc_frac and seed.
    Examples,
    All,
    Runs(Vec<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{} holds no runs table: run `dalesweep run --out {}` first", .0.display(), .0.display())]
    NoRuns(PathBuf),
    #[error("--run {0}: no such run under {1} (`dalesweep status` lists a sweep's runs)")]
    UnknownRun(String, PathBuf),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A figure written under the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// Relative to the output directory.
    pub path: PathBuf,
    pub title: String,
}

/// What [`plot`] wrote.
#[derive(Clone, Debug, Default)]
pub struct Plotted {
    pub summary: Vec<Figure>,
    /// `(run_id, figure)`, in the tables' run order.
    pub networks: Vec<(String, Figure)>,
}

/// Draws the summary figures and the selected networks' figures of the sweep under `root`.
pub fn plot(root: &Path, selection: &Selection, format: Format) -> Result<Plotted, PlotError> {
    draw(root, &load(root)?, selection, format)
}

/// The runs recorded under `root`; an error if there are none.
pub fn load(root: &Path) -> Result<Vec<Network>, PlotError> {
    let networks = dataset::networks(root)?;
    if networks.is_empty() {
        return Err(PlotError::NoRuns(root.to_path_buf()));
    }
    Ok(networks)
}

/// [`plot`] for runs already read with [`load`].
pub fn draw(
    root: &Path,
    networks: &[Network],
    selection: &Selection,
    format: Format,
) -> Result<Plotted, PlotError> {
    let chosen = select(networks, selection, root)?;
    let losses = dataset::loss_curves(root)?;
    let usable = claims::usable(networks);
    let groups: Vec<Group> = usable
        .iter()
        .map(|n| n.group())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let out = Output::create(root, format)?;
    let charts = [
        radius_chart(&usable, &groups, Factor::Size),
        radius_chart(&usable, &groups, Factor::ExcFrac),
        stage_chart(&usable, &groups),
        loss_chart(&usable, &groups, &losses),
    ];
    let mut plotted = Plotted::default();
    for chart in &charts {
        plotted.summary.push(out.write(chart)?);
    }
    let ids: HashSet<String> = chosen.iter().map(|n| n.run_id.clone()).collect();
    let eigen = dataset::eigenvalues(root, &ids)?;
    let figures: Vec<NetworkFigure> = chosen
        .iter()
        .map(|n| NetworkFigure {
            network: n,
            points: eigen.get(&n.run_id).map_or(&[][..], |v| v.as_slice()),
            loss: losses.get(&n.run_id).map_or(&[][..], |v| v.as_slice()),
        })
        .collect();
    plotted.networks = figures
        .par_iter()
        .map(|f| Ok((f.network.run_id.clone(), out.write(f)?)))
        .collect::<io::Result<_>>()?;
    Ok(plotted)
}

fn select<'a>(
    networks: &'a [Network],
    selection: &Selection,
    root: &Path,
) -> Result<Vec<&'a Network>, PlotError> {
    match selection {
        Selection::All => Ok(networks.iter().collect()),
        Selection::Runs(ids) => {
            let by_id: HashMap<&str, &Network> =
                networks.iter().map(|n| (n.run_id.as_str(), n)).collect();
            ids.iter()
                .map(|id| {
                    by_id
                        .get(id.as_str())
                        .copied()
                        .ok_or_else(|| PlotError::UnknownRun(id.clone(), root.to_path_buf()))
                })
                .collect()
        }
        Selection::Examples => {
            let mut best: BTreeMap<(&str, &str, &str), &Network> = BTreeMap::new();
            for n in networks {
                let key = (n.task.as_str(), n.init.as_str(), n.constraint.as_str());
                let rank = |m: &Network| (m.status == "ok", m.n, std::cmp::Reverse(m.seed));
                let better = best.get(&key).is_none_or(|b| {
                    rank(n) > rank(b) || (rank(n) == rank(b) && n.exc_frac < b.exc_frac)
                });
                if better {
                    best.insert(key, n);
                }
            }
            Ok(best.into_values().collect())
        }
    }
}

/// Something that can be drawn on any plotters backend and written as data.
trait Drawable {
    fn name(&self) -> String;
    fn title(&self) -> String;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
    /// The plotted values as CSV, header first.
    fn csv(&self) -> String;
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The figure and data folders of one output directory.
struct Output {
    root: PathBuf,
    format: Format,
}

impl Output {
    fn create(root: &Path, format: Format) -> io::Result<Output> {
        static FONT_ONCE: Once = Once::new();
        FONT_ONCE.call_once(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .unwrap_or_else(|_| panic!("the bundled font parses"));
        });
        fs::create_dir_all(root.join("figures"))?;
        fs::create_dir_all(root.join("data"))?;
        Ok(Output {
            root: root.to_path_buf(),
            format,
        })
    }

    fn write(&self, figure: &impl Drawable) -> io::Result<Figure> {
        let name = figure.name();
        let ext = self.format.extension();
        let relative = PathBuf::from("figures").join(format!("{name}.{ext}"));
        let tmp = self.root.join("figures").join(format!(".{name}.tmp.{ext}"));
        let drawn = match self.format {
            Format::Svg => draw_with(SVGBackend::new(&tmp, figure.size()), figure),
            Format::Png => draw_with(BitMapBackend::new(&tmp, figure.size()), figure),
        };
        drawn.map_err(|e| io::Error::other(format!("drawing {}: {e}", relative.display())))?;
        fs::rename(&tmp, self.root.join(&relative))?;
        replace_file(
            &self.root.join("data").join(format!("{name}.csv")),
            &figure.csv(),
        )?;
        Ok(Figure {
            path: relative,
            title: figure.title(),
        })
    }
}

/// Writes `contents` to `path` through a hidden file beside it and a rename, so a reader never
/// sees half of it.
pub(crate) fn replace_file(path: &Path, contents: &str) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, contents)?;
    fs::rename(&tmp, path)
}

fn draw_with<DB: DrawingBackend>(backend: DB, figure: &impl Drawable) -> Result<(), String> {
    let area = backend.into_drawing_area();
    figure.draw(&area).map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// A tick label: at most three decimals, no trailing zeros.
fn tick(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// `(lo, hi)` of `values` widened by `pad` of the span; if they are all equal, by a tenth of
/// their size (or by `flat` around 0).
fn padded(values: impl Iterator<Item = f64>, pad: f64, flat: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (-flat, flat);
    }
    let span = hi - lo;
    if span <= 1e-12 {
        let f = if lo.abs() > 1e-12 {
            0.1 * lo.abs()
        } else {
            flat
        };
        (lo - f, hi + f)
    } else {
        (lo - pad * span, hi + pad * span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_drop_trailing_zeros() {
        let got: Vec<String> = [50.0, 0.8, -0.0, 0.125, 1e-4].map(tick).to_vec();
        assert_eq!(got, ["50", "0.8", "0", "0.125", "0"]);
    }
}
