//! Seeded, balanced, disjoint splits in the style of SOC Narrative's `train_balanced_512`
//! (256 + 256) and `dev_balanced_50` (25 + 25).
//!
//! Every candidate window gets a priority `derive_seed(seed, "cert-split", user-day)`; per
//! class the builder keeps the lowest priorities in a bounded heap while windows stream by,
//! so selection is independent of read order, needs memory only for the kept windows, and
//! the same seed gives the same splits. The eval set takes each class's lowest priorities,
//! the train set the next ones, so the two are disjoint by user-day by construction (and
//! checked). Files are written in priority order, which interleaves the classes (the raw dev
//! split SOC Narrative started from had "the first 100 all malicious").

use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use vigil_core::derive_seed;

use crate::error::CertError;
use crate::labels::RiskLabel;
use crate::record::{Window, write_jsonl};
use crate::types::{Day, UserId};
use crate::window::WindowView;

/// `[env.split]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// Seed of the selection.
    pub seed: u64,
    /// Classes to include, each balanced to the same count.
    pub classes: Vec<RiskLabel>,
    /// Windows per class in the train split.
    pub train_per_class: usize,
    /// Windows per class in the eval split.
    pub eval_per_class: usize,
    /// Allow fewer windows than asked when a class runs short (counts recorded in the
    /// manifest); otherwise that is an error.
    pub allow_short: bool,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            classes: vec![RiskLabel::Normal, RiskLabel::Malicious],
            train_per_class: 256,
            eval_per_class: 25,
            allow_short: true,
        }
    }
}

impl SplitConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), CertError> {
        if self.classes.is_empty() {
            return Err(CertError::config("split.classes", "must list at least one label"));
        }
        let distinct: HashSet<_> = self.classes.iter().collect();
        if distinct.len() != self.classes.len() {
            return Err(CertError::config("split.classes", "lists a label twice"));
        }
        if self.eval_per_class == 0 {
            return Err(CertError::config("split.eval_per_class", "must be at least 1"));
        }
        if self.train_per_class + self.eval_per_class > 1_000_000 {
            return Err(CertError::config("split.train_per_class", "is unreasonably large"));
        }
        Ok(())
    }

    /// File name of the train split (`train_balanced_<n>.jsonl`, n = requested total).
    pub fn train_name(&self) -> String {
        format!("train_balanced_{}", self.train_per_class * self.classes.len())
    }

    /// File name of the eval split (`dev_balanced_<n>.jsonl`).
    pub fn eval_name(&self) -> String {
        format!("dev_balanced_{}", self.eval_per_class * self.classes.len())
    }
}

/// What a split build produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitManifest {
    /// The split config.
    pub config: SplitConfig,
    /// Candidate windows per label seen while streaming.
    pub candidates: BTreeMap<String, u64>,
    /// Windows per class in the train split.
    pub train_per_class: usize,
    /// Windows per class in the eval split.
    pub eval_per_class: usize,
    /// Train file name.
    pub train_file: String,
    /// Eval file name.
    pub eval_file: String,
}

/// Train and eval windows.
#[derive(Debug, Clone)]
pub struct Splits {
    /// The train split.
    pub train: Vec<Window>,
    /// The eval split.
    pub eval: Vec<Window>,
    /// Counts.
    pub manifest: SplitManifest,
}

/// Streaming selector: feed it every window ([`SplitBuilder::offer`]), then [`SplitBuilder::finish`].
#[derive(Debug)]
pub struct SplitBuilder {
    cfg: SplitConfig,
    keep: usize,
    heaps: BTreeMap<RiskLabel, BinaryHeap<(u64, UserId, Day)>>,
    kept: BTreeMap<(UserId, Day), Window>,
    candidates: BTreeMap<String, u64>,
}

/// The seeded priority of a user-day.
pub fn priority(seed: u64, user: UserId, day: Day) -> u64 {
    derive_seed(seed, "cert-split", (u64::from(user.raw()) << 32) | u64::from(day.0 as u32))
}

impl SplitBuilder {
    /// A selector for `cfg`.
    pub fn new(cfg: SplitConfig) -> Result<Self, CertError> {
        cfg.validate()?;
        let keep = cfg.train_per_class + cfg.eval_per_class;
        let heaps = cfg.classes.iter().map(|&c| (c, BinaryHeap::with_capacity(keep + 1))).collect();
        Ok(Self { cfg, keep, heaps, kept: BTreeMap::new(), candidates: BTreeMap::new() })
    }

