//! What `[trainer.sft]` needs besides the trainer itself: the teacher policy it names, and the
//! key of the warm-start it may share with other runs.

use std::path::Path;

use anyhow::Context;
use vigil_core::{Policy, SeedStream};
use vigil_trainer::TrainerConfig;
use vigil_trainer::sft_cache::SftCache;

use crate::config::{LoadedConfig, POINT_DIR};
use crate::wiring::Built;

/// The scripted policy `[trainer.sft] teacher` names, if any.
pub(crate) fn teacher(
    t: &TrainerConfig,
    loaded: &LoadedConfig,
    built: &Built,
) -> anyhow::Result<Option<Box<dyn Policy>>> {
    let Some(name) = t.sft.as_ref().and_then(|s| s.teacher.as_ref()) else {
        return Ok(None);
    };
    let seed = SeedStream::new(loaded.config.seed).seed("sft-teacher");
    Ok(Some(
        built.env.baseline(name, seed).context("[trainer.sft] teacher")?,
    ))
}

/// Top-level sections the warm-start does not read.
const NOT_SFT: [&str; 6] = ["name", "advantage", "rewards", "eval", "sweep", "output"];
/// `[trainer]` keys only RL reads (everything else, `[trainer.sft]` included, is in the key).
const RL_ONLY: [&str; 15] = [
    "steps",
    "curriculum",
    "group_size",
    "batch_prompts",
    "epochs",
    "grad_accum",
    "lr",
    "warmup_steps",
    "schedule",
    "min_lr_ratio",
    "loss",
    "dynamic_sampling",
    "rollout",
    "checkpoint_every",
    "keep_checkpoints",
];
/// `[policy]` keys only sampling reads.
const SAMPLING_ONLY: [&str; 5] = ["max_new_tokens", "temperature", "top_p", "top_k", "batch_size"];

/// The shared warm-start of `[trainer.sft] cache` for a run in `dir`: an entry named by the
/// SHA-256 of the resolved config without what SFT cannot depend on, plus the CPU thread
/// count. Leaving a key in when it does not matter only costs a miss; so the key drops only
/// what is known not to matter.
pub(crate) fn cache(
    t: &TrainerConfig,
    loaded: &LoadedConfig,
    dir: &Path,
    threads: usize,
) -> anyhow::Result<Option<SftCache>> {
    let Some(root) = t.sft.as_ref().and_then(|s| s.cache.as_ref()) else {
        return Ok(None);
    };
    let mut doc: toml::Table = toml::from_str(&loaded.resolved_toml()?)?;
    for k in NOT_SFT {
        doc.remove(k);
    }
    let mut section = |name: &str, keys: &[&str]| {
        if let Some(toml::Value::Table(s)) = doc.get_mut(name) {
            for k in keys {
                s.remove(*k);
            }
        }
    };
    section("policy", &SAMPLING_ONLY);
    section("trainer", &RL_ONLY);
    if let Some(toml::Value::Table(sft)) = doc
        .get_mut("trainer")
        .and_then(|t| t.as_table_mut())
        .and_then(|t| t.get_mut("sft"))
    {
        sft.remove("cache");
    }
    // A model that [trainer.init] builds inside the run folder is the same model in every run.
    let body = toml::to_string(&doc)?.replace(&dir.display().to_string(), POINT_DIR);
    let key = format!("threads = {threads}\n{body}");
    let hash = crate::sweep::plan::sha256(&key);
    Ok(Some(SftCache {
        entry: root.join(&hash[..16]),
        key,
    }))
}
