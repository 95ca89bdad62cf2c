//! The command line: `plan` listings, bad sweep files (exit 2, located message, nothing
//! written) and unwritable output.

use crate::util::{dalesweep, dalesweep_ok, scratch, sweep_file};

const GOOD: &str = "[sweep]\nname = \"cli\"\n\n[grid]\ntask = [\"and\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"normal\"]\nn = [6]\nexc_frac = [0.5]\nseed = 1\n\n[train]\nepochs = 0\n";

#[test]
fn plan_lists_the_default_sweep_in_grid_order() {
    let out = dalesweep_ok(&["plan"], 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "24 runs in sweep default");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        [
            "run_id",
            "task",
            "constraint",
            "init",
            "n",
            "exc_frac",
            "seed"
        ]
    );
    assert_eq!(lines.len(), 26);
    let coords: Vec<String> = lines[2..]
        .iter()
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        coords[..3],
        [
            "and dale orthogonal 50 0.5 0",
            "and dale orthogonal 50 0.5 1",
            "and dale orthogonal 50 0.8 0"
        ]
    );
    assert_eq!(coords[16], "and none orthogonal 50 none 0");
    assert_eq!(coords[23], "and none normal 100 none 1");
}

#[test]
fn bad_sweep_files_exit_2_with_location_and_write_nothing() {
    let dir = scratch("bad_sweeps");
    let cases = [
        ("unknown_key.toml", GOOD.replace("epochs = 0", "epochs = 0\nlearning_rate = 0.1"), "unknown_key.toml:14:1: train.learning_rate: unknown field `learning_rate`"),
        ("wrong_type.toml", GOOD.replace("n = [6]", "n = [\"six\"]"), "wrong_type.toml:8:6: grid.n: invalid type: string \"six\", expected i64"),
        ("exc_frac.toml", GOOD.replace("[0.5]", "[1.3]"), "exc_frac.toml:9:13: grid.exc_frac[0] = 1.3 is out of range: the fraction of excitatory units must be in (0, 1), exclusive"),
        ("empty_axis.toml", GOOD.replace("init = [\"normal\"]", "init = []"), "empty_axis.toml:7:8: grid.init = [] must list at least one value"),
        ("one_unit.toml", GOOD.replace("n = [6]", "n = [1]"), "one_unit.toml:8:6: grid.n[0] = 1 must be a number of units in [2, 20000]"),
        ("not_toml.toml", GOOD.replace("[grid]", "[grid"), "not_toml.toml:4:6:"),
    ];
    for (name, text, want) in cases {
        let path = sweep_file(&dir, name, &text);
        let out_dir = dir.join(format!("out-{name}"));
        for args in [
            vec!["run", path.as_str(), "--out", out_dir.to_str().unwrap()],
            vec!["plan", path.as_str()],
        ] {
            let out = dalesweep(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
            assert!(
                stderr.contains(want),
                "{name}: stderr\n{stderr}\nlacks\n{want}"
            );
            assert!(out.stdout.is_empty(), "{name}: printed a plan");
        }
        assert!(!out_dir.exists(), "{name}: created {}", out_dir.display());
    }
    let missing = dalesweep(&["plan", "no/such/sweep.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("no/such/sweep.toml: cannot read the sweep file"));
}

#[test]
fn unwritable_output_is_fatal() {
    let dir = scratch("unwritable");
    let path = sweep_file(&dir, "s.toml", GOOD);
    let blocker = dir.join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = dalesweep(&["run", &path, "--out", blocker.join("out").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("choose a writable --out"));
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a folder");
}

#[test]
fn help_documents_exit_codes() {
    let out = dalesweep_ok(&["run", "--help"], 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("0  every run ended ok") && text.contains("2  fatal"),
        "{text}"
    );
}
