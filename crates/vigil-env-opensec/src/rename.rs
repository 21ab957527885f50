//! Neutral ids for hardened mode, drawn per episode.
//!
//! The peer's ids give the answer away: patient zero is always `h-NNN-01`, the decoy user is
//! literally `u-decoy-NNN`, and the compromised user and data target are `u-NNN` / `t-NNN` for
//! scenario `seed-NNN`. Hardened mode renames every host, user and data-target id to a
//! random-looking `h-xxxx` / `u-xxxx` / `t-xxxx`, every domain to a neutral name whose TLD is
//! drawn from one list for all domain types, and the scenario id (inside row, email, template
//! and injection ids too) to a case id `case-xxxxxxxx`. The draw depends on the episode's
//! nonce (from the config's `rename_seed`, the task and the reset seed), so an answer learned in
//! one episode never transfers to another episode of the same task. It is applied everywhere
//! an id occurs: entities, templates, email bodies, injection texts and targets, the attack
//! graph and the ground truth, so the oracle and the scorers see the same mapping.

use rand::Rng;
use serde_json::Value;
use vigil_core::{derive_seed, rng_from_seed};

use crate::seed::{GroundTruthFile, SeedFile};

/// Original id → neutral id pairs of one scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Renaming {
    /// Whole-token replacements (hosts, users, data targets, domains).
    pub(crate) pairs: Vec<(String, String)>,
    /// Scenario id → case id, replaced also inside `-`-joined ids (`alert-<scenario>-3`).
    pub(crate) case: Option<(String, String)>,
}

/// Words and TLDs of the neutral domain names (one list for every domain type, so a name says
/// nothing about its role).
const DOMAIN_WORDS: &[&str] = &[
    "amber", "atlas", "birch", "cobalt", "delta", "ember", "fable", "garnet", "harbor", "indigo", "juniper", "kestrel",
    "lumen", "marble", "nimbus", "onyx", "pioneer", "quartz", "raven", "summit", "tundra", "vertex", "willow",
    "zephyr",
];
const DOMAIN_TAILS: &[&str] = &["cloud", "link", "works", "hub", "net", "data", "desk", "sys", "point", "line"];
pub(crate) const NEUTRAL_TLDS: &[&str] = &["com", "net", "io", "co", "org", "info", "biz", "site", "app", "dev"];

/// The case id shown for an episode nonce.
pub(crate) fn case_id(nonce: u32) -> String {
    format!("case-{nonce:08x}")
}

impl Renaming {
    /// Draws neutral ids for every host, user, data target and domain of `seed`, and the case id
    /// of `nonce`.
    pub(crate) fn draw(seed: &SeedFile, nonce: u32) -> Renaming {
        let text = serde_json::to_string(seed).unwrap_or_default();
        let mut rng = rng_from_seed(derive_seed(u64::from(nonce), &seed.scenario_id, 0));
        let mut used: Vec<String> = Vec::new();
        let mut fresh = |make: &dyn Fn(&mut rand_chacha::ChaCha8Rng) -> String, rng: &mut rand_chacha::ChaCha8Rng| loop {
            let id = make(rng);
            if !used.contains(&id) && !text.contains(&id) {
                used.push(id.clone());
                return id;
            }
        };
        let hex = |prefix: &'static str| {
            move |rng: &mut rand_chacha::ChaCha8Rng| format!("{prefix}-{:04x}", rng.random_range(0..0x1_0000u32))
        };
        let domain = |rng: &mut rand_chacha::ChaCha8Rng| {
            let pick = |l: &[&str], rng: &mut rand_chacha::ChaCha8Rng| l[rng.random_range(0..l.len())].to_string();
            let (w, t, tld) = (pick(DOMAIN_WORDS, rng), pick(DOMAIN_TAILS, rng), pick(NEUTRAL_TLDS, rng));
            format!("{w}{t}.{tld}")
        };
        let mut pairs = Vec::new();
        for h in &seed.entities.hosts {
            pairs.push((h.host_id.clone(), fresh(&hex("h"), &mut rng)));
        }
        for u in &seed.entities.users {
            pairs.push((u.user_id.clone(), fresh(&hex("u"), &mut rng)));
        }
        for t in &seed.entities.data_targets {
            pairs.push((t.target_id.clone(), fresh(&hex("t"), &mut rng)));
        }
        for d in &seed.entities.domains {
            pairs.push((d.domain.clone(), fresh(&domain, &mut rng)));
        }
        Renaming { pairs, case: Some((seed.scenario_id.clone(), case_id(nonce))) }
    }

    /// Rewrites every string value of the seed and its ground truth (map keys are field or state
    /// names, never ids, and stay as they are).
    pub(crate) fn apply(&self, seed: &mut SeedFile, truth: &mut GroundTruthFile) -> Result<(), serde_json::Error> {
        let mut v = serde_json::to_value(&*seed)?;
        self.walk(&mut v);
        *seed = serde_json::from_value(v)?;
        let mut g = serde_json::to_value(&*truth)?;
        self.walk(&mut g);
        *truth = serde_json::from_value(g)?;
        Ok(())
    }

    fn walk(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(r) = replace_tokens(s, &self.pairs) {
                    *s = r;
                }
                if let Some((from, to)) = &self.case
                    && let Some(r) = replace_joined(s, from, to)
                {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.walk(x)),
            _ => {}
        }
    }
}

