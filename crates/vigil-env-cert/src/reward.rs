//! Grading an answer against a window, and the four reward components (fixed order):
//!
//! | name | range | rewards |
//! |---|---|---|
//! | `label` | [0, 1] | 1 for the gold label; `suspicious_malicious` for a suspicious↔malicious mix-up, `normal_suspicious` for normal↔suspicious; 0 otherwise or unparsed |
//! | `evidence` | [−`hallucination_penalty`, 1] | F-beta of cited ids against the window's malicious ids, minus the penalty × m / (m + h) for m cited ids that do not exist in the window and h correct ones; with no malicious ids in the window: 1 − that penalty term for the gold verdict, 0 − it for any other (credit goes with the verdict, as OpenSOC pays citations only with the correct action); 0 without an evidence field |
//! | `format` | [0, 1] | 1 if format-valid, else 0.2 per field present (of risk, evidence, reasoning, recommendation) |
//! | `length` | [0, 1] | 1 up to `target_words` words, falling linearly to 0 at `max_words`; 0 when no field of the card parsed |
//!
//! The hallucination share counts only non-existent and correct ids, so padding a citation list
//! with real but irrelevant events cannot dilute it (that would raise evidence while lowering
//! precision); brevity is paid only to an answer that is a verdict card at all, so an empty or
//! unreadable answer earns nothing but the format floor.
//!
//! Components are separate values (GDPO normalises each one) and pure functions of a
//! [`GradedAnswer`], so they can be property-tested on their own.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use vigil_core::{ComponentInfo, RewardComponent};

use crate::answer::{ParsedAnswer, parse_answer};
use crate::error::CertError;
use crate::labels::RiskLabel;
use crate::record::Window;

/// Everything the components need about one answer to one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradedAnswer {
    /// The parsed answer.
    pub parsed: ParsedAnswer,
    /// Gold label.
    pub gold: RiskLabel,
    /// Numbers of the window's malicious events (`E004` → 4).
    pub gold_evidence: BTreeSet<u32>,
    /// Events shown in the window (ids 1..=n exist).
    pub window_events: u32,
    /// Whether the answer is actionable (see [`grade`]).
    pub actionable: bool,
    /// Words in the raw answer (whitespace-separated).
    pub words: u32,
}

impl GradedAnswer {
    /// Cited ids that exist in the window.
    pub fn cited_existing(&self) -> usize {
        self.cited().iter().filter(|&&n| n >= 1 && n <= self.window_events).count()
    }

    /// Cited ids (empty without an evidence field).
    pub fn cited(&self) -> &[u32] {
        self.parsed.evidence.as_deref().unwrap_or(&[])
    }

    /// Cited ids that are malicious evidence.
    pub fn hits(&self) -> usize {
        self.cited().iter().filter(|n| self.gold_evidence.contains(n)).count()
    }

    /// Evidence precision (cited ∩ gold / cited), when something was cited and gold exists.
    pub fn precision(&self) -> Option<f64> {
        let c = self.cited().len();
        (c > 0 && !self.gold_evidence.is_empty()).then(|| self.hits() as f64 / c as f64)
    }

    /// Evidence recall (cited ∩ gold / gold), when gold exists and the answer parsed.
    pub fn recall(&self) -> Option<f64> {
        (!self.gold_evidence.is_empty() && self.parsed.evidence.is_some())
            .then(|| self.hits() as f64 / self.gold_evidence.len() as f64)
    }

    /// Share of cited ids that exist in the window, when something was cited.
    pub fn grounding(&self) -> Option<f64> {
        let c = self.cited().len();
        (c > 0).then(|| self.cited_existing() as f64 / c as f64)
    }
}

/// Grades `answer` against `w`.
///
/// Actionable = format-valid, a non-empty recommendation, and for a non-normal verdict the
/// recommendation names the window's user or one of its PCs (an entity-consistency check:
/// SOC Narrative's models recommended actions on machines that were not in the log).
pub fn grade(w: &Window, answer: &str) -> GradedAnswer {
    let parsed = parse_answer(answer);
    let n = w.events.len();
    let gold_evidence = w.malicious_eids.iter().filter_map(|e| e.get(1..).and_then(|d| d.parse().ok())).collect();
    let rec = parsed.recommendation.as_deref().unwrap_or("").to_lowercase();
    let names_entity = rec.contains(&w.user.to_string().to_lowercase())
        || w.events.iter().any(|e| rec.contains(&e.pc.to_string().to_lowercase()));
    let actionable =
        parsed.format_valid() && !rec.trim().is_empty() && (parsed.label == Some(RiskLabel::Normal) || names_entity);
    GradedAnswer {
        parsed,
        gold: w.label,
        gold_evidence,
        window_events: n as u32,
        actionable,
        words: answer.split_whitespace().count() as u32,
    }
}

