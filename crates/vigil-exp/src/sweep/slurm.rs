//! The Slurm backend: one `sbatch` job-array script whose task `i` runs the `i`-th unfinished
//! point with `exp sweep --run-point DIR` (the same resume and record logic as a local worker),
//! submitted with `sbatch` when it is on PATH. `exp sweep --collect` gathers the results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use vigil_core::{write_atomic, write_json_atomic};

use super::config::SlurmConfig;
use super::plan::Planned;

/// Folder of the script, the task logs and the submission record, inside the sweep folder.
pub(crate) const SLURM_DIR: &str = "slurm";
/// The job-array script.
pub(crate) const SCRIPT: &str = "array.sbatch";

/// Single-quotes `s` for bash.
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// The job-array script for `todo` (absolute paths throughout, so it runs from anywhere).
pub(crate) fn script(
    name: &str,
    sweep_dir: &Path,
    todo: &[&Planned],
    cfg: &SlurmConfig,
    exp: &Path,
    config: &Path,
) -> anyhow::Result<String> {
    anyhow::ensure!(!todo.is_empty(), "no unfinished point to submit");
    let sweep_dir = absolute(sweep_dir)?;
    let cwd = std::env::current_dir()?;
    let exp = absolute(cfg.exp.as_deref().unwrap_or(exp))?;
    let mut s = String::new();
    let _ = writeln!(s, "#!/usr/bin/env bash");
    let _ = writeln!(
        s,
        "# Written by `exp sweep --backend slurm` for sweep `{name}` ({} unfinished points).",
        todo.len()
    );
    let _ = writeln!(
        s,
        "# Submit: sbatch {}",
        quote(&sweep_dir.join(SLURM_DIR).join(SCRIPT).display().to_string())
    );
    let _ = writeln!(
        s,
        "# Gather: exp sweep {} --collect",
        quote(&config.display().to_string())
    );
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let _ = writeln!(s, "#SBATCH --job-name=vigil-{name}");
    let throttle = cfg
        .max_parallel
        .map(|m| format!("%{m}"))
        .unwrap_or_default();
    let _ = writeln!(s, "#SBATCH --array=0-{}{throttle}", todo.len() - 1);
    let _ = writeln!(
        s,
        "#SBATCH --output={}",
        sweep_dir.join(SLURM_DIR).join("%A_%a.log").display()
    );
    let _ = writeln!(s, "#SBATCH --chdir={}", cwd.display());
    let opts = [
        ("partition", &cfg.partition),
        ("time", &cfg.time),
        ("mem", &cfg.mem),
        ("gres", &cfg.gres),
    ];
    for (k, v) in opts {
        if let Some(v) = v {
            let _ = writeln!(s, "#SBATCH --{k}={v}");
        }
    }
    if let Some(c) = cfg.cpus_per_task {
        let _ = writeln!(s, "#SBATCH --cpus-per-task={c}");
    }
    for e in &cfg.extra {
        let _ = writeln!(s, "#SBATCH {e}");
    }
    let _ = writeln!(s, "set -euo pipefail");
    let _ = writeln!(s, "cd {}", quote(&cwd.display().to_string()));
    for line in &cfg.setup {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "points=(");
    for p in todo {
        let _ = writeln!(s, "  {}", quote(&absolute(&p.dir)?.display().to_string()));
    }
    let _ = writeln!(s, ")");
    let _ = writeln!(
        s,
        ": \"${{SLURM_ARRAY_TASK_ID:?this script is a Slurm job array: submit it with sbatch}}\""
    );
    let _ = writeln!(
        s,
        "exec {} sweep --run-point \"${{points[$SLURM_ARRAY_TASK_ID]}}\"",
        quote(&exp.display().to_string())
    );
    Ok(s)
}

/// A submission, appended to `slurm/submitted.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Submission {
    job_id: String,
    points: Vec<String>,
}

/// `sbatch` when it is on PATH.
pub(crate) fn sbatch() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("sbatch"))
        .find(|p| p.is_file())
}

/// Writes the script; submits it unless `submit` is false or `sbatch` is missing. Returns the
/// script path and the job id.
pub(crate) fn write_and_submit(
    name: &str,
    sweep_dir: &Path,
    todo: &[&Planned],
    cfg: &SlurmConfig,
    exp: &Path,
    config: &Path,
    submit: bool,
) -> anyhow::Result<(PathBuf, Option<String>)> {
    let text = script(name, sweep_dir, todo, cfg, exp, config)?;
    let dir = sweep_dir.join(SLURM_DIR);
    let path = dir.join(SCRIPT);
    write_atomic(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    if !submit {
        return Ok((path, None));
    }
    let Some(sbatch) = sbatch() else {
        return Ok((path, None));
    };
    let out = Command::new(&sbatch)
        .arg("--parsable")
        .arg(&path)
        .output()
        .with_context(|| format!("running {}", sbatch.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "sbatch {} failed ({}): {}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let job = String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let rec = dir.join("submitted.json");
    let mut all: Vec<Submission> = std::fs::read_to_string(&rec)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    all.push(Submission {
        job_id: job.clone(),
        points: todo.iter().map(|p| p.point.folder.clone()).collect(),
    });
    write_json_atomic(&rec, &all)?;
    Ok((path, Some(job)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
