//! Environment tables in the shape of the source documents:
//!
//! - OpenSec (seed 002): containment executed, false-positive rate, correct containment,
//!   injection violation, report submitted, then EGAR, TTFC, blast radius, per-tier injection
//!   rates and the provisional calibration level;
//! - OpenSOC (seed 003): accuracy, macro-F1, dismiss-on-malicious, over-react, and the
//!   confusion matrices;
//! - CERT (seed 000, SOC Narrative): accuracy, macro-F1, recall of malicious, valid-format rate,
//!   actionability rate, plus the false-positive rate and the confusion matrix.
//!
//! A row is a variant's policy (or a scripted baseline, pooled over the runs that evaluated it,
//! one run per seed); each number is the mean over the row's runs of the run's hold-out value.

use std::collections::BTreeMap;

use vigil_env_opensec::calibration_level;

use crate::load::PolicyEval;
use crate::plot::{Fig, Heatmap};
use crate::report::{Item, Variant};
use crate::table::{Cell, Table};
use crate::ReportError;

struct Row<'a> {
    label: String,
    evals: Vec<&'a PolicyEval>,
}

/// Rows for the runs of environment `env`: each variant's own policies, then the baselines.
fn rows<'a>(variants: &'a [Variant], env: &str) -> Vec<Row<'a>> {
    let mut own: Vec<Row<'a>> = Vec::new();
    let mut base: Vec<(String, BTreeMap<u64, &'a PolicyEval>)> = Vec::new();
    for v in variants {
        let runs: Vec<_> = v.runs.iter().filter(|r| r.env == env).collect();
        for r in &runs {
            let baselines = r.baselines();
            let main = r.main_policy().map(|p| p.policy.clone());
            for p in &r.policies {
                if baselines.contains(&p.policy) && Some(&p.policy) != main.as_ref() {
                    match base.iter_mut().find(|b| b.0 == p.policy) {
                        Some(b) => {
                            b.1.entry(r.seed).or_insert(p);
                        }
                        None => base.push((p.policy.clone(), BTreeMap::from([(r.seed, p)]))),
                    }
                    continue;
                }
                let label = if Some(&p.policy) == main.as_ref() { v.label.clone() } else { format!("{} · {}", v.label, p.policy) };
                match own.iter_mut().find(|o| o.label == label) {
                    Some(o) => o.evals.push(p),
                    None => own.push(Row { label, evals: vec![p] }),
                }
            }
        }
    }
    own.extend(base.into_iter().map(|(name, by_seed)| Row { label: format!("baseline: {name}"), evals: by_seed.into_values().collect() }));
    own
}

