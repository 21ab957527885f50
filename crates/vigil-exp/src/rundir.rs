//! Run folders: `<output.dir>/<name>/` holds the resolved config and every result, each written
//! atomically so a killed run never leaves a torn file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use vigil_core::{write_atomic, write_json_atomic};
use vigil_schema::{RunEnv, RunInfo, files};

use crate::config::LoadedConfig;
use crate::wiring::Built;

/// Name of the resolved config inside a run folder.
pub(crate) const RESOLVED: &str = files::RESOLVED_CONFIG;

/// Creates the run folder for `loaded` (or `out` when given) and writes the resolved config and
/// `run.json`, the typed record reports read.
pub(crate) fn prepare(
    loaded: &LoadedConfig,
    built: &Built,
    out: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let dir = match out {
        Some(d) => d.to_path_buf(),
        None => loaded.config.output.dir.join(loaded.name()),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating run folder {}", dir.display()))?;
    let resolved = loaded.resolved_toml()?;
    write_atomic(&dir.join(RESOLVED), resolved.as_bytes())
        .with_context(|| format!("writing {}", dir.join(RESOLVED).display()))?;
    let env = built.env.as_dyn();
    let info = RunInfo {
        name: loaded.name(),
        seed: loaded.config.seed,
        env: RunEnv {
            name: env.name().to_string(),
            components: env.reward_components(),
            label_classes: env.label_classes(),
            metrics: env.metrics(),
        },
        rewards: loaded.config.rewards.clone(),
        baselines: loaded.config.eval.baselines.clone(),
    };
    let path = dir.join(files::RUN_INFO);
    write_json_atomic(&path, &info).with_context(|| format!("writing {}", path.display()))?;
    Ok(dir)
}
