//! Neutral entity ids for hardened mode.
//!
//! The peer's ids give the answer away: patient zero is always `h-NNN-01`, the decoy user is
//! literally `u-decoy-NNN`, and the compromised user and data target are `u-NNN` / `t-NNN` for
//! scenario `seed-NNN`. Hardened mode renames every host, user and data-target id to a
//! random-looking `h-xxxx` / `u-xxxx` / `t-xxxx` (fixed per scenario and `rename_seed`),
//! everywhere it occurs: entities, templates, email bodies, injection texts and targets, the
//! attack graph and the ground truth. Domain names carry no positional hint and stay.

use rand::Rng;
use serde_json::Value;
use vigil_core::{derive_seed, rng_from_seed};

use crate::seed::{GroundTruthFile, SeedFile};

/// Original id → neutral id pairs of one scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Renaming {
    pub(crate) pairs: Vec<(String, String)>,
}

impl Renaming {
    /// Draws neutral ids for every host, user and data target of `seed`.
    pub(crate) fn draw(seed: &SeedFile, salt: u64) -> Renaming {
        let text = serde_json::to_string(seed).unwrap_or_default();
        let mut rng = rng_from_seed(derive_seed(salt, &seed.scenario_id, 0));
        let mut used: Vec<String> = Vec::new();
        let mut fresh = |prefix: &str, rng: &mut rand_chacha::ChaCha8Rng| loop {
            let id = format!("{prefix}-{:04x}", rng.random_range(0..0x1_0000u32));
            if !used.contains(&id) && !text.contains(&id) {
                used.push(id.clone());
                return id;
            }
        };
        let mut pairs = Vec::new();
        for h in &seed.entities.hosts {
            pairs.push((h.host_id.clone(), fresh("h", &mut rng)));
        }
        for u in &seed.entities.users {
            pairs.push((u.user_id.clone(), fresh("u", &mut rng)));
        }
        for t in &seed.entities.data_targets {
            pairs.push((t.target_id.clone(), fresh("t", &mut rng)));
        }
        Renaming { pairs }
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
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.walk(x)),
            _ => {}
        }
    }
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
}
