//! Reward invariants shared by every environment's property tests, and the generic generators
//! they draw from (seeds, weights, relabelings, answer noise).
//!
//! The checks return `Result<(), TestCaseError>` so they compose inside `proptest!` bodies and
//! shrink: a failing case is minimized and persisted like any other property failure.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use vigil_core::{ComponentInfo, RewardVector};
use vigil_rewards::{RewardSet, RewardsConfig};

/// Slack for float comparisons of values computed in different orders.
pub const EPS: f64 = 1e-9;

/// Episode seeds: small values (where off-by-one bugs live) and the whole range.
pub fn seed() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..16, any::<u64>()]
}

/// `n` component weights for a weighted-total check: zeros, ones, negatives, fractions; never
/// all zero (a `[rewards]` section with nothing to optimize is rejected by design).
pub fn weights(n: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(prop_oneof![Just(0.0), Just(1.0), -3.0f64..3.0], n).prop_map(|mut w| {
        if w.iter().all(|x| *x == 0.0)
            && let Some(first) = w.first_mut()
        {
            *first = 1.0;
        }
        w
    })
}

/// Checks that `v` carries exactly the components of `infos`, in order, each finite and inside
/// its documented `[min, max]`.
pub fn check_components(infos: &[ComponentInfo], v: &RewardVector) -> Result<(), TestCaseError> {
    let names: Vec<&str> = v.names().collect();
    let want: Vec<&str> = infos.iter().map(|c| c.name.as_str()).collect();
    prop_assert_eq!(&names, &want, "the reward vector names exactly the documented components, in order");
    for (info, x) in infos.iter().zip(v.values()) {
        prop_assert!(x.is_finite(), "{} = {} is not finite", info.name, x);
        prop_assert!(
            x >= info.min - EPS && x <= info.max + EPS,
            "{} = {} outside its documented range [{}, {}]",
            info.name,
            x,
            info.min,
            info.max
        );
    }
    Ok(())
}

/// Checks that the total an experiment optimizes (a `[rewards]` section with `weights`, bound to
/// the environment's components) is exactly the weighted sum of the named components, and that
/// the default (empty) section weighs every component 1.
pub fn check_weighted_total(infos: &[ComponentInfo], v: &RewardVector, weights: &[f64]) -> Result<(), TestCaseError> {
    let cfg = RewardsConfig {
        weights: infos.iter().zip(weights).map(|(c, w)| (c.name.clone(), *w)).collect::<BTreeMap<_, _>>(),
        gates: Vec::new(),
    };
    let set = RewardSet::new(&cfg, infos).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let values = set.values(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let by_hand: f64 = infos.iter().zip(weights).map(|(c, w)| w * v.get(&c.name).unwrap_or(f64::NAN)).sum();
    let total = set.total(&values);
    prop_assert!((total - by_hand).abs() <= EPS * (1.0 + by_hand.abs()), "weighted total {} != Σ w·r = {}", total, by_hand);
    let unit = RewardSet::new(&RewardsConfig::default(), infos).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let unit_total = unit.total(&unit.values(v).map_err(|e| TestCaseError::fail(e.to_string()))?);
    prop_assert!((unit_total - v.sum()).abs() <= EPS * (1.0 + v.sum().abs()), "unit-weight total {} != sum {}", unit_total, v.sum());
    Ok(())
}

/// Checks `a[k] >= b[k]` for every component named in `names` (the oracle-dominance check).
pub fn check_dominates(a: &RewardVector, b: &RewardVector, names: &[&str]) -> Result<(), TestCaseError> {
    for n in names {
        let (x, y) = (a.get(n), b.get(n));
        prop_assert!(x.is_some() && y.is_some(), "component {} missing", n);
        prop_assert!(x >= y, "{}: {:?} < {:?}", n, x, y);
    }
    Ok(())
}

/// A consistent renaming: every `from` id becomes a distinct, fresh `to` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relabeling {
    /// `(from, to)` pairs.
    pub pairs: Vec<(String, String)>,
}