    /// Considers one window; copies it only if it currently ranks among the kept ones.
    pub fn offer(&mut self, view: &WindowView<'_>) {
        *self.candidates.entry(view.label.to_string()).or_default() += 1;
        let Some(heap) = self.heaps.get_mut(&view.label) else { return };
        let p = (priority(self.cfg.seed, view.user, view.day), view.user, view.day);
        if heap.len() < self.keep {
            heap.push(p);
        } else if heap.peek().is_some_and(|top| p < *top) {
            if let Some((_, u, d)) = heap.pop() {
                self.kept.remove(&(u, d));
            }
            heap.push(p);
        } else {
            return;
        }
        self.kept.insert((view.user, view.day), view.to_window());
    }

    /// Splits the kept windows into eval (lowest priorities) and train (next ones).
    pub fn finish(mut self) -> Result<Splits, CertError> {
        let mut ranked: BTreeMap<RiskLabel, Vec<(u64, UserId, Day)>> = BTreeMap::new();
        for (c, heap) in std::mem::take(&mut self.heaps) {
            ranked.insert(c, heap.into_sorted_vec());
        }
        let available = ranked.values().map(Vec::len).min().unwrap_or(0);
        let eval_n = self.cfg.eval_per_class.min(available);
        let train_n = self.cfg.train_per_class.min(available - eval_n);
        let short = eval_n < self.cfg.eval_per_class || train_n < self.cfg.train_per_class;
        if short && !self.cfg.allow_short || eval_n == 0 {
            let counts: Vec<String> = ranked.iter().map(|(c, v)| format!("{c}: {}", v.len())).collect();
            return Err(CertError::Split {
                split: self.cfg.eval_name(),
                reason: format!(
                    "asked for {} eval + {} train windows per class, have {}",
                    self.cfg.eval_per_class,
                    self.cfg.train_per_class,
                    counts.join(", ")
                ),
            });
        }
        if short {
            tracing::warn!(eval_n, train_n, "a class ran short; splits are smaller than requested");
        }
        let mut eval_keys = Vec::new();
        let mut train_keys = Vec::new();
        for v in ranked.values() {
            eval_keys.extend_from_slice(&v[..eval_n]);
            train_keys.extend_from_slice(&v[eval_n..eval_n + train_n]);
        }
        eval_keys.sort_unstable();
        train_keys.sort_unstable();
        let mut take = |keys: &[(u64, UserId, Day)]| -> Vec<Window> {
            keys.iter().filter_map(|(_, u, d)| self.kept.remove(&(*u, *d))).collect()
        };
        let eval = take(&eval_keys);
        let train = take(&train_keys);
        let manifest = SplitManifest {
            train_file: format!("{}.jsonl", self.cfg.train_name()),
            eval_file: format!("{}.jsonl", self.cfg.eval_name()),
            config: self.cfg,
            candidates: self.candidates,
            train_per_class: train_n,
            eval_per_class: eval_n,
        };
        let splits = Splits { train, eval, manifest };
        check_disjoint(&splits.train, &splits.eval)?;
        Ok(splits)
    }
}

/// Fails if any user-day appears twice across (or within) the two splits.
pub fn check_disjoint(train: &[Window], eval: &[Window]) -> Result<(), CertError> {
    let mut seen = HashSet::new();
    for (name, w) in train.iter().map(|w| ("train", w)).chain(eval.iter().map(|w| ("eval", w))) {
        if !seen.insert((w.user, w.date)) {
            return Err(CertError::Split { split: name.into(), reason: format!("window `{}` appears twice", w.id) });
        }
    }
    Ok(())
}

impl Splits {
    /// Writes `<train>.jsonl`, `<eval>.jsonl` and `splits.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), CertError> {
        write_jsonl(&dir.join(&self.manifest.train_file), &self.train)?;
        write_jsonl(&dir.join(&self.manifest.eval_file), &self.eval)?;
        let p = dir.join("splits.json");
        vigil_core::write_json_atomic(&p, &self.manifest).map_err(|e| CertError::io(&p, e))
    }
}