/// `[env.reward]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardConfig {
    /// Label credit for confusing suspicious and malicious.
    pub suspicious_malicious: f64,
    /// Label credit for confusing normal and suspicious.
    pub normal_suspicious: f64,
    /// Evidence penalty × m / (m + h): m cited ids that do not exist in the window, h that
    /// are malicious evidence.
    pub hallucination_penalty: f64,
    /// β of the evidence F-score (1 = F1; >1 weighs recall more).
    pub evidence_beta: f64,
    /// Answers up to this many words get full length reward.
    pub target_words: u32,
    /// Answers of this many words or more get none.
    pub max_words: u32,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            suspicious_malicious: 0.5,
            normal_suspicious: 0.0,
            hallucination_penalty: 0.5,
            evidence_beta: 1.0,
            target_words: 120,
            max_words: 400,
        }
    }
}

impl RewardConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), CertError> {
        for (f, v) in [
            ("reward.suspicious_malicious", self.suspicious_malicious),
            ("reward.normal_suspicious", self.normal_suspicious),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(CertError::config(f, "must be in [0, 1]"));
            }
        }
        if !(0.0..=10.0).contains(&self.hallucination_penalty) {
            return Err(CertError::config("reward.hallucination_penalty", "must be in [0, 10]"));
        }
        if !(self.evidence_beta > 0.0 && self.evidence_beta <= 100.0) {
            return Err(CertError::config("reward.evidence_beta", "must be in (0, 100]"));
        }
        if self.target_words == 0 || self.max_words <= self.target_words {
            return Err(CertError::config("reward.max_words", "must exceed target_words (> 0)"));
        }
        Ok(())
    }

    /// The four components, in the fixed order label, evidence, format, length.
    pub fn components(&self) -> Vec<Box<dyn RewardComponent<GradedAnswer>>> {
        vec![
            Box::new(LabelReward {
                suspicious_malicious: self.suspicious_malicious,
                normal_suspicious: self.normal_suspicious,
            }),
            Box::new(EvidenceReward { hallucination_penalty: self.hallucination_penalty, beta: self.evidence_beta }),
            Box::new(FormatReward),
            Box::new(LengthReward { target_words: self.target_words, max_words: self.max_words }),
        ]
    }
}

/// Label correctness with partial credit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelReward {
    /// Credit for suspicious↔malicious.
    pub suspicious_malicious: f64,
    /// Credit for normal↔suspicious.
    pub normal_suspicious: f64,
}

impl RewardComponent<GradedAnswer> for LabelReward {
    fn info(&self) -> ComponentInfo {
        ComponentInfo::new("label", 0.0, 1.0, "1 for the gold risk label, partial credit for adjacent labels")
    }
    fn score(&self, g: &GradedAnswer) -> f64 {
        use RiskLabel::*;
        match (g.parsed.label, g.gold) {
            (Some(p), gold) if p == gold => 1.0,
            (Some(Suspicious), Malicious) | (Some(Malicious), Suspicious) => self.suspicious_malicious.clamp(0.0, 1.0),
            (Some(Suspicious), Normal) | (Some(Normal), Suspicious) => self.normal_suspicious.clamp(0.0, 1.0),
            _ => 0.0,
        }
    }
}

/// Evidence grounding against the answer key's event ids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvidenceReward {
    /// Penalty weight for cited ids that are not in the window.
    pub hallucination_penalty: f64,
    /// F-beta's β.
    pub beta: f64,
}

impl RewardComponent<GradedAnswer> for EvidenceReward {
    fn info(&self) -> ComponentInfo {
        ComponentInfo::new(
            "evidence",
            -self.hallucination_penalty,
            1.0,
            "F-beta of cited event ids against the malicious ids, minus a penalty for ids not in the window (not diluted by padding); with no malicious ids, paid only with the gold verdict",
        )
    }
    fn score(&self, g: &GradedAnswer) -> f64 {
        if g.parsed.evidence.is_none() {
            return 0.0;
        }
        let missing = g.cited().len() - g.cited_existing();
        let grounded = missing + g.hits();
        let penalty = if missing == 0 { 0.0 } else { self.hallucination_penalty * missing as f64 / grounded as f64 };
        let base = if g.gold_evidence.is_empty() {
            // Nothing to cite: the credit goes with the verdict (a "malicious" call on a
            // normal day must not be paid for citing real but benign events).
            if g.parsed.label == Some(g.gold) { 1.0 } else { 0.0 }
        } else {
            match (g.precision(), g.recall()) {
                (Some(p), Some(r)) if p + r > 0.0 => {
                    let b2 = self.beta * self.beta;
                    (1.0 + b2) * p * r / (b2 * p + r)
                }
                _ => 0.0,
            }
        };
        (base - penalty).clamp(-self.hallucination_penalty, 1.0)
    }
}

