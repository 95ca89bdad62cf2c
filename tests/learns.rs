//! Training learns: every task of `sweeps/learns.toml`, with and without Dale's law, reaches a
//! held-out accuracy of at least 0.95.

use crate::util::{dalesweep_ok, field, root, rows, scratch};

#[test]
fn every_task_is_learned_with_and_without_dale() {
    let out = scratch("learns").join("out");
    let sweep = root().join("sweeps/learns.toml");
    dalesweep_ok(
        &[
            "run",
            sweep.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let runs = rows(&out.join("runs"), &[]);
    assert_eq!(runs.len(), 8);
    let report: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{} {} accuracy {}",
                field(r, "task"),
                field(r, "constraint"),
                field(r, "accuracy")
            )
        })
        .collect();
    for r in &runs {
        let accuracy: f64 = field(r, "accuracy").parse().unwrap();
        assert!(
            accuracy >= 0.95,
            "{} {} reached {accuracy}:\n{}",
            field(r, "task"),
            field(r, "constraint"),
            report.join("\n")
        );
    }
}
