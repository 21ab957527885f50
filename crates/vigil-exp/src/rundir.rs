//! Run folders: `<output.dir>/<name>/` holds the resolved config and every result, each written
//! atomically so a killed run never leaves a torn file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use vigil_core::write_atomic;

use crate::config::LoadedConfig;

/// Name of the resolved config inside a run folder.
pub(crate) const RESOLVED: &str = "config.resolved.toml";

/// Creates the run folder for `loaded` (or `out` when given) and writes the resolved config.
pub(crate) fn prepare(loaded: &LoadedConfig, out: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match out {
        Some(d) => d.to_path_buf(),
        None => loaded.config.output.dir.join(loaded.name()),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating run folder {}", dir.display()))?;
    let resolved = loaded.resolved_toml()?;
    write_atomic(&dir.join(RESOLVED), resolved.as_bytes())
        .with_context(|| format!("writing {}", dir.join(RESOLVED).display()))?;
    Ok(dir)
}
