//! The sbatch script of a SLURM job array that runs a sweep as shards: array task `K` of `N`
//! runs `dalesweep run SWEEP --out DIR --shard K/N` with as many worker threads as it was given
//! cores. Text only; the command line writes it.

use std::path::Path;

/// Default largest array: SLURM's default `MaxArraySize` is 1001 (indices 0..1000).
pub const DEFAULT_MAX_ARRAY: u64 = 1000;

/// What the script needs.
#[derive(Clone, Debug)]
pub struct JobArray<'a> {
    pub name: &'a str,
    pub exe: &'a Path,
    pub sweep: &'a Path,
    pub out: &'a Path,
    pub shards: u64,
    pub cpus_per_task: u32,
    pub partition: Option<&'a str>,
    pub time: Option<&'a str>,
    pub retry_failed: bool,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The sbatch script. Shard count is passed explicitly (resubmitting a subset with
/// `--array=1,3` changes `SLURM_ARRAY_TASK_COUNT` but not the shard a task must run).
pub fn script(job: &JobArray) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s += &format!("#SBATCH --job-name=dalesweep-{}\n", job.name);
    s += &format!("#SBATCH --array=0-{}\n", job.shards - 1);
    s += &format!("#SBATCH --cpus-per-task={}\n", job.cpus_per_task);
    s += "#SBATCH --ntasks=1\n";
    s += &format!("#SBATCH --output={}/logs/%x-%A_%a.log\n", job.out.display());
    if let Some(p) = job.partition {
        s += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(t) = job.time {
        s += &format!("#SBATCH --time={t}\n");
    }
    s += "# Resubmit single shards with: sbatch --array=K,L this-script\n";
    s += "set -euo pipefail\n";
    s += "export OPENBLAS_NUM_THREADS=1\n";
    s += &format!(
        "exec {} run {} --out {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"{}\n",
        quote(&job.exe.display().to_string()),
        quote(&job.sweep.display().to_string()),
        quote(&job.out.display().to_string()),
        job.shards,
        if job.retry_failed { " --retry-failed" } else { "" }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_pinned() {
        let job = JobArray {
            name: "paper",
            exe: Path::new("/opt/bin/dalesweep"),
            sweep: Path::new("/home/u/paper.toml"),
            out: Path::new("/scratch/u/paper"),
            shards: 4,
            cpus_per_task: 8,
            partition: Some("cpu"),
            time: Some("02:00:00"),
            retry_failed: false,
        };
        let want = "#!/bin/bash
#SBATCH --job-name=dalesweep-paper
#SBATCH --array=0-3
#SBATCH --cpus-per-task=8
#SBATCH --ntasks=1
#SBATCH --output=/scratch/u/paper/logs/%x-%A_%a.log
#SBATCH --partition=cpu
#SBATCH --time=02:00:00
# Resubmit single shards with: sbatch --array=K,L this-script
set -euo pipefail
export OPENBLAS_NUM_THREADS=1
exec '/opt/bin/dalesweep' run '/home/u/paper.toml' --out '/scratch/u/paper' --shard \"${SLURM_ARRAY_TASK_ID}/4\" --threads \"${SLURM_CPUS_PER_TASK:-1}\"
";
        assert_eq!(script(&job), want);
    }
}
