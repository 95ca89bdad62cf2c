//! Sign constraints on the weights: which units are inhibitory, and the projection applied
//! after every optimizer update that sets each wrong-signed weight to exactly 0.
//!
//! Convention: `W_rec[i, j]` is the weight from unit `i` to unit `j` (row-vector model). The
//! first `n_inh = round(N * (1 - exc_frac))` units are inhibitory (rounding half away from zero,
//! computed in f64), the rest excitatory, as in the reference code.

/// The grid's `constraint` axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constraint {
    /// Dale's law proper: all outgoing weights of a unit (row `i` of `W_rec`) share its sign.
    Dale,
    /// The reference code's convention: all incoming weights of a unit (column `j`) share its sign.
    DaleIncoming,
    /// The unconstrained baseline.
    None,
}

impl Constraint {
    /// All values, in the order of the grid's documentation.
    pub const ALL: [Constraint; 3] = [Constraint::Dale, Constraint::DaleIncoming, Constraint::None];

    /// The name used in sweep files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Constraint::Dale => "dale",
            Constraint::DaleIncoming => "dale_incoming",
            Constraint::None => "none",
        }
    }

    /// Parses a sweep-file name.
    pub fn from_name(name: &str) -> Option<Constraint> {
        Constraint::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the constraint has an E/I partition (and so uses `exc_frac`).
    pub fn is_constrained(self) -> bool {
        self != Constraint::None
    }
}

/// The split of `n` units into inhibitory (first) and excitatory (rest) units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub n: usize,
    pub n_inh: usize,
}

impl Partition {
    /// `n_inh = round(n * (1 - exc_frac))`, half away from zero.
    pub fn new(n: usize, exc_frac: f64) -> Partition {
        let n_inh = ((n as f64) * (1.0 - exc_frac)).round() as usize;
        Partition {
            n,
            n_inh: n_inh.min(n),
        }
    }

    /// Whether unit `i` is inhibitory.
    pub fn is_inhibitory(&self, i: usize) -> bool {
        i < self.n_inh
    }
}

/// A constraint bound to its partition: the projection the optimizer applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignRule {
    pub constraint: Constraint,
    pub partition: Option<Partition>,
}

impl SignRule {
    /// The rule of a run; `exc_frac` is ignored (and may be absent) for `Constraint::None`.
    pub fn new(constraint: Constraint, n: usize, exc_frac: Option<f64>) -> SignRule {
        let partition = match constraint {
            Constraint::None => None,
            _ => Some(Partition::new(
                n,
                exc_frac.expect("a constrained run has an exc_frac"),
            )),
        };
        SignRule {
            constraint,
            partition,
        }
    }

    /// Projects `W_in` (2 x N, to >= 0) and `W_rec` (N x N) in place; a no-op without a constraint.
    pub fn project<T: num_traits::Float>(&self, w_in: &mut [T], w_rec: &mut [T]) {
        let Some(p) = self.partition else { return };
        let n = p.n;
        let zero = T::zero();
        for w in w_in.iter_mut() {
            if *w < zero {
                *w = zero;
            }
        }
        for (i, row) in w_rec.chunks_exact_mut(n).enumerate() {
            for (j, w) in row.iter_mut().enumerate() {
                let unit = if self.constraint == Constraint::Dale {
                    i
                } else {
                    j
                };
                let wrong = if p.is_inhibitory(unit) {
                    *w > zero
                } else {
                    *w < zero
                };
                if wrong {
                    *w = zero;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_rounds_half_away_from_zero() {
        assert_eq!(Partition::new(100, 0.8).n_inh, 20);
        assert_eq!(Partition::new(5, 0.5).n_inh, 3);
        assert_eq!(Partition::new(10, 0.75).n_inh, 3);
        assert_eq!(Partition::new(7, 0.99).n_inh, 0);
    }

    fn sample(n: usize) -> (Vec<f64>, Vec<f64>) {
        let w_in = (0..2 * n).map(|k| (k as f64 * 0.7).sin()).collect();
        let w_rec = (0..n * n).map(|k| (k as f64 * 1.3 + 0.2).cos()).collect();
        (w_in, w_rec)
    }

    #[test]
    fn projection_signs_rows_or_columns_and_is_idempotent() {
        let n = 5; // exc_frac 0.6 -> units 0, 1 inhibitory
        for constraint in [Constraint::Dale, Constraint::DaleIncoming] {
            let rule = SignRule::new(constraint, n, Some(0.6));
            let (in0, rec0) = sample(n);
            let (mut w_in, mut w_rec) = (in0.clone(), rec0.clone());
            rule.project(&mut w_in, &mut w_rec);
            assert!(w_in
                .iter()
                .zip(&in0)
                .all(|(w, w0)| *w == if *w0 < 0.0 { 0.0 } else { *w0 }));
            for i in 0..n {
                for j in 0..n {
                    let unit = if constraint == Constraint::Dale { i } else { j };
                    let (w, w0) = (w_rec[i * n + j], rec0[i * n + j]);
                    let right = if unit < 2 { w0 <= 0.0 } else { w0 >= 0.0 };
                    assert_eq!(w, if right { w0 } else { 0.0 }, "{constraint:?} ({i},{j})");
                }
            }
            let (once_in, once_rec) = (w_in.clone(), w_rec.clone());
            rule.project(&mut w_in, &mut w_rec);
            assert_eq!((w_in, w_rec), (once_in, once_rec));
        }
    }

    #[test]
    fn no_constraint_leaves_everything() {
        let (mut w_in, mut w_rec) = sample(4);
        let before = (w_in.clone(), w_rec.clone());
        SignRule::new(Constraint::None, 4, None).project(&mut w_in, &mut w_rec);
        assert_eq!((w_in, w_rec), before);
    }
}
