//! Resolving a model spec (a folder, or a Hugging Face id) to a local folder, with no network:
//! ids are looked up in the usual cache layout
//! `$HF_HUB_CACHE | $HF_HOME/hub | ~/.cache/huggingface/hub` / `models--Org--Name/snapshots/<rev>`.

use std::path::{Path, PathBuf};

use crate::error::{ModelError, Result};

/// The hub cache folder the environment points at.
pub fn hub_cache_dir() -> Option<PathBuf> {
    if let Some(p) =
        std::env::var_os("HF_HUB_CACHE").or_else(|| std::env::var_os("HUGGINGFACE_HUB_CACHE"))
    {
        return Some(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(home).join("hub"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
}

/// Resolves `spec`: an existing folder is used as is; `Org/Name` (optionally `@revision`) is
/// looked up in the local cache. The snapshot named by `refs/<revision or main>` wins; with no
/// ref file, a single snapshot is used; anything else is an error listing what was found.
pub fn resolve_model_dir(spec: &str) -> Result<PathBuf> {
    resolve_model_dir_in(spec, hub_cache_dir().as_deref())
}

/// [`resolve_model_dir`] with an explicit hub cache folder (`None`: ids cannot resolve).
pub fn resolve_model_dir_in(spec: &str, cache: Option<&Path>) -> Result<PathBuf> {
    let as_path = Path::new(spec);
    if as_path.is_dir() {
        return Ok(as_path.to_path_buf());
    }
    let not_found = |message: String| ModelError::NotFound {
        spec: spec.into(),
        message,
    };
    let (id, revision) = match spec.split_once('@') {
        Some((id, rev)) => (id, Some(rev)),
        None => (spec, None),
    };
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() != 2
        || parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(not_found(format!(
            "`{spec}` is not a folder and not an `Org/Name` model id"
        )));
    }
    let cache = cache
        .map(Path::to_path_buf)
        .ok_or_else(|| not_found("no HF cache folder (set HF_HOME or HF_HUB_CACHE)".into()))?;
    let repo = cache.join(format!("models--{}--{}", parts[0], parts[1]));
    let snapshots = repo.join("snapshots");
    if !snapshots.is_dir() {
        return Err(not_found(format!(
            "not a folder, and not in the local HF cache ({} does not exist)",
            snapshots.display()
        )));
    }
    let rev = revision.unwrap_or("main");
    let ref_file = repo.join("refs").join(rev);
    if let Ok(commit) = std::fs::read_to_string(&ref_file) {
        let dir = snapshots.join(commit.trim());
        if dir.is_dir() {
            return Ok(dir);
        }
        return Err(not_found(format!(
            "{} names snapshot {} which is missing",
            ref_file.display(),
            commit.trim()
        )));
    }
    if revision.is_some() && snapshots.join(rev).is_dir() {
        return Ok(snapshots.join(rev));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&snapshots)
        .map_err(|e| ModelError::io(&snapshots, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    match found.as_slice() {
        [one] if revision.is_none() => Ok(one.clone()),
        [] => Err(not_found(format!(
            "{} holds no snapshot",
            snapshots.display()
        ))),
        many => Err(not_found(format!(
            "no ref file {} and {} snapshots in {}; name one with `{id}@<revision>`",
            ref_file.display(),
            many.len(),
            snapshots.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_wins_and_bad_ids_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().to_str().unwrap();
        assert_eq!(resolve_model_dir(p).unwrap(), d.path());
        assert!(matches!(
            resolve_model_dir("no-such-dir"),
            Err(ModelError::NotFound { .. })
        ));
        assert!(matches!(
            resolve_model_dir("a/b/c"),
            Err(ModelError::NotFound { .. })
        ));
    }
}
