//! The summary figures: panels (one per task) of lines with error bars, one colour per
//! (init, constraint) group, with the legend beside the panels.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{padded, tick, DrawResult, Drawable, FAMILY, PALETTE};
use crate::claims::{stage_index, Factor, Group, Network, Radius};
use crate::record::Stage;
use crate::stats::{mean, std_err};

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
pub(super) struct LineChart {
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

/// One panel per task; `lines` gives a group's lines from its networks of that task, and each
/// line takes the group's colour (its index in `groups`).
fn panels_by_task(
    networks: &[&Network],
    groups: &[Group],
    lines: impl Fn(&Group, &[&Network]) -> Vec<Line>,
) -> Vec<Panel> {
    let tasks: BTreeSet<&str> = networks.iter().map(|n| n.task.as_str()).collect();
    tasks
        .into_iter()
        .map(|task| {
            let mut out = Vec::new();
            for (color, group) in groups.iter().enumerate() {
                let members: Vec<&Network> = networks
                    .iter()
                    .copied()
                    .filter(|n| n.task == task && group.holds(n))
                    .collect();
                out.extend(
                    lines(group, &members)
                        .into_iter()
                        .map(|l| Line { color, ..l }),
                );
            }
            Panel {
                title: format!("task {task}"),
                lines: out,
            }
        })
        .collect()
}

const RADIUS_KEY: [(&str, bool, bool); 2] =
    [("outer radius", false, true), ("inner radius", true, true)];
const RADII: [Radius; 2] = [Radius::Outer, Radius::Inner];

fn group_legend(groups: &[Group]) -> Vec<(String, usize)> {
    groups
        .iter()
        .enumerate()
        .map(|(k, g)| (g.label(), k))
        .collect()
}

pub(super) fn radius_chart(networks: &[&Network], groups: &[Group], factor: Factor) -> LineChart {
    let flat_at = exc_fracs(networks);
    let panels = panels_by_task(networks, groups, |group, members| {
        RADII
            .into_iter()
            .filter_map(|radius| radius_line(group, members, radius, factor, &flat_at))
            .collect()
    });
    let (name, title, x_desc) = match factor {
        Factor::Size => (
            "radius_vs_n",
            "Trained bulk radius against network size",
            "N",
        ),
        Factor::ExcFrac => (
            "radius_vs_exc_frac",
            "Trained bulk radius against the excitatory fraction",
            "exc_frac",
        ),
    };
    let mut key = RADIUS_KEY.to_vec();
    if factor == Factor::ExcFrac {
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

/// One group's trained `radius` against `factor` (colour left to the caller); `None` where the
/// figure has nothing to show. Unconstrained groups have no E/I split: against `exc_frac` their
/// outer radius is a flat reference across `flat_at`.
fn radius_line(
    group: &Group,
    members: &[&Network],
    radius: Radius,
    factor: Factor,
    flat_at: &[f64],
) -> Option<Line> {
    let trained = |n: &Network| n.stage(Stage::Trained).map(|b| radius.of(b));
    if factor == Factor::ExcFrac && !group.constrained() {
        if radius == Radius::Inner {
            return None;
        }
        let (_, m, se, count) =
            *points_by_x(members.iter().filter_map(|n| Some((0.0, trained(n)?)))).first()?;
        return Some(Line {
            label: format!("{} outer (no E/I split)", group.label()),
            color: 0,
            dashed: false,
            markers: false,
            points: flat_at.iter().map(|&x| (x, m, se, count)).collect(),
        });
    }
    let points = points_by_x(members.iter().filter_map(|n| {
        let x = match factor {
            Factor::Size => Some(n.n as f64),
            Factor::ExcFrac => n.exc_frac,
        };
        Some((x?, trained(n)?))
    }));
    Some(Line {
        label: format!("{} {}", group.label(), radius.name()),
        color: 0,
        dashed: radius == Radius::Inner,
        markers: true,
        points,
    })
}

/// The smallest and largest excitatory fraction of the sweep.
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

pub(super) fn stage_chart(networks: &[&Network], groups: &[Group]) -> LineChart {
    let panels = panels_by_task(networks, groups, |group, members| {
        RADII
            .into_iter()
            .map(|radius| Line {
                label: format!("{} {}", group.label(), radius.name()),
                color: 0,
                dashed: radius == Radius::Inner,
                markers: true,
                points: points_by_x(members.iter().flat_map(|n| {
                    Stage::ALL
                        .iter()
                        .filter_map(move |&s| Some((stage_index(s) as f64, radius.of(n.stage(s)?))))
                })),
            })
            .collect()
    });
    LineChart {
        name: "radius_by_stage",
        legend: group_legend(groups),
        key: RADIUS_KEY.to_vec(),
        title: "Bulk radius before and after the projection and training".to_string(),
        x_desc: "stage",
        y_desc: "radius (mean ± s.e.)",
        x_labels: Some(Stage::ALL.iter().map(|s| s.name()).collect()),
        panels,
    }
}

pub(super) fn loss_chart(
    networks: &[&Network],
    groups: &[Group],
    losses: &HashMap<String, Vec<f64>>,
) -> LineChart {
    let panels = panels_by_task(networks, groups, |group, members| {
        let curves = members.iter().filter_map(|n| losses.get(&n.run_id));
        let points = points_by_x(curves.flat_map(|c| {
            c.iter()
                .enumerate()
                .map(|(k, l)| ((k + 1) as f64, l.log10()))
        }));
        vec![Line {
            label: group.label(),
            color: 0,
            dashed: false,
            // A single epoch is a point, invisible as a line.
            markers: points.len() < 2,
            points,
        }]
    });
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

/// A 30-pixel line sample (dashed or not, with its marker or not) starting at `(x, y)`.
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

#[cfg(test)]
mod tests {
    use super::*;

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
