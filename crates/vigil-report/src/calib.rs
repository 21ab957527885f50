//! Calibration of the policies' confidences: reliability tables and diagrams, ECE and MCE with
//! equal-width and equal-mass bins, Brier score, AUROC of confidence for correctness.
//!
//! The confidence is `Prediction.confidence` of each episode: label-token probabilities where the
//! evaluator filled them in, verbalized confidence where the environment parsed one. Episodes
//! without a confidence are counted (coverage) but not scored. Each variant pools its seeds.

use vigil_metrics::calibration::{Binning, calibration};
use vigil_metrics::ranking::auroc;

use crate::plot::{Fig, Reliability};
use crate::report::{Item, Variant};
use crate::table::{Cell, Table};
use crate::{ReportError, ReportOptions};

/// `(confidence, correct)` pairs and the number of predictions (with or without confidence).
fn samples(v: &Variant, policy: &str) -> Result<(Vec<(f64, bool)>, usize), ReportError> {
    let mut out = Vec::new();
    let mut predictions = 0;
    for r in &v.runs {
        let Some(p) = r.policies.iter().find(|p| p.policy == policy) else { continue };
        for e in p.episodes()? {
            let Some(pred) = &e.outcome.prediction else { continue };
            predictions += 1;
            if let Some(c) = pred.confidence {
                out.push((c, pred.predicted.as_deref() == Some(pred.gold.as_str())));
            }
        }
    }
    Ok((out, predictions))
}

fn policies(v: &Variant) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &v.runs {
        for p in &r.policies {
            if !out.contains(&p.policy) {
                out.push(p.policy.clone());
            }
        }
    }
    out
}

/// The calibration section; a short note when no policy reported confidences.
pub(crate) fn section(variants: &[Variant], opts: &ReportOptions) -> Result<Vec<Item>, ReportError> {
    let mut t = Table::new("calibration", "Calibration of confidence (pooled over seeds)", &[
        ("variant", "variant"),
        ("policy", "policy"),
        ("n", "scored"),
        ("coverage", "with confidence"),
        ("accuracy", "accuracy"),
        ("mean_confidence", "mean confidence"),
        ("ece_equal_width", "ECE (equal-width)"),
        ("mce_equal_width", "MCE (equal-width)"),
        ("ece_equal_mass", "ECE (equal-mass)"),
        ("mce_equal_mass", "MCE (equal-mass)"),
        ("brier", "Brier"),
        ("auroc", "AUROC"),
    ]);
    let mut bins = Table::new("reliability", "Reliability bins", &[
        ("variant", "variant"),
        ("policy", "policy"),
        ("binning", "binning"),
        ("lo", "bin low"),
        ("hi", "bin high"),
        ("count", "count"),
        ("confidence", "mean confidence"),
        ("accuracy", "accuracy"),
    ]);
    let mut panels = Vec::new();
    let mut uncovered = Vec::new();
    for v in variants {
        for pol in policies(v) {
            let (s, predictions) = samples(v, &pol)?;
            if predictions == 0 {
                continue;
            }
            if s.is_empty() {
                uncovered.push(format!("{} / {pol}", v.label));
                continue;
            }
            let what = |b: &str| format!("calibration {} / {pol} ({b})", v.label);
            let w = calibration(&s, opts.bins, Binning::EqualWidth).map_err(|source| ReportError::Metric { what: what("equal-width"), source })?;
            let m = calibration(&s, opts.bins, Binning::EqualMass).map_err(|source| ReportError::Metric { what: what("equal-mass"), source })?;
            let scores: Vec<f64> = s.iter().map(|x| x.0).collect();
            let labels: Vec<bool> = s.iter().map(|x| x.1).collect();
            let au = auroc(&scores, &labels).ok();
            let acc = labels.iter().filter(|&&y| y).count() as f64 / s.len() as f64;
            t.push(vec![
                Cell::text(&v.label),
                Cell::text(&pol),
                Cell::Int(s.len() as i64),
                Cell::num(Some(s.len() as f64 / predictions as f64)),
                Cell::num(Some(acc)),
                Cell::num(Some(scores.iter().sum::<f64>() / s.len() as f64)),
                Cell::num(Some(w.ece)),
                Cell::num(Some(w.mce)),
                Cell::num(Some(m.ece)),
                Cell::num(Some(m.mce)),
                Cell::num(Some(w.brier)),
                Cell::num(au),
            ]);
            for (name, c) in [("equal_width", &w), ("equal_mass", &m)] {
                for b in &c.bins {
                    bins.push(vec![
                        Cell::text(&v.label),
                        Cell::text(&pol),
                        Cell::text(name),
                        Cell::num(Some(b.lo)),
                        Cell::num(Some(b.hi)),
                        Cell::Int(b.count as i64),
                        Cell::num(b.confidence),
                        Cell::num(b.accuracy),
                    ]);
                }
            }
            panels.push(Reliability {
                title: format!("{} / {pol}: ECE {:.3}, n={}", v.label, w.ece, s.len()),
                bins: w.bins.iter().filter_map(|b| Some((b.lo, b.hi, b.confidence?, b.accuracy?, b.count))).collect(),
            });
        }
    }
    let mut items = vec![Item::Text("## Calibration".into())];
    if t.rows.is_empty() {
        items.push(Item::Text(format!(
            "No evaluated policy reported a confidence with its predictions{}; calibration needs label-token probabilities or verbalized confidence.",
            if uncovered.is_empty() { String::new() } else { format!(" ({})", uncovered.join(", ")) }
        )));
        return Ok(items);
    }
    t.notes.push(format!(
        "{} bins. ECE = Σ (n_b/n)·|acc_b − conf_b|; MCE = max over non-empty bins; Brier = mean (confidence − correct)²; AUROC of confidence for correctness (– when all predictions are right or all wrong).",
        opts.bins
    ));
    if !uncovered.is_empty() {
        t.notes.push(format!("No confidences reported by: {}.", uncovered.join(", ")));
    }
    items.push(Item::Table(t));
    items.push(Item::Table(bins));
    panels.truncate(12);
    items.push(Item::Figure("reliability".into(), Fig::Reliability("Reliability diagrams (equal-width bins)".into(), panels)));
    Ok(items)
}