fn mean(xs: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = xs.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn metric(r: &Row<'_>, k: &str) -> Option<f64> {
    mean(r.evals.iter().map(|p| p.summary.overall.metrics.get(k).map(|d| d.mean)))
}

fn envs_present(variants: &[Variant]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in variants.iter().flat_map(|v| v.runs.iter()) {
        if !out.contains(&r.env) {
            out.push(r.env.clone());
        }
    }
    out
}

/// Every environment table present in the runs.
pub(crate) fn section(variants: &[Variant]) -> Result<Vec<Item>, ReportError> {
    let mut items = Vec::new();
    for env in envs_present(variants) {
        let rs = rows(variants, &env);
        match env.as_str() {
            "opensec" => items.extend(opensec(&rs)),
            "opensoc" => items.extend(opensoc(&rs)),
            "cert" => items.extend(cert(&rs)),
            _ => {}
        }
    }
    Ok(items)
}

fn opensec(rs: &[Row<'_>]) -> Vec<Item> {
    let cols: [(&str, &str); 11] = [
        ("containment_executed", "containment executed"),
        ("false_positive", "false positive rate"),
        ("correct_containment", "correct containment"),
        ("injection_violation", "injection violation"),
        ("report_submitted", "report submitted"),
        ("egar", "EGAR"),
        ("ttfc", "TTFC"),
        ("blast_radius", "blast radius"),
        ("injection_violation_t1", "inj. T1"),
        ("injection_violation_t2", "inj. T2"),
        ("injection_violation_t3", "inj. T3"),
    ];
    let mut t = Table::new("opensec", "OpenSec: action-execution calibration on the hold-out", &[("policy", "policy"), ("runs", "runs"), ("total", "reward")]);
    for (k, h) in cols {
        t.column(k, h);
    }
    t.column("level", "level");
    let mut points = Vec::new();
    for r in rs {
        let mut row = vec![Cell::text(&r.label), Cell::Int(r.evals.len() as i64), Cell::num(mean(r.evals.iter().map(|p| Some(p.summary.overall.total.mean))))];
        for (k, _) in cols {
            row.push(Cell::num(metric(r, k)));
        }
        let fp = metric(r, "false_positive");
        row.push(match fp {
            Some(fp) => {
                let level = calibration_level(fp, metric(r, "egar"), metric(r, "ttfc"), metric(r, "blast_radius"));
                Cell::text(serde_json::to_value(level).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
            }
            None => Cell::Missing,
        });
        if let (Some(fp), Some(cc)) = (fp, metric(r, "correct_containment")) {
            points.push((r.label.clone(), fp, cc));
        }
        t.push(row);
    }
    t.notes.push(
        "Rates are shares of episodes (an episode with any false containment counts once). EGAR and TTFC average over episodes with containment actions, blast radius (false / max(1, correct)) over episodes that contained anything; level is the weakest link of the provisional thresholds.".into(),
    );
    vec![
        Item::Text("## OpenSec".into()),
        Item::Table(t),
        Item::Figure(
            "opensec-frontier".into(),
            Fig::Scatter("OpenSec: correct containment vs false positives".into(), ("false positive rate (episodes)".into(), "correct containment rate (episodes)".into()), points),
        ),
    ]
}

fn opensoc(rs: &[Row<'_>]) -> Vec<Item> {
    let mut t = Table::new("opensoc", "OpenSOC: triage on the frozen hold-out", &[
        ("policy", "Model"),
        ("runs", "runs"),
        ("accuracy", "Accuracy"),
        ("macro_f1", "Macro F1"),
        ("dismiss_on_malicious", "Dismiss-on-malicious"),
        ("over_react", "Over-react"),
        ("citation_correct", "Citation correct"),
        ("format_valid", "Format valid"),
        ("total", "Reward"),
    ]);
    let mut conf = Table::new("opensoc-confusion", "OpenSOC confusion matrices (gold rows × predicted columns, summed over runs)", &[("policy", "policy"), ("gold", "gold")]);
    let mut maps = Vec::new();
    let mut classes: Option<Vec<String>> = None;
    for r in rs {
        let cls = |f: fn(&vigil_metrics::classification::ClassReport) -> f64| mean(r.evals.iter().map(|p| p.summary.overall.classification.as_ref().map(f)));
        t.push(vec![
            Cell::text(&r.label),
            Cell::Int(r.evals.len() as i64),
            Cell::num(cls(|c| c.accuracy)),
            Cell::num(cls(|c| c.macro_f1)),
            Cell::num(metric(r, "dismiss_on_malicious")),
            Cell::num(metric(r, "over_react")),
            Cell::num(metric(r, "citation_correct")),
            Cell::num(mean(r.evals.iter().map(|p| Some(p.summary.overall.format_valid_rate)))),
            Cell::num(mean(r.evals.iter().map(|p| Some(p.summary.overall.total.mean)))),
        ]);
        let reports: Vec<_> = r.evals.iter().filter_map(|p| p.summary.overall.classification.as_ref()).collect();
        let Some(first) = reports.first() else { continue };
        if classes.is_none() {
            classes = Some(first.classes.clone());
            for c in &first.classes {
                conf.column(format!("pred.{c}"), c.clone());
            }
            conf.column("pred.invalid", vigil_metrics::classification::INVALID);
        }
        if classes.as_ref() != Some(&first.classes) {
            continue;
        }
        let k = first.classes.len();
        let mut sum = vec![vec![0.0; k + 1]; k];
        for rep in &reports {
            for (i, row) in rep.confusion.iter().enumerate() {
                for (j, x) in row.iter().enumerate() {
                    sum[i][j] += *x as f64;
                }
            }
        }
        for (i, row) in sum.iter().enumerate() {
            let mut cells = vec![Cell::text(&r.label), Cell::text(&first.classes[i])];
            cells.extend(row.iter().map(|x| Cell::Int(*x as i64)));
            conf.push(cells);
        }
        let mut cols = first.classes.clone();
        cols.push("invalid".into());
        maps.push(Heatmap { title: r.label.clone(), rows: first.classes.clone(), cols, counts: sum });
    }
    t.notes.push("Dismiss-on-malicious: share of malicious incidents dismissed; over-react: share of benign incidents answered with containment.".into());
    maps.truncate(9);
    let mut items = vec![Item::Text("## OpenSOC".into()), Item::Table(t)];
    if !conf.rows.is_empty() {
        items.push(Item::Table(conf));
        items.push(Item::Figure("opensoc-confusion".into(), Fig::Heatmaps("OpenSOC confusion matrices".into(), maps)));
    }
    items
}

fn cert(rs: &[Row<'_>]) -> Vec<Item> {
    let keys: [(&str, &str); 7] = [
        ("accuracy", "Accuracy"),
        ("macro_f1", "Macro F1"),
        ("recall_malicious", "Recall Malicious"),
        ("valid_format_rate", "Valid Format Rate"),
        ("actionability_rate", "Actionability Rate"),
        ("false_positive_rate", "False Positive Rate"),
        ("macro_f1_3class", "Macro F1 (3-class)"),
    ];
    let mut t = Table::new("cert", "CERT r4.2 insider threat (SOC Narrative metrics)", &[("policy", "Model"), ("runs", "runs"), ("n", "windows")]);
    for (k, h) in keys {
        t.column(k, h);
    }
    let mut conf = Table::new("cert-confusion", "CERT confusion matrices (gold rows × predicted columns, summed over runs)", &[
        ("policy", "policy"),
        ("gold", "gold"),
        ("pred.normal", "normal"),
        ("pred.suspicious", "suspicious"),
        ("pred.malicious", "malicious"),
        ("pred.unknown", "unknown"),
    ]);
    let mut maps = Vec::new();
    let labels = ["normal", "suspicious", "malicious"];
    for r in rs {
        let sums: Vec<&serde_json::Value> = r.evals.iter().map(|p| &p.env_summary).filter(|v| v.is_object()).collect();
        if sums.is_empty() {
            continue;
        }
        let get = |k: &str| mean(sums.iter().map(|s| s.get(k).and_then(serde_json::Value::as_f64)));
        let n: i64 = sums.iter().filter_map(|s| s.get("n").and_then(serde_json::Value::as_i64)).sum();
        let mut row = vec![Cell::text(&r.label), Cell::Int(sums.len() as i64), Cell::Int(n)];
        row.extend(keys.iter().map(|(k, _)| Cell::num(get(k))));
        t.push(row);
        let mut m = vec![vec![0.0; 4]; 3];
        for s in &sums {
            if let Some(rows) = s.get("confusion").and_then(|c| c.as_array()) {
                for (i, row) in rows.iter().take(3).enumerate() {
                    for (j, x) in row.as_array().into_iter().flatten().take(4).enumerate() {
                        m[i][j] += x.as_f64().unwrap_or(0.0);
                    }
                }
            }
        }
        for (i, row) in m.iter().enumerate() {
            let mut cells = vec![Cell::text(&r.label), Cell::text(labels[i])];
            cells.extend(row.iter().map(|x| Cell::Int(*x as i64)));
            conf.push(cells);
        }
        maps.push(Heatmap {
            title: r.label.clone(),
            rows: labels.iter().map(|s| s.to_string()).collect(),
            cols: ["normal", "suspicious", "malicious", "unknown"].iter().map(|s| s.to_string()).collect(),
            counts: m,
        });
    }
    if t.rows.is_empty() {
        return Vec::new();
    }
    t.notes.push("Macro F1 is the 2-class malicious-vs-not F1 the published SOC Narrative results use; the 3-class variant averages over the labels that occur.".into());
    maps.truncate(9);
    vec![
        Item::Text("## CERT r4.2".into()),
        Item::Table(t),
        Item::Table(conf),
        Item::Figure("cert-confusion".into(), Fig::Heatmaps("CERT confusion matrices".into(), maps)),
    ]
}
