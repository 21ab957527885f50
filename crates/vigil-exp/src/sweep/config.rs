//! The `[sweep]` section: axes over any config key, local workers, the Slurm job's resources.
//!
//! ```toml
//! [sweep]
//! workers = 2                                   # local backend (default: number of cores)
//! [sweep.grid]                                  # every combination
//! "advantage.kind" = ["gdpo", "grpo", "dr_grpo"]
//! seed = [1, 2, 3]
//! [sweep.zip]                                   # walked in lockstep, crossed with the grid
//! "rewards.weights" = [{ attribution = 1.0, containment = 1.0 }, { attribution = 1.0, containment = 3.0 }]
//! [sweep.names]                                 # labels for values that are tables or arrays
//! "rewards.weights" = ["equal", "containment-x3"]
//! [sweep.slurm]                                 # `exp sweep --backend slurm`
//! partition = "gpu"
//! time = "04:00:00"
//! gres = "gpu:1"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, ensure};
use serde::{Deserialize, Serialize};

/// The `[sweep]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepConfig {
    /// Cartesian product: every combination of these values.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Lists walked in lockstep (all the same length), crossed with the grid.
    #[serde(default)]
    pub zip: BTreeMap<String, Vec<toml::Value>>,
    /// Parallel local workers (default: from the number of cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Display names of an axis's values in point labels (required for table or array values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, Vec<String>>,
    /// Slurm job-array settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmConfig>,
}

/// `[sweep.slurm]`: resources of each array task, written as `#SBATCH` lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlurmConfig {
    /// `--partition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// `--time` (e.g. `"04:00:00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `--cpus-per-task`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_per_task: Option<u32>,
    /// `--mem` (e.g. `"32G"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem: Option<String>,
    /// `--gres` (e.g. `"gpu:1"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gres: Option<String>,
    /// Most array tasks running at once (`--array=…%N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<usize>,
    /// More `sbatch` options, each starting with `--` (e.g. `"--account=proj"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
    /// Shell lines run before each task (e.g. `module load cuda`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<String>,
    /// The `exp` binary the tasks run (default: the one that wrote the script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<PathBuf>,
}

/// Keys a sweep may not vary: the point's name and folder are the sweep's to choose.
const RESERVED: [&str; 3] = ["name", "output", "sweep"];

impl SweepConfig {
    /// Checks what serde cannot: at least one axis, non-empty values, equal zip lengths,
    /// well-formed keys, names that fit their axes, sane Slurm options.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            !self.grid.is_empty() || !self.zip.is_empty(),
            "give at least one axis in [sweep.grid] or [sweep.zip]"
        );
        for (k, vs) in self.grid.iter().chain(&self.zip) {
            check_key(k)?;
            ensure!(!vs.is_empty(), "axis `{k}` has no values");
        }
        if let Some(k) = self.grid.keys().find(|k| self.zip.contains_key(*k)) {
            bail!("`{k}` is both a grid and a zip axis");
        }
        let lens: Vec<(&String, usize)> = self.zip.iter().map(|(k, v)| (k, v.len())).collect();
        if let Some(&(k0, n0)) = lens.first() {
            if let Some((k, n)) = lens.iter().find(|(_, n)| *n != n0) {
                bail!("zip axes must have equal lengths: `{k0}` has {n0} values, `{k}` has {n}");
            }
        }
        for (k, names) in &self.names {
            let Some(vs) = self.grid.get(k).or_else(|| self.zip.get(k)) else {
                bail!("[sweep.names] `{k}` is not an axis");
            };
            ensure!(
                names.len() == vs.len(),
                "[sweep.names] `{k}` has {} names for {} values",
                names.len(),
                vs.len()
            );
            ensure!(
                names.iter().all(|n| !n.is_empty()),
                "[sweep.names] `{k}` has an empty name"
            );
        }
        ensure!(self.workers != Some(0), "workers must be at least 1");
        if let Some(s) = &self.slurm {
            s.validate()?;
        }
        Ok(())
    }
}

fn check_key(k: &str) -> anyhow::Result<()> {
    let parts: Vec<&str> = k.split('.').collect();
    ensure!(
        parts.iter().all(|p| !p.trim().is_empty() && *p == p.trim()),
        "axis key `{k}` has an empty or padded segment"
    );
    ensure!(
        !RESERVED.contains(&parts[0]),
        "axis key `{k}`: `{}` is set by the sweep itself",
        parts[0]
    );
    Ok(())
}

impl SlurmConfig {
    fn validate(&self) -> anyhow::Result<()> {
        let texts = [&self.partition, &self.time, &self.mem, &self.gres]
            .into_iter()
            .flatten()
            .chain(&self.extra)
            .chain(&self.setup);
        for t in texts {
            ensure!(
                !t.contains('\n') && !t.contains('\r'),
                "[sweep.slurm] values must be single lines: {t:?}"
            );
        }
        for e in &self.extra {
            ensure!(
                e.starts_with("--"),
                "[sweep.slurm] extra options start with `--`: {e:?}"
            );
        }
        ensure!(
            self.max_parallel != Some(0),
            "[sweep.slurm] max_parallel must be at least 1"
        );
        ensure!(
            self.cpus_per_task != Some(0),
            "[sweep.slurm] cpus_per_task must be at least 1"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(s: &str) -> SweepConfig {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(cfg("grid = { seed = [1, 2] }").validate().is_ok());
        let e = |s: &str| cfg(s).validate().unwrap_err().to_string();
        assert!(e("").contains("at least one axis"));
        assert!(e("grid = { seed = [] }").contains("`seed` has no values"));
        assert!(e("grid = { seed = [1] }\nzip = { seed = [2] }").contains("both a grid and a zip"));
        assert!(e("zip = { a = [1, 2], b = [1] }").contains("equal lengths"));
        assert!(e("grid = { \"name\" = [\"x\"] }").contains("set by the sweep"));
        assert!(e("grid = { \"a..b\" = [1] }").contains("empty or padded"));
        assert!(
            e("grid = { a = [1, 2] }\nnames = { a = [\"x\"] }").contains("1 names for 2 values")
        );
        assert!(e("grid = { a = [1] }\nnames = { b = [\"x\"] }").contains("not an axis"));
        assert!(e("grid = { a = [1] }\nworkers = 0").contains("workers"));
        assert!(e("grid = { a = [1] }\n[slurm]\nextra = [\"-A x\"]").contains("start with `--`"));
        assert!(
            toml::from_str::<SweepConfig>("grid = { a = [1] }\nbogus = 1")
                .unwrap_err()
                .to_string()
                .contains("unknown field `bogus`")
        );
    }
}
