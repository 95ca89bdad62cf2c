//! The dynamics of a network's activity, computed from its hidden states over a set of trials:
//! principal components (the covariance of the units' activity, LAPACK `dsyevd`), how many of
//! them hold 90 % of the variance, and the dominant oscillation frequency of the first
//! component. Values only; no IO.

use ndarray::{Array2, Axis};
use ndarray_linalg::{Eigh, UPLO};

use crate::task::{Task, Trial};
use crate::train::Activity;

/// Per-network summary of its activity on a set of trials.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub pca: Pca,
    /// Leading principal components holding 90 % of the variance.
    pub n_pc_90: usize,
    /// Mean activity `h` of excitatory and inhibitory units while an input pulse is on and
    /// during the response (from the response onset to the end); `None` without a partition
    /// or without units of that kind.
    pub mean_exc_stimulus: Option<f64>,
    pub mean_inh_stimulus: Option<f64>,
    pub mean_exc_response: Option<f64>,
    pub mean_inh_response: Option<f64>,
    /// Dominant frequency of the first principal component over whole trials.
    pub activity_frequency_hz: Option<f64>,
}

/// Summarises `activity` of a network whose first `n_inh` units are inhibitory.
pub fn summarize(
    task: Task,
    trials: &[Trial],
    activity: &Activity<f32>,
    n_inh: Option<usize>,
) -> Result<Summary, String> {
    let (steps, n) = (activity.steps, activity.n);
    let samples: Vec<f64> = activity.states.iter().map(|&h| h as f64).collect();
    let pca = pca(&samples, trials.len() * steps, n)?;
    let series: Vec<Vec<f64>> = (0..trials.len())
        .map(|k| (0..steps).map(|t| pca.scores[k * steps + t][0]).collect())
        .collect();
    let mean =
        |units: std::ops::Range<usize>, in_window: &dyn Fn(&Trial, usize) -> bool| -> Option<f64> {
            if units.is_empty() {
                return None;
            }
            let (mut sum, mut count) = (0.0, 0usize);
            for (k, trial) in trials.iter().enumerate() {
                for t in (0..steps).filter(|&t| in_window(trial, t)) {
                    let row = &activity.states[(k * steps + t) * n..(k * steps + t + 1) * n];
                    sum += row[units.clone()].iter().map(|&h| h as f64).sum::<f64>();
                    count += units.len();
                }
            }
            (count > 0).then(|| sum / count as f64)
        };
    let stimulus = |trial: &Trial, t: usize| task.at(trial, t).0.iter().any(|&x| x != 0.0);
    let response = |trial: &Trial, t: usize| t >= task.response_start(trial);
    let split = |window: &dyn Fn(&Trial, usize) -> bool| match n_inh {
        Some(i) => (mean(i..n, window), mean(0..i, window)),
        None => (None, None),
    };
    let (mean_exc_stimulus, mean_inh_stimulus) = split(&stimulus);
    let (mean_exc_response, mean_inh_response) = split(&response);
    Ok(Summary {
        n_pc_90: pca.components_for(0.9),
        activity_frequency_hz: dominant_frequency_hz(&series),
        pca,
        mean_exc_stimulus,
        mean_inh_stimulus,
        mean_exc_response,
        mean_inh_response,
    })
}

/// Principal components of activity samples (rows) over units (columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Share of the total variance of each component, largest first.
    pub explained: Vec<f64>,
    /// Projection of every sample on the first three components (fewer when N < 3).
    pub scores: Vec<[f64; 3]>,
}

impl Pca {
    /// The number of leading components that hold at least `share` of the variance.
    pub fn components_for(&self, share: f64) -> usize {
        let mut total = 0.0;
        for (k, e) in self.explained.iter().enumerate() {
            total += e;
            if total >= share - 1e-12 {
                return k + 1;
            }
        }
        self.explained.len()
    }
}

