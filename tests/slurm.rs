//! A real one-node SLURM cluster (Debian's slurmctld, slurmd and munge, started by
//! `scripts/slurm-cluster.sh` and stopped when the test ends): the script `dalesweep slurm`
//! writes runs as a 4-task array; one task is cancelled mid-way, `status` names it, and
//! resubmitting that index completes the dataset.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::{dalesweep_ok, field, plan_count, root, rows, scratch, sweep_file};

const SWEEP: &str = "[sweep]\nname = \"array\"\nseed = 11\n\n[grid]\ntask = [\"and\", \"xor\"]\nconstraint = [\"dale\", \"none\"]\ninit = [\"orthogonal\", \"normal\"]\nn = [32, 48, 64]\nexc_frac = [0.5, 0.8]\nseed = 1\n\n[train]\nepochs = 8\ntrials = 640\ntest_trials = 64\n";

/// The cluster's daemons, stopped on drop (also when the test panics).
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let out = Command::new(root().join("scripts/slurm-cluster.sh"))
            .arg("start")
            .arg(dir)
            .output()
            .unwrap();
        let conf = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let cluster = Cluster {
            dir: dir.to_path_buf(),
            conf,
        };
        assert!(
            out.status.success(),
            "cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = Command::new(program)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn submit(&self, args: &[&str]) -> String {
        let out = self.run("sbatch", &[&["--parsable"], args].concat());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// The states of a job's (or array task's) entries in the queue.
    fn states(&self, job: &str) -> Vec<String> {
        let out = Command::new("squeue")
            .args(["-h", "-j", job, "-o", "%T"])
            .env("SLURM_CONF", &self.conf)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn wait_until(&self, what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "timed out waiting for {what}; logs in {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/slurm-cluster.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// Why this machine cannot run the cluster, if it cannot.
fn missing_slurm() -> Option<String> {
    for tool in [
        "/usr/sbin/slurmctld",
        "/usr/sbin/slurmd",
        "/usr/sbin/munged",
        "/usr/bin/sbatch",
        "/usr/bin/squeue",
        "/usr/bin/scancel",
    ] {
        if !Path::new(tool).exists() {
            return Some(format!(
                "{tool} is missing (apt-get install slurmctld slurmd slurm-client munge)"
            ));
        }
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    (uid.as_deref() != Some("0")).then(|| "the SLURM daemons need root".to_string())
}

#[test]
fn job_array_completes_and_a_cancelled_task_resubmitted_by_index_finishes_it() {
    if let Some(why) = missing_slurm() {
        if std::env::var_os("DALESWEEP_SKIP_SLURM").is_some() {
            eprintln!("SKIPPED the SLURM test: {why}");
            return;
        }
        panic!("cannot run the SLURM test: {why}. Set DALESWEEP_SKIP_SLURM=1 to skip it on a machine without SLURM.");
    }
    let dir = scratch("slurm");
    let sweep = sweep_file(&dir, "array.toml", SWEEP);
    let out = dir.join("out");
    let cluster = Cluster::start(&dir.join("cluster"));
    let written = dalesweep_ok(
        &[
            "slurm",
            &sweep,
            "--out",
            out.to_str().unwrap(),
            "--array",
            "4",
        ],
        0,
    );
    let script = String::from_utf8(written.stdout)
        .unwrap()
        .trim()
        .to_string();
    let job = cluster.submit(&[&script]);
    let task1 = format!("{job}_1");
    cluster.wait_until("array task 1 to run", || {
        cluster.states(&task1) == ["RUNNING"]
    });
    std::thread::sleep(Duration::from_millis(1500));
    cluster.run("scancel", &[&task1]);
    cluster.wait_until("the array to finish", || cluster.states(&job).is_empty());

    let status = dalesweep_ok(
        &[
            "status",
            &sweep,
            "--out",
            out.to_str().unwrap(),
            "--shards",
            "4",
        ],
        1,
    );
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(
        text.contains("resubmit (missing runs): --array=1\n"),
        "task 1 was cancelled mid-way:\n{text}"
    );
    let again = cluster.submit(&["--array=1", &script]);
    cluster.wait_until("the resubmitted task", || cluster.states(&again).is_empty());

    dalesweep_ok(
        &[
            "status",
            &sweep,
            "--out",
            out.to_str().unwrap(),
            "--shards",
            "4",
        ],
        0,
    );
    let count = plan_count(&sweep);
    let runs = rows(&out.join("runs"), &[]);
    let ids: BTreeSet<&str> = runs.iter().map(|r| field(r, "run_id")).collect();
    assert_eq!((runs.len(), ids.len()), (count, count));
    assert!(runs.iter().all(|r| field(r, "status") == "ok"));
    let logs = std::fs::read_dir(out.join("logs")).unwrap().count();
    assert_eq!(
        logs, 5,
        "one log per array task, and one for the resubmission"
    );
}
