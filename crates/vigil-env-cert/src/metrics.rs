//! SOC Narrative's evaluation metrics, computed from episode outcomes.
//!
//! Definitions (research note §3.4):
//! - `accuracy`: predicted label equals the gold label (3 classes; unparsed counts as wrong).
//! - `macro_f1`: the **2-class** malicious-vs-not macro-F1 the published results use
//!   (suspicious and unparsed count as "not malicious"); `macro_f1_3class` averages F1 over the
//!   labels that occur in gold or predictions (sklearn's default), unparsed never matching.
//! - `recall_malicious`: share of gold-malicious windows predicted malicious.
//! - `valid_format_rate`, `actionability_rate`: share of format-valid / actionable answers.
//! - `false_positive_rate`: share of gold normal+suspicious windows predicted malicious.
//! - confusion matrices: 3×4 (gold × predicted normal, suspicious, malicious, unknown) and 2×2.
//! - evidence means over the episodes that report them (grounding, precision, recall).
//!
//! F1 of a class with no gold and no predicted members is 0 (sklearn's `zero_division=0`).

use serde::{Deserialize, Serialize};
use vigil_core::Outcome;

use crate::labels::RiskLabel;

/// Malicious-vs-not counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binary {
    /// Gold not malicious, predicted not malicious.
    pub tn: u64,
    /// Gold not malicious, predicted malicious.
    pub fp: u64,
    /// Gold malicious, predicted not malicious.
    pub fn_: u64,
    /// Gold malicious, predicted malicious.
    pub tp: u64,
}

/// SOC Narrative's metric set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SocNarrativeMetrics {
    /// Episodes with a prediction record.
    pub n: u64,
    /// Exact-label accuracy.
    pub accuracy: f64,
    /// 2-class (malicious vs not) macro-F1.
    pub macro_f1: f64,
    /// 3-class macro-F1.
    pub macro_f1_3class: f64,
    /// Recall of the malicious class.
    pub recall_malicious: f64,
    /// Share of format-valid answers.
    pub valid_format_rate: f64,
    /// Share of actionable answers.
    pub actionability_rate: f64,
    /// Share of gold non-malicious windows predicted malicious.
    pub false_positive_rate: f64,
    /// Share of answers without a parsable label.
    pub unknown_rate: f64,
    /// Gold rows normal/suspicious/malicious × predicted normal/suspicious/malicious/unknown.
    pub confusion: [[u64; 4]; 3],
    /// Malicious-vs-not counts.
    pub binary: Binary,
    /// Mean share of cited ids that exist in the window.
    pub evidence_grounding: Option<f64>,
    /// Mean evidence precision against the malicious ids.
    pub evidence_precision: Option<f64>,
    /// Mean evidence recall against the malicious ids.
    pub evidence_recall: Option<f64>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn f1(tp: u64, fp: u64, fn_: u64) -> f64 {
    let d = 2 * tp + fp + fn_;
    if d == 0 { 0.0 } else { 2.0 * tp as f64 / d as f64 }
}

