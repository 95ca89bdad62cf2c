//! The figure of one network: the eigenvalues of each stage in the complex plane, with the
//! unit circle, the fitted bulk radii and the outliers, and its loss curve.

use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{padded, tick, DrawResult, Drawable, FAMILY, PALETTE};
use crate::claims::Network;
use crate::dataset::EigenPoint;
use crate::record::Stage;

/// One network: its eigenvalue planes and loss curve.
pub(super) struct NetworkFigure<'a> {
    pub network: &'a Network,
    pub points: &'a [EigenPoint],
    pub loss: &'a [f64],
}

impl NetworkFigure<'_> {
    fn stages(&self) -> Vec<Stage> {
        Stage::ALL
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
                b.shape.name()
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