/// Format validity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FormatReward;

impl RewardComponent<GradedAnswer> for FormatReward {
    fn info(&self) -> ComponentInfo {
        ComponentInfo::new("format", 0.0, 1.0, "1 for a valid verdict card, 0.2 per field present otherwise")
    }
    fn score(&self, g: &GradedAnswer) -> f64 {
        if g.parsed.format_valid() { 1.0 } else { 0.2 * f64::from(g.parsed.fields_present().min(4)) }
    }
}

/// Brevity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LengthReward {
    /// Full reward up to this many words.
    pub target_words: u32,
    /// No reward from this many words.
    pub max_words: u32,
}

impl RewardComponent<GradedAnswer> for LengthReward {
    fn info(&self) -> ComponentInfo {
        ComponentInfo::new(
            "length",
            0.0,
            1.0,
            "1 up to the target length, linearly down to 0 at the maximum; 0 without a card",
        )
    }
    fn score(&self, g: &GradedAnswer) -> f64 {
        if g.parsed.fields_present() == 0 {
            return 0.0;
        }
        if g.words <= self.target_words {
            return 1.0;
        }
        let span = f64::from(self.max_words.saturating_sub(self.target_words).max(1));
        (1.0 - f64::from(g.words - self.target_words) / span).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graded(answer: &str, gold: RiskLabel, gold_ids: &[u32], n: u32) -> GradedAnswer {
        GradedAnswer {
            parsed: parse_answer(answer),
            gold,
            gold_evidence: gold_ids.iter().copied().collect(),
            window_events: n,
            actionable: false,
            words: answer.split_whitespace().count() as u32,
        }
    }

    fn scores(g: &GradedAnswer) -> Vec<f64> {
        RewardConfig::default().components().iter().map(|c| c.score(g)).collect()
    }

    #[test]
    fn component_values() {
        let perfect = graded(
            "Risk: malicious\nEvidence: E2, E3\nReasoning: x\nRecommendation: y",
            RiskLabel::Malicious,
            &[2, 3],
            5,
        );
        assert_eq!(scores(&perfect), [1.0, 1.0, 1.0, 1.0]);
        let half = graded("Risk: suspicious\nEvidence: E2, E9\nReasoning: x", RiskLabel::Malicious, &[2, 3], 5);
        // precision 1/2, recall 1/2 → F1 0.5; one of two ids does not exist → −0.25.
        assert_eq!(scores(&half)[..3], [0.5, 0.25, 1.0]);
        let bare = graded("malicious", RiskLabel::Malicious, &[2], 5);
        assert_eq!(scores(&bare)[..3], [1.0, 0.0, 0.0]);
        let normal = graded("Risk: normal\nEvidence: none\nReasoning: fine", RiskLabel::Normal, &[], 5);
        assert_eq!(scores(&normal), [1.0, 1.0, 1.0, 1.0]);
        let long = graded(&format!("Risk: normal {}", "word ".repeat(258)), RiskLabel::Normal, &[], 5);
        assert!((scores(&long)[3] - 0.5).abs() < 1e-12);
        assert_eq!(
            scores(&graded("", RiskLabel::Normal, &[], 5)),
            [0.0, 0.0, 0.0, 0.0],
            "nothing parsed, nothing paid"
        );
        // Padding with real, irrelevant events does not dilute the hallucination penalty.
        let ghost = graded("Risk: normal\nEvidence: E9\nReasoning: x", RiskLabel::Normal, &[], 5);
        let padded = graded("Risk: normal\nEvidence: E9, E1, E2, E3\nReasoning: x", RiskLabel::Normal, &[], 5);
        assert_eq!((scores(&ghost)[1], scores(&padded)[1]), (0.5, 0.5));
        let names: Vec<String> = RewardConfig::default().components().iter().map(|c| c.info().name).collect();
        assert_eq!(names, ["label", "evidence", "format", "length"]);
    }

    proptest! {
        #[test]
        fn components_stay_in_their_documented_ranges(
            answer in ".{0,200}",
            ids in proptest::collection::vec(0u32..40, 0..12),
            gold in proptest::collection::btree_set(1u32..30, 0..6),
            n in 0u32..30,
            label in 0usize..3,
        ) {
            let text = format!("{answer}\nEvidence: {}", ids.iter().map(|i| format!("E{i}")).collect::<Vec<_>>().join(","));
            let g = GradedAnswer {
                parsed: parse_answer(&text),
                gold: RiskLabel::ALL[label],
                gold_evidence: gold,
                window_events: n,
                actionable: false,
                words: text.split_whitespace().count() as u32,
            };
            for c in RewardConfig::default().components() {
                let (info, s) = (c.info(), c.score(&g));
                prop_assert!(s >= info.min && s <= info.max, "{} = {s}", info.name);
            }
        }
    }
}