/// PCA of `samples` (`m x n`, row-major). Each component's sign is fixed so that its entry of
/// largest magnitude is positive.
pub fn pca(samples: &[f64], m: usize, n: usize) -> Result<Pca, String> {
    let mut x = Array2::from_shape_vec((m, n), samples.to_vec()).map_err(|e| e.to_string())?;
    let mean = x.mean_axis(Axis(0)).ok_or("no samples")?;
    x -= &mean;
    let cov = x.t().dot(&x) / (m.max(2) - 1) as f64;
    let (values, vectors) = cov.eigh(UPLO::Lower).map_err(|e| e.to_string())?;
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let order: Vec<usize> = (0..n).rev().collect();
    let explained = order
        .iter()
        .map(|&k| {
            if total > 0.0 {
                values[k].max(0.0) / total
            } else {
                0.0
            }
        })
        .collect();
    let mut components = Vec::new();
    for &k in order.iter().take(3) {
        let mut v = vectors.column(k).to_owned();
        let largest = v
            .iter()
            .copied()
            .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        if largest < 0.0 {
            v.mapv_inplace(|c| -c);
        }
        components.push(v);
    }
    let scores = (0..m)
        .map(|i| {
            let row = x.row(i);
            let mut s = [0.0; 3];
            for (c, v) in components.iter().enumerate() {
                s[c] = row.dot(v);
            }
            s
        })
        .collect();
    Ok(Pca { explained, scores })
}

/// The frequency in Hz (one step = 1 ms) of the largest peak, above 0 Hz, of the power spectrum
/// of `series` (each a time series of equal length, mean removed, spectra averaged); `None` for
/// a flat signal. A plain DFT: series here are a few hundred steps.
pub fn dominant_frequency_hz(series: &[Vec<f64>]) -> Option<f64> {
    let len = series.first()?.len();
    if len < 4 {
        return None;
    }
    let mut power = vec![0.0; len / 2 + 1];
    for s in series {
        let mean = s.iter().sum::<f64>() / len as f64;
        for (k, p) in power.iter_mut().enumerate().skip(1) {
            let w = std::f64::consts::TAU * k as f64 / len as f64;
            let (re, im) = s.iter().enumerate().fold((0.0, 0.0), |(re, im), (t, v)| {
                (
                    re + (v - mean) * (w * t as f64).cos(),
                    im - (v - mean) * (w * t as f64).sin(),
                )
            });
            *p += re * re + im * im;
        }
    }
    let (k, p) =
        power.iter().enumerate().skip(1).fold(
            (0, 0.0),
            |best, (k, &p)| if p > best.1 { (k, p) } else { best },
        );
    (p > 0.0).then(|| 1000.0 * k as f64 / len as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_a_planted_direction() {
        // Samples along (3, 4, 0)/5 with a little noise along (0, 0, 1).
        let m = 200;
        let mut x = Vec::new();
        for i in 0..m {
            let a = (i as f64 * 0.37).sin() * 2.0;
            let e = (i as f64 * 1.91).cos() * 0.1;
            x.extend([0.6 * a, 0.8 * a, e]);
        }
        let p = pca(&x, m, 3).unwrap();
        assert!(
            p.explained[0] > 0.99 && (p.explained.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "{:?}",
            p.explained
        );
        assert_eq!((p.components_for(0.9), p.components_for(0.999999)), (1, 2));
        let a0 = (0.37f64 * 0.0).sin() * 2.0;
        assert!((p.scores[0][0].abs() - (a0 - 0.0).abs()).abs() < 0.2);
    }

    #[test]
    fn dominant_frequency_of_a_sine() {
        // 40 Hz at 1 ms steps over 250 steps: 10 cycles.
        let s: Vec<f64> = (0..250)
            .map(|t| (std::f64::consts::TAU * 40.0 * t as f64 / 1000.0).sin())
            .collect();
        assert_eq!(dominant_frequency_hz(&[s.clone(), s]), Some(40.0));
        assert_eq!(dominant_frequency_hz(&[vec![1.0; 100]]), None);
    }
}