impl Relabeling {
    /// The new name of `id` (itself when it is not renamed).
    pub fn map<'a>(&'a self, id: &'a str) -> &'a str {
        self.pairs.iter().find(|(f, _)| f == id).map_or(id, |(_, t)| t.as_str())
    }

    /// Replaces every whole-token occurrence of a `from` id in `text` (a token boundary is any
    /// character outside `[A-Za-z0-9_.-]`, so `u-1` is not renamed inside `u-10`).
    pub fn apply(&self, text: &str) -> String {
        let is_id = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        let mut out = String::with_capacity(text.len());
        let mut token = String::new();
        let flush = |token: &mut String, out: &mut String| {
            let t = token.trim_end_matches('.');
            out.push_str(self.map(t));
            out.push_str(&token[t.len()..]);
            token.clear();
        };
        for c in text.chars() {
            if is_id(c) {
                token.push(c);
            } else {
                flush(&mut token, &mut out);
                out.push(c);
            }
        }
        flush(&mut token, &mut out);
        out
    }
}

/// A relabeling of `ids` to fresh names `<prefix><k>` in a random order (a random bijection onto
/// ids that cannot collide with the originals, provided `prefix` does not start any of them).
pub fn relabeling(ids: Vec<String>, prefix: &'static str) -> impl Strategy<Value = Relabeling> {
    let n = ids.len();
    Just((0..n).collect::<Vec<usize>>()).prop_shuffle().prop_map(move |perm| Relabeling {
        pairs: ids.iter().zip(perm).map(|(id, k)| (id.clone(), format!("{prefix}{k}"))).collect(),
    })
}

/// Text an answer may be padded or replaced with: empty, whitespace, markdown, think blocks,
/// non-ASCII, and arbitrary printable characters.
pub fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   \n\t".to_string()),
        Just("**bold** `code` # heading".to_string()),
        Just("<think>let me think</think>".to_string()),
        Just("<think>never closed".to_string()),
        Just("é日本 😀".to_string()),
        "[ -~]{0,40}",
    ]
}

/// `n` words drawn from `vocabulary` (a keyword-stuffed rationale).
pub fn keyword_soup(vocabulary: &'static [&'static str], n: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(vocabulary), n).prop_map(|w| w.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relabeling_renames_whole_tokens_only() {
        let r = Relabeling { pairs: vec![("u-1".into(), "x0".into()), ("h-1".into(), "x1".into())] };
        assert_eq!(r.apply("user=u-1 'u-1' u-10 xu-1 h-1. (h-1,u-1)"), "user=x0 'x0' u-10 xu-1 x1. (x1,x0)");
        assert_eq!(r.map("h-1"), "x1");
        assert_eq!(r.map("h-2"), "h-2");
    }

    #[test]
    fn checks_reject_what_they_should() {
        let infos = vec![ComponentInfo::new("a", 0.0, 1.0, ""), ComponentInfo::new("b", -1.0, 0.0, "")];
        let ok = RewardVector::from_pairs([("a", 1.0), ("b", -0.5)]);
        assert!(check_components(&infos, &ok).is_ok());
        assert!(check_weighted_total(&infos, &ok, &[2.0, -1.0]).is_ok());
        assert!(check_components(&infos, &RewardVector::from_pairs([("b", -0.5), ("a", 1.0)])).is_err());
        assert!(check_components(&infos, &RewardVector::from_pairs([("a", 1.5), ("b", 0.0)])).is_err());
        assert!(check_components(&infos, &RewardVector::from_pairs([("a", f64::NAN), ("b", 0.0)])).is_err());
        assert!(check_components(&infos, &RewardVector::from_pairs([("a", 1.0)])).is_err());
        let lo = RewardVector::from_pairs([("a", 0.0), ("b", -0.5)]);
        assert!(check_dominates(&ok, &lo, &["a", "b"]).is_ok());
        assert!(check_dominates(&lo, &ok, &["a"]).is_err());
    }
}