/// Replaces `from` where it is not glued to letters or digits (so `seed-1` is replaced in
/// `alert-seed-1-2` but not in `seed-10`); `None` when nothing matched.
pub(crate) fn replace_joined(s: &str, from: &str, to: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    for (i, _) in s.match_indices(from) {
        let end = i + from.len();
        let free = |j: Option<&u8>| j.is_none_or(|c| !c.is_ascii_alphanumeric());
        if i >= copied && free(i.checked_sub(1).and_then(|j| b.get(j))) && free(b.get(end)) {
            out.push_str(&s[copied..i]);
            out.push_str(to);
            copied = end;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Replaces whole-token occurrences of each `from` by `to`; `None` when nothing matched.
/// A token boundary is any character outside `[A-Za-z0-9_-]`, so `u-1` does not match inside
/// `u-10` or `xu-1`.
pub(crate) fn replace_tokens(s: &str, pairs: &[(String, String)]) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let (mut i, mut copied, mut any) = (0, 0, false);
    while i < b.len() {
        let at_boundary = i == 0 || !is_id_char(b[i - 1]);
        let hit = at_boundary.then(|| {
            pairs.iter().find(|(from, _)| {
                let end = i + from.len();
                s.as_bytes()[i..].starts_with(from.as_bytes()) && (end == b.len() || !is_id_char(b[end]))
            })
        });
        match hit.flatten() {
            Some((from, to)) => {
                out.push_str(&s[copied..i]);
                out.push_str(to);
                i += from.len();
                copied = i;
                any = true;
            }
            None => i += 1,
        }
    }
    if !any {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_tokens_only() {
        let p = vec![("u-1".to_string(), "u-aaaa".to_string()), ("h-1-01".to_string(), "h-bbbb".to_string())];
        assert_eq!(
            replace_tokens("user=u-1 'u-1' u-10 xu-1 h-1-01.", &p).as_deref(),
            Some("user=u-aaaa 'u-aaaa' u-10 xu-1 h-bbbb.")
        );
        assert_eq!(replace_tokens("nothing here", &p), None);
        assert_eq!(replace_tokens("é u-1", &p).as_deref(), Some("é u-aaaa"));
    }

    #[test]
    fn replaces_the_scenario_id_inside_joined_ids_only() {
        assert_eq!(
            replace_joined("alert-seed-1-2 seed-1 seed-10 xseed-1", "seed-1", "case-ab").as_deref(),
            Some("alert-case-ab-2 case-ab seed-10 xseed-1")
        );
        assert_eq!(replace_joined("seed-10", "seed-1", "c"), None);
    }
}
