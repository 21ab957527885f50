//! Resolving a model argument to a local folder: a path, or a Hugging Face model id looked up in
//! the local HF cache. Never touches the network (DEVELOPERS.md rule 5), so a model that was not
//! downloaded beforehand is a clear error rather than a silent fetch.

use std::path::{Path, PathBuf};

use crate::error::{Result, TokenizerError};

/// Turns `spec` into a folder holding HF files (`tokenizer.json`, `config.json`, ...).
///
/// `spec` is used as a path when such a folder exists; otherwise, when it looks like a model id
/// (`Org/Name`, optionally `Org/Name@revision`), the folder is the cached snapshot
/// `<hub>/models--Org--Name/snapshots/<commit>/`, where `<hub>` is `$HF_HUB_CACHE`, else
/// `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, and `<commit>` comes from `refs/<revision>`
/// (default `main`), or is the only snapshot present.
pub fn resolve_model_dir(spec: &str) -> Result<PathBuf> {
    let path = Path::new(spec);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let resolve_err = |reason: String| TokenizerError::Resolve {
        spec: spec.to_string(),
        reason,
    };
    let Some((repo, revision)) = parse_model_id(spec) else {
        return Err(resolve_err(
            "no such folder, and not a Hugging Face model id of the form `Org/Name`".into(),
        ));
    };
    let hub = hub_cache_dir().ok_or_else(|| {
        resolve_err("no such folder, and neither $HF_HUB_CACHE, $HF_HOME nor $HOME is set".into())
    })?;
    resolve_in_cache(&hub, repo, revision).map_err(resolve_err)
}

/// The HF hub cache folder, following huggingface_hub's environment variables.
pub fn hub_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("HF_HUB_CACHE")
        .or_else(|| var("HF_HOME").map(|h| h.join("hub")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("huggingface").join("hub")))
}

/// Splits `Org/Name[@rev]`; `None` for anything that cannot be a hub id (absolute or relative
/// paths, more than one `/`, empty parts).
fn parse_model_id(spec: &str) -> Option<(&str, Option<&str>)> {
    let (repo, revision) = match spec.split_once('@') {
        Some((repo, rev)) if !rev.is_empty() => (repo, Some(rev)),
        Some(_) => return None,
        None => (spec, None),
    };
    let (org, name) = repo.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    (ok(org) && ok(name)).then_some((repo, revision))
}

/// Finds the snapshot folder of `repo` in `hub`; the error string says what was looked at.
fn resolve_in_cache(hub: &Path, repo: &str, revision: Option<&str>) -> Result<PathBuf, String> {
    let model = hub.join(format!("models--{}", repo.replace('/', "--")));
    let snapshots = model.join("snapshots");
    if !snapshots.is_dir() {
        return Err(format!(
            "no such folder, and {} is not in the local Hugging Face cache ({} missing; \
             downloads are never made at run time)",
            repo,
            snapshots.display()
        ));
    }
    let rev = revision.unwrap_or("main");
    let ref_file = model.join("refs").join(rev);
    let commit = match std::fs::read_to_string(&ref_file) {
        Ok(s) => s.trim().to_string(),
        // A revision may also be given as the commit hash itself.
        Err(_) if snapshots.join(rev).is_dir() => rev.to_string(),
        Err(_) if revision.is_none() => only_snapshot(&snapshots)?,
        Err(e) => return Err(format!("{}: {e}", ref_file.display())),
    };
    let dir = snapshots.join(&commit);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "{} names commit {commit}, but {} is missing",
            ref_file.display(),
            dir.display()
        ))
    }
}

fn only_snapshot(snapshots: &Path) -> Result<String, String> {
    let entries =
        std::fs::read_dir(snapshots).map_err(|e| format!("{}: {e}", snapshots.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("{} holds no snapshot", snapshots.display())),
        many => Err(format!(
            "no refs/main and several snapshots in {} ({}); name one with `@<commit>`",
            snapshots.display(),
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_told_apart_from_paths() {
        assert_eq!(
            parse_model_id("Qwen/Qwen3-4B"),
            Some(("Qwen/Qwen3-4B", None))
        );
        assert_eq!(
            parse_model_id("Qwen/Qwen3-4B@abc"),
            Some(("Qwen/Qwen3-4B", Some("abc")))
        );
        for not_id in [
            "/abs/path",
            "./rel",
            "a/b/c",
            "Qwen3",
            "a/",
            "../x",
            "a/b@",
            "a b/c",
        ] {
            assert_eq!(parse_model_id(not_id), None, "{not_id}");
        }
    }

    #[test]
    fn resolves_refs_main_and_single_snapshot() {
        let hub = tempfile::tempdir().unwrap();
        let model = hub.path().join("models--Org--Tiny");
        std::fs::create_dir_all(model.join("snapshots/c0ffee")).unwrap();
        // No refs/main: the single snapshot is used.
        let dir = resolve_in_cache(hub.path(), "Org/Tiny", None).unwrap();
        assert_eq!(dir, model.join("snapshots/c0ffee"));
        // Two snapshots and no ref: ambiguous.
        std::fs::create_dir_all(model.join("snapshots/beef")).unwrap();
        let err = resolve_in_cache(hub.path(), "Org/Tiny", None).unwrap_err();
        assert!(err.contains("several snapshots"), "{err}");
        // refs/main decides.
        std::fs::create_dir_all(model.join("refs")).unwrap();
        std::fs::write(model.join("refs/main"), "beef\n").unwrap();
        assert_eq!(
            resolve_in_cache(hub.path(), "Org/Tiny", None).unwrap(),
            model.join("snapshots/beef")
        );
        // An explicit commit.
        let dir = resolve_in_cache(hub.path(), "Org/Tiny", Some("c0ffee")).unwrap();
        assert_eq!(dir, model.join("snapshots/c0ffee"));
        // Unknown model.
        let err = resolve_in_cache(hub.path(), "Org/Other", None).unwrap_err();
        assert!(err.contains("not in the local Hugging Face cache"), "{err}");
    }
}
