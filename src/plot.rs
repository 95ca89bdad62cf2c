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
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;

use crate::claims::{self, mean, stage_index, std_err, Group, Network, Radius};
use crate::dataset::{self, EigenPoint};
use crate::record::Stage;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
const STAGES: [Stage; 3] = [Stage::Initial, Stage::Projected, Stage::Trained];
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
        radius_chart(&usable, &groups, claims::Factor::Size),
        radius_chart(&usable, &groups, claims::Factor::ExcFrac),
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
            points: eigen.get(&n.run_id).map_or(&[], |v| v.as_slice()),
            loss: losses.get(&n.run_id).map_or(&[], |v| v.as_slice()),
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
        Selection::Runs(ids) => ids
            .iter()
            .map(|id| {
                networks
                    .iter()
                    .find(|n| n.run_id == *id)
                    .ok_or_else(|| PlotError::UnknownRun(id.clone(), root.to_path_buf()))
            })
            .collect(),
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
        let data = self.root.join("data");
        fs::write(data.join(format!(".{name}.csv.tmp")), figure.csv())?;
        fs::rename(
            data.join(format!(".{name}.csv.tmp")),
            data.join(format!("{name}.csv")),
        )?;
        Ok(Figure {
            path: relative,
            title: figure.title(),
        })
    }
}