fn mean_metric(outcomes: &[Outcome], key: &str) -> Option<f64> {
    let v: Vec<f64> = outcomes.iter().filter_map(|o| o.metrics.get(key).copied()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Computes the metrics over `outcomes` (episodes without a prediction are ignored).
pub fn soc_narrative_metrics(outcomes: &[Outcome]) -> SocNarrativeMetrics {
    let mut m = SocNarrativeMetrics::default();
    let (mut valid, mut actionable) = (0u64, 0u64);
    for o in outcomes {
        let Some(p) = &o.prediction else { continue };
        let Some(gold) = RiskLabel::parse(&p.gold) else { continue };
        m.n += 1;
        let pred = p.predicted.as_deref().and_then(RiskLabel::parse);
        let col = pred.map_or(3, |l| l as usize);
        m.confusion[gold as usize][col] += 1;
        let (g, q) = (gold == RiskLabel::Malicious, pred == Some(RiskLabel::Malicious));
        match (g, q) {
            (false, false) => m.binary.tn += 1,
            (false, true) => m.binary.fp += 1,
            (true, false) => m.binary.fn_ += 1,
            (true, true) => m.binary.tp += 1,
        }
        valid += u64::from(o.format_valid);
        actionable += u64::from(o.metrics.get("actionable").copied().unwrap_or(0.0) > 0.5);
    }
    let c = &m.confusion;
    let correct: u64 = (0..3).map(|i| c[i][i]).sum();
    m.accuracy = ratio(correct, m.n);
    let b = m.binary;
    m.macro_f1 = (f1(b.tp, b.fp, b.fn_) + f1(b.tn, b.fn_, b.fp)) / 2.0;
    let mut f1s = Vec::new();
    for k in 0..3 {
        let gold_k: u64 = c[k].iter().sum();
        let pred_k: u64 = (0..3).map(|g| c[g][k]).sum();
        if gold_k + pred_k > 0 {
            f1s.push(f1(c[k][k], pred_k - c[k][k], gold_k - c[k][k]));
        }
    }
    m.macro_f1_3class = if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 };
    m.recall_malicious = ratio(b.tp, b.tp + b.fn_);
    m.false_positive_rate = ratio(b.fp, b.fp + b.tn);
    m.unknown_rate = ratio((0..3).map(|g| c[g][3]).sum(), m.n);
    m.valid_format_rate = ratio(valid, m.n);
    m.actionability_rate = ratio(actionable, m.n);
    m.evidence_grounding = mean_metric(outcomes, "evidence_grounding");
    m.evidence_precision = mean_metric(outcomes, "evidence_precision");
    m.evidence_recall = mean_metric(outcomes, "evidence_recall");
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::{Prediction, RewardVector};

    fn outcome(gold: &str, pred: Option<&str>, valid: bool) -> Outcome {
        Outcome {
            rewards: RewardVector::new(),
            format_valid: valid,
            metrics: [("actionable".to_string(), f64::from(u8::from(valid)))].into(),
            prediction: Some(Prediction { predicted: pred.map(str::to_string), gold: gold.into(), confidence: None }),
            steps: 1,
        }
    }

    #[test]
    fn reproduces_the_published_sft_confusion_matrix_figures() {
        // SOC Narrative fig6 (SFT / GRPO-32): TN 15, FP 10, FN 3, TP 22 → acc 0.74, macro 0.735, recall 0.88.
        let mut v = Vec::new();
        v.extend((0..15).map(|_| outcome("normal", Some("normal"), true)));
        v.extend((0..10).map(|_| outcome("normal", Some("malicious"), true)));
        v.extend((0..3).map(|_| outcome("malicious", Some("normal"), false)));
        v.extend((0..22).map(|_| outcome("malicious", Some("malicious"), true)));
        let m = soc_narrative_metrics(&v);
        assert_eq!(m.n, 50);
        assert!((m.accuracy - 0.74).abs() < 1e-12);
        assert!((m.macro_f1 - 0.735).abs() < 5e-4, "{}", m.macro_f1);
        assert!((m.recall_malicious - 0.88).abs() < 1e-12);
        assert!((m.valid_format_rate - 0.94).abs() < 1e-12);
        assert_eq!(m.binary, Binary { tn: 15, fp: 10, fn_: 3, tp: 22 });
        assert!((m.macro_f1_3class - m.macro_f1).abs() < 1e-12, "only two classes occur");
    }

    #[test]
    fn suspicious_and_unknown_count_as_not_malicious() {
        let v = [outcome("malicious", Some("suspicious"), true), outcome("malicious", None, false), outcome("normal", Some("normal"), true)];
        let m = soc_narrative_metrics(&v);
        assert_eq!(m.binary, Binary { tn: 1, fp: 0, fn_: 2, tp: 0 });
        assert_eq!(m.confusion[2], [0, 1, 0, 1]);
        assert!((m.unknown_rate - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.recall_malicious, 0.0);
    }
}

/// The report columns of CERT (SOC Narrative's metric set, all from [`SocNarrativeMetrics`]).
pub fn declared_metrics() -> vigil_core::EnvMetrics {
    use vigil_core::{MetricInfo, MetricSource::Summary};
    let m = |k: &str, h: &str| MetricInfo::new(k, h, Summary);
    vigil_core::EnvMetrics {
        title: "CERT r4.2 insider threat (SOC Narrative metrics)".into(),
        metrics: vec![
            m("n", "windows"),
            m("accuracy", "Accuracy").headline(),
            m("macro_f1", "Macro F1").headline(),
            m("recall_malicious", "Recall Malicious"),
            m("valid_format_rate", "Valid Format Rate"),
            m("actionability_rate", "Actionability Rate"),
            m("false_positive_rate", "False Positive Rate"),
            m("macro_f1_3class", "Macro F1 (3-class)"),
        ],
        frontier: None,
        notes: vec!["Macro F1 is the 2-class malicious-vs-not F1 the published SOC Narrative results use; the 3-class variant averages over the labels that occur.".into()],
    }
}

/// [`SocNarrativeMetrics`] as the typed aggregate reports read: the declared numbers, the
/// confusion matrix, and the whole struct as `detail`.
pub fn env_summary(m: &SocNarrativeMetrics) -> vigil_core::EnvSummary {
    let metrics = [
        ("n", m.n as f64),
        ("accuracy", m.accuracy),
        ("macro_f1", m.macro_f1),
        ("recall_malicious", m.recall_malicious),
        ("valid_format_rate", m.valid_format_rate),
        ("actionability_rate", m.actionability_rate),
        ("false_positive_rate", m.false_positive_rate),
        ("macro_f1_3class", m.macro_f1_3class),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let rows: Vec<String> = RiskLabel::ALL.iter().map(|l| l.to_string()).collect();
    let mut cols = rows.clone();
    cols.push("unknown".into());
    vigil_core::EnvSummary {
        metrics,
        labels: Default::default(),
        confusion: Some(vigil_core::Confusion { rows, cols, counts: m.confusion.iter().map(|r| r.to_vec()).collect() }),
        detail: serde_json::to_value(m).unwrap_or_default(),
    }
}
