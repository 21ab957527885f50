//! Reward-hacking detectors: per-episode flags for the patterns the environments' scripted probes
//! exploit (cite-spam, contain-everything, keyword stuffing, format gaming, ...), so a training
//! run can watch its own samples drift toward a hack while the reward still rises.
//!
//! The probes (`exp eval` baselines) show that a hack *would* not pay; the detectors show whether
//! the policy being trained *does* it. Each environment declares its detectors with
//! [`crate::Environment::hacking_detectors`] and flags one finished episode with
//! [`crate::Environment::detect_hacking`]; the trainer logs the share of flagged rollouts per
//! detector at every RL step.

use serde::{Deserialize, Serialize};

/// One detector an environment declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorInfo {
    /// Stable name, shared with the probe that exploits the pattern (`cite_spam`, ...).
    pub name: String,
    /// One sentence on what the detector flags.
    pub description: String,
}

impl DetectorInfo {
    /// A detector record.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self { name: name.into(), description: description.into() }
    }
}

/// The detectors that fired on one episode, in the declared order of
/// [`crate::Environment::hacking_detectors`] (one flag per detector).
pub type HackingFlags = Vec<bool>;


/// Share of episodes each detector flagged: `flags[e][d]` is detector `d` on episode `e`. An
/// episode whose flag vector has the wrong length (an environment bug) counts as not flagged.
pub fn hacking_rates(detectors: usize, flags: &[HackingFlags]) -> Vec<f64> {
    let n = flags.len().max(1) as f64;
    (0..detectors)
        .map(|d| flags.iter().filter(|f| f.get(d).copied().unwrap_or(false)).count() as f64 / n)
        .collect()
}

/// The policy's last answer in a conversation (`None` when it never answered).
pub fn last_answer(transcript: &[crate::ChatMessage]) -> Option<&str> {
    transcript.iter().rev().find(|m| m.role == crate::Role::Assistant).map(|m| m.content.as_str())
}

/// Occurrences of `keywords` among the words of `text` (ASCII case-insensitive; a word is a run
/// of letters, digits and `-`): how stuffed a rationale is.
pub fn keyword_count(text: &str, keywords: &[&str]) -> usize {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty() && keywords.iter().any(|k| k.eq_ignore_ascii_case(w)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_each_detector_over_all_episodes() {
        let flags = vec![vec![true, false], vec![true, true], vec![false, false], vec![true]];
        assert_eq!(hacking_rates(2, &flags), vec![0.75, 0.25]);
        assert_eq!(hacking_rates(2, &[]), vec![0.0, 0.0]);
    }

    #[test]
    fn keywords_are_whole_words() {
        assert_eq!(keyword_count("C2 beacon, c2-ish; brute-force BEACON", &["c2", "beacon", "brute-force"]), 4);
        assert_eq!(keyword_count("", &["c2"]), 0);
    }
}