fn draw_with<DB: DrawingBackend>(backend: DB, figure: &impl Drawable) -> Result<(), String> {
    let area = backend.into_drawing_area();
    figure.draw(&area).map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// One plotted line: `(x, mean, standard error, count)` per point.
struct Line {
    label: String,
    color: usize,
    dashed: bool,
    markers: bool,
    points: Vec<(f64, f64, f64, usize)>,
}

struct Panel {
    title: String,
    lines: Vec<Line>,
}

/// Panels of lines with error bars; the summary figures.
struct LineChart {
    name: &'static str,
    /// `(label, colour)` per group, drawn once beside the panels.
    legend: Vec<(String, usize)>,
    /// What the line styles mean.
    key: Vec<(&'static str, bool, bool)>,
    title: String,
    x_desc: &'static str,
    y_desc: &'static str,
    /// Tick labels for integer x (categories), if any.
    x_labels: Option<Vec<&'static str>>,
    panels: Vec<Panel>,
}

/// Mean and standard error of `y` at each distinct `x`.
fn points_by_x(rows: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64, f64, usize)> {
    let mut at: BTreeMap<u64, (f64, Vec<f64>)> = BTreeMap::new();
    for (x, y) in rows.filter(|r| r.1.is_finite()) {
        at.entry(x.to_bits()).or_insert((x, Vec::new())).1.push(y);
    }
    let mut points: Vec<_> = at
        .into_values()
        .map(|(x, ys)| {
            let se = if ys.len() > 1 { std_err(&ys) } else { 0.0 };
            (x, mean(&ys), se, ys.len())
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn tasks(networks: &[&Network]) -> BTreeSet<String> {
    networks.iter().map(|n| n.task.clone()).collect()
}

fn color_of(groups: &[Group], group: &Group) -> usize {
    groups.iter().position(|g| g == group).unwrap_or(0)
}

const RADIUS_KEY: [(&str, bool, bool); 2] =
    [("outer radius", false, true), ("inner radius", true, true)];

fn group_legend(groups: &[Group]) -> Vec<(String, usize)> {
    groups
        .iter()
        .enumerate()
        .map(|(k, g)| (g.label(), k))
        .collect()
}

fn radius_chart(networks: &[&Network], groups: &[Group], factor: claims::Factor) -> LineChart {
    let by_size = factor == claims::Factor::Size;
    let panels = tasks(networks)
        .into_iter()
        .map(|task| {
            let mut lines = Vec::new();
            for group in groups {
                let members: Vec<&&Network> = networks
                    .iter()
                    .filter(|n| n.task == task && n.group() == *group)
                    .collect();
                let unconstrained = group.constraint == "none";
                for radius in [Radius::Outer, Radius::Inner] {
                    let trained = |n: &Network| n.stage(Stage::Trained).map(|b| radius.of(b));
                    let mut points = points_by_x(members.iter().filter_map(|n| {
                        let x = if by_size {
                            Some(n.n as f64)
                        } else {
                            n.exc_frac
                        };
                        Some((x?, trained(n)?))
                    }));
                    let mut label = format!("{} {}", group.label(), radius.name());
                    if !by_size && unconstrained {
                        if radius == Radius::Inner {
                            continue;
                        }
                        let ys: Vec<f64> = members.iter().filter_map(|n| trained(n)).collect();
                        let xs = exc_fracs(networks);
                        if ys.is_empty() || xs.is_empty() {
                            continue;
                        }
                        let (m, se) = (mean(&ys), if ys.len() > 1 { std_err(&ys) } else { 0.0 });
                        points = xs.iter().map(|&x| (x, m, se, ys.len())).collect();
                        label = format!("{} outer (no E/I split)", group.label());
                    }
                    lines.push(Line {
                        label,
                        color: color_of(groups, group),
                        dashed: radius == Radius::Inner,
                        markers: by_size || !unconstrained,
                        points,
                    });
                }
            }
            Panel {
                title: format!("task {task}"),
                lines,
            }
        })
        .collect();
    let (name, title, x_desc) = if by_size {
        (
            "radius_vs_n",
            "Trained bulk radius against network size",
            "N",
        )
    } else {
        (
            "radius_vs_exc_frac",
            "Trained bulk radius against the excitatory fraction",
            "exc_frac",
        )
    };
    let mut key = RADIUS_KEY.to_vec();
    if !by_size {
        key.push(("unconstrained outer (flat)", false, false));
    }
    LineChart {
        name,
        legend: group_legend(groups),
        key,
        title: title.to_string(),
        x_desc,
        y_desc: "radius (mean ± s.e.)",
        x_labels: None,
        panels,
    }
}

fn exc_fracs(networks: &[&Network]) -> Vec<f64> {
    let mut xs: Vec<f64> = networks.iter().filter_map(|n| n.exc_frac).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    match xs.as_slice() {
        [] => Vec::new(),
        [only] => vec![*only],
        [first, .., last] => vec![*first, *last],
    }
}

fn stage_chart(networks: &[&Network], groups: &[Group]) -> LineChart {
    let panels = tasks(networks)
        .into_iter()
        .map(|task| {
            let mut lines = Vec::new();
            for group in groups {
                for radius in [Radius::Outer, Radius::Inner] {
                    let points = points_by_x(
                        networks
                            .iter()
                            .filter(|n| n.task == task && n.group() == *group)
                            .flat_map(|n| {
                                STAGES.iter().filter_map(move |&s| {
                                    Some((stage_index(s) as f64, radius.of(n.stage(s)?)))
                                })
                            }),
                    );
                    lines.push(Line {
                        label: format!("{} {}", group.label(), radius.name()),
                        color: color_of(groups, group),
                        dashed: radius == Radius::Inner,
                        markers: true,
                        points,
                    });
                }
            }
            Panel {
                title: format!("task {task}"),
                lines,
            }
        })
        .collect();
    LineChart {
        name: "radius_by_stage",
        legend: group_legend(groups),
        key: RADIUS_KEY.to_vec(),
        title: "Bulk radius before and after the projection and training".to_string(),
        x_desc: "stage",
        y_desc: "radius (mean ± s.e.)",
        x_labels: Some(STAGES.iter().map(|s| s.name()).collect()),
        panels,
    }
}

fn loss_chart(
    networks: &[&Network],
    groups: &[Group],
    losses: &HashMap<String, Vec<f64>>,
) -> LineChart {
    let panels = tasks(networks)
        .into_iter()
        .map(|task| {
            let lines = groups
                .iter()
                .map(|group| {
                    let curves = networks
                        .iter()
                        .filter(|n| n.task == task && n.group() == *group)
                        .filter_map(|n| losses.get(&n.run_id));
                    let points = points_by_x(curves.flat_map(|c| {
                        c.iter()
                            .enumerate()
                            .map(|(k, l)| ((k + 1) as f64, l.log10()))
                    }));
                    Line {
                        label: group.label(),
                        color: color_of(groups, group),
                        dashed: false,
                        // A single epoch is a point, invisible as a line.
                        markers: points.len() < 2,
                        points,
                    }
                })
                .collect();
            Panel {
                title: format!("task {task}"),
                lines,
            }
        })
        .collect();
    LineChart {
        name: "loss",
        legend: group_legend(groups),
        key: vec![("mean over the runs", false, false)],
        title: "Training loss per epoch".to_string(),
        x_desc: "epoch",
        y_desc: "log10 loss (mean ± s.e.)",
        x_labels: None,
        panels,
    }
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

impl Drawable for LineChart {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn title(&self) -> String {
        self.title.clone()
    }
    fn size(&self) -> (u32, u32) {
        let cols = self.panels.len().clamp(1, 2) as u32;
        let rows = self.panels.len().div_ceil(2).max(1) as u32;
        (480 * cols + LEGEND_WIDTH, 50 + 380 * rows)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        area.fill(&WHITE)?;
        let area = area.titled(&self.title, (FAMILY, 20))?;
        let (plots, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
        self.draw_legend(&legend)?;
        let cols = self.panels.len().clamp(1, 2);
        let cells = plots.split_evenly((self.panels.len().div_ceil(cols).max(1), cols));
        for (cell, panel) in cells.iter().zip(&self.panels) {
            self.draw_panel(cell, panel)?;
        }
        Ok(())
    }
    fn csv(&self) -> String {
        let mut s = String::from("panel,series,x,mean,std_err,count\n");
        for p in &self.panels {
            for l in &p.lines {
                for (x, m, se, k) in &l.points {
                    let _ = writeln!(s, "{},{},{x},{m},{se},{k}", p.title, l.label);
                }
            }
        }
        s
    }
}

const LEGEND_WIDTH: u32 = 230;

/// A line sample with its marker, `width` pixels long, starting at `(x, y)`.
fn sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    color: RGBColor,
    dashed: bool,
    marker: bool,
) -> DrawResult<DB> {
    let style = color.stroke_width(2);
    let segments: &[(i32, i32)] = if dashed {
        &[(0, 7), (11, 18), (22, 29)]
    } else {
        &[(0, 29)]
    };
    for (a, b) in segments {
        area.draw(&PathElement::new(vec![(x + a, y), (x + b, y)], style))?;
    }
    if marker {
        let fill = if dashed {
            color.stroke_width(1)
        } else {
            color.filled()
        };
        area.draw(&Circle::new((x + 15, y), 3, fill))?;
    }
    Ok(())
}

impl LineChart {
    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let text = (FAMILY, 12).into_font();
        let mut y = 40;
        for (label, color) in &self.legend {
            sample(area, (8, y), PALETTE[color % PALETTE.len()], false, false)?;
            area.draw(&Text::new(label.clone(), (44, y - 7), text.clone()))?;
            y += 20;
        }
        y += 12;
        for (label, dashed, marker) in &self.key {
            sample(area, (8, y), RGBColor(90, 90, 90), *dashed, *marker)?;
            area.draw(&Text::new(label.to_string(), (44, y - 7), text.clone()))?;
            y += 20;
        }
        Ok(())
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        cell: &DrawingArea<DB, Shift>,
        panel: &Panel,
    ) -> DrawResult<DB> {
        let all = || panel.lines.iter().flat_map(|l| l.points.iter());
        let (x0, x1) = padded(all().map(|p| p.0), 0.08, 0.5);
        let (y0, y1) = padded(all().flat_map(|p| [p.1 - p.2, p.1 + p.2]), 0.12, 0.05);
        let mut chart = ChartBuilder::on(cell)
            .caption(&panel.title, (FAMILY, 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        let labels = self.x_labels.clone();
        let category = move |x: &f64| {
            let k = x.round();
            match &labels {
                Some(names) if (x - k).abs() < 1e-9 && k >= 0.0 => {
                    names.get(k as usize).copied().unwrap_or("").to_string()
                }
                Some(_) => String::new(),
                None => tick(*x),
            }
        };
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 13))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .x_label_formatter(&category)
            .draw()?;
        for line in &panel.lines {
            draw_line(&mut chart, line)?;
        }
        Ok(())
    }
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_line<DB: DrawingBackend>(chart: &mut Chart<DB>, line: &Line) -> DrawResult<DB> {
    let color = PALETTE[line.color % PALETTE.len()];
    let style = color.stroke_width(2);
    let xy: Vec<(f64, f64)> = line.points.iter().map(|p| (p.0, p.1)).collect();
    if line.dashed {
        chart.draw_series(DashedLineSeries::new(xy.clone(), 6, 4, style))?;
    } else {
        chart.draw_series(LineSeries::new(xy.clone(), style))?;
    }
    if line.markers {
        let fill = if line.dashed {
            color.stroke_width(1)
        } else {
            color.filled()
        };
        chart.draw_series(xy.iter().map(|&p| Circle::new(p, 3, fill)))?;
        chart.draw_series(line.points.iter().filter(|p| p.2 > 0.0).map(|p| {
            PathElement::new(
                vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)],
                color.stroke_width(1),
            )
        }))?;
    }
    Ok(())
}

/// One network: its eigenvalue planes and loss curve.
struct NetworkFigure<'a> {
    network: &'a Network,
    points: &'a [EigenPoint],
    loss: &'a [f64],
}

impl NetworkFigure<'_> {
    fn stages(&self) -> Vec<Stage> {
        STAGES
            .into_iter()
            .filter(|s| self.points.iter().any(|p| p.stage == *s))
            .collect()
    }
}

/// The part of `cell` whose plotting area (after `margin` and the label areas) is square, so
/// a circle in the complex plane looks round.
fn square<DB: DrawingBackend>(
    cell: &DrawingArea<DB, Shift>,
    margin: u32,
    x_labels: u32,
    y_labels: u32,
) -> DrawingArea<DB, Shift> {
    let (w, h) = cell.dim_in_pixel();
    let pw = w.saturating_sub(y_labels + 2 * margin);
    let ph = h.saturating_sub(x_labels + 2 * margin);
    let (dw, dh) = (pw.saturating_sub(ph), ph.saturating_sub(pw));
    cell.margin(dh / 2, dh - dh / 2, dw / 2, dw - dw / 2)
}

fn circle(r: f64) -> Vec<(f64, f64)> {
    (0..=240)
        .map(|k| {
            let t = std::f64::consts::TAU * k as f64 / 240.0;
            (r * t.cos(), r * t.sin())
        })
        .collect()
}

impl Drawable for NetworkFigure<'_> {
    fn name(&self) -> String {
        format!("network_{}", self.network.run_id)
    }
    fn title(&self) -> String {
        let n = self.network;
        let exc = n.exc_frac.map_or("-".to_string(), |e| format!("{e}"));
        format!(
            "run {}: {}, {} init, {}, N {}, exc_frac {exc}, seed {}",
            n.run_id, n.task, n.init, n.constraint, n.n, n.seed
        )
    }
    fn size(&self) -> (u32, u32) {
        let panels = self.stages().len() + usize::from(!self.loss.is_empty());
        (380 * panels.max(1) as u32, 440)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        area.fill(&WHITE)?;
        let area = area.titled(&self.title(), (FAMILY, 16))?;
        let stages = self.stages();
        let panels = stages.len() + usize::from(!self.loss.is_empty());
        let cells = area.split_evenly((1, panels.max(1)));
        for (cell, stage) in cells.iter().zip(&stages) {
            self.draw_plane(cell, *stage)?;
        }
        if let (false, Some(cell)) = (self.loss.is_empty(), cells.get(stages.len())) {
            self.draw_loss(cell)?;
        }
        Ok(())
    }
    fn csv(&self) -> String {
        let mut s = String::from("stage,re,im,is_outlier\n");
        for p in self.points {
            let _ = writeln!(s, "{},{},{},{}", p.stage.name(), p.re, p.im, p.is_outlier);
        }
        s
    }
}

impl NetworkFigure<'_> {
    fn draw_plane<DB: DrawingBackend>(
        &self,
        cell: &DrawingArea<DB, Shift>,
        stage: Stage,
    ) -> DrawResult<DB> {
        let points: Vec<&EigenPoint> = self.points.iter().filter(|p| p.stage == stage).collect();
        let fit = self.network.stage(stage);
        let largest = points.iter().map(|p| p.re.hypot(p.im)).fold(0.0, f64::max);
        let lim = (largest * 1.08).max(1.1);
        let caption = match fit {
            Some(b) => format!(
                "{}: r_out {:.3}, r_in {:.3}, {}",
                stage.name(),
                b.outer,
                b.inner,
                if b.ring { "ring" } else { "disk" }
            ),
            None => stage.name().to_string(),
        };
        let cell = square(&cell.titled(&caption, (FAMILY, 14))?, 8, 32, 44);
        let mut chart = ChartBuilder::on(&cell)
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(-lim..lim, -lim..lim)?;
        chart
            .configure_mesh()
            .x_desc("Re λ")
            .y_desc("Im λ")
            .label_style((FAMILY, 11))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(230, 230, 230))
            .draw()?;
        let grey = RGBColor(150, 150, 150).stroke_width(1);
        chart.draw_series(LineSeries::new(circle(1.0), grey))?;
        if let Some(b) = fit {
            let fitted = PALETTE[0].stroke_width(2);
            chart.draw_series(LineSeries::new(circle(b.outer), fitted))?;
            chart.draw_series(DashedLineSeries::new(circle(b.inner), 5, 4, fitted))?;
        }
        let dot = BLACK.mix(0.6).filled();
        chart.draw_series(
            points
                .iter()
                .filter(|p| !p.is_outlier)
                .map(|p| Circle::new((p.re, p.im), 2, dot)),
        )?;
        let red = RGBColor(200, 30, 30).stroke_width(2);
        chart.draw_series(
            points
                .iter()
                .filter(|p| p.is_outlier)
                .map(|p| Cross::new((p.re, p.im), 5, red)),
        )?;
        Ok(())
    }

    fn draw_loss<DB: DrawingBackend>(&self, cell: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xy: Vec<(f64, f64)> = self
            .loss
            .iter()
            .enumerate()
            .map(|(k, l)| ((k + 1) as f64, l.log10()))
            .filter(|p| p.1.is_finite())
            .collect();
        let (x0, x1) = padded(xy.iter().map(|p| p.0), 0.05, 0.5);
        let (y0, y1) = padded(xy.iter().map(|p| p.1), 0.1, 0.1);
        let mut chart = ChartBuilder::on(cell)
            .caption("training loss", (FAMILY, 14))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("log10 loss")
            .x_label_formatter(&|x| tick(*x))
            .label_style((FAMILY, 11))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(230, 230, 230))
            .draw()?;
        chart.draw_series(LineSeries::new(xy, PALETTE[1].stroke_width(2)))?;
        Ok(())
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

    #[test]
    fn points_are_means_and_standard_errors_per_x() {
        let rows = [(2.0, 5.0), (1.0, 1.0), (1.0, 3.0), (2.0, f64::NAN)];
        // At x = 1: mean 2, sd sqrt(2), se 1; at x = 2 one finite value, se 0.
        assert_eq!(
            points_by_x(rows.into_iter()),
            [(1.0, 2.0, 1.0, 2), (2.0, 5.0, 0.0, 1)]
        );
    }
}
