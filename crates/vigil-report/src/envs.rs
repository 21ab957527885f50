//! Environment tables, built from what each environment declares (`run.json`'s
//! `env.metrics`: title, columns and where each value lives, an optional frontier scatter,
//! notes), so this module knows no environment by name. One section per environment present:
//! the declared table, then confusion matrices (the environment's own, else the label
//! metrics'), then the frontier.
//!
//! A row is a variant's policy (or a scripted baseline, pooled over the runs that evaluated it,
//! one run per seed); each number is the mean over the row's runs of the run's hold-out value,
//! and a text column lists each distinct value.

use std::collections::BTreeMap;

use vigil_core::{Confusion, EnvMetrics, MetricInfo, MetricSource};

use crate::ReportError;
use crate::load::{PolicyEval, RunData};
use crate::plot::{Fig, Heatmap};
use crate::report::{Item, Variant};
use crate::table::{Cell, Table};

struct Row<'a> {
    label: String,
    evals: Vec<&'a PolicyEval>,
}

/// Rows for the runs of environment `env`: each variant's own policies, then the baselines.
fn rows<'a>(variants: &'a [Variant], env: &str) -> Vec<Row<'a>> {
    let mut own: Vec<Row<'a>> = Vec::new();
    let mut base: Vec<(String, BTreeMap<u64, &'a PolicyEval>)> = Vec::new();
    for v in variants {
        let runs: Vec<_> = v.runs.iter().filter(|r| r.info.env.name == env).collect();
        for r in &runs {
            let baselines = r.baselines();
            let main = r.main_policy().map(|p| p.policy.clone());
            for p in &r.policies {
                if baselines.contains(&p.policy) && Some(&p.policy) != main.as_ref() {
                    match base.iter_mut().find(|b| b.0 == p.policy) {
                        Some(b) => {
                            b.1.entry(r.seed()).or_insert(p);
                        }
                        None => base.push((p.policy.clone(), BTreeMap::from([(r.seed(), p)]))),
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

/// A declared numeric metric of one evaluation.
fn value(p: &PolicyEval, m: &MetricInfo) -> Option<f64> {
    let o = &p.summary.overall;
    match m.source {
        MetricSource::Episode => o.metrics.get(&m.key).map(|d| d.mean),
        MetricSource::Summary => p.env_summary.metrics.get(&m.key).copied(),
        MetricSource::Accuracy => o.classification.as_ref().map(|c| c.accuracy),
        MetricSource::MacroF1 => o.classification.as_ref().map(|c| c.macro_f1),
        MetricSource::FormatValid => Some(o.format_valid_rate),
        MetricSource::Label => None,
    }
}

fn cell(r: &Row<'_>, m: &MetricInfo) -> Cell {
    if m.source == MetricSource::Label {
        let mut seen: Vec<&str> = Vec::new();
        for p in &r.evals {
            if let Some(l) = p.env_summary.labels.get(&m.key)
                && !seen.contains(&l.as_str())
            {
                seen.push(l);
            }
        }
        return if seen.is_empty() { Cell::Missing } else { Cell::text(seen.join(" / ")) };
    }
    Cell::num(mean(r.evals.iter().map(|p| value(p, m))))
}

/// Environments present, in run order, with their declarations.
fn envs_present(variants: &[Variant]) -> Vec<(String, &RunData)> {
    let mut out: Vec<(String, &RunData)> = Vec::new();
    for r in variants.iter().flat_map(|v| v.runs.iter()) {
        if !out.iter().any(|(n, _)| *n == r.info.env.name) {
            out.push((r.info.env.name.clone(), r));
        }
    }
    out
}

/// Every environment table present in the runs.
pub(crate) fn section(variants: &[Variant]) -> Result<Vec<Item>, ReportError> {
    let mut items = Vec::new();
    for (env, first) in envs_present(variants) {
        let decl = &first.info.env.metrics;
        if decl.metrics.is_empty() {
            continue;
        }
        let rs = rows(variants, &env);
        items.extend(env_section(&env, decl, &rs));
    }
    Ok(items)
}

fn env_section(env: &str, decl: &EnvMetrics, rs: &[Row<'_>]) -> Vec<Item> {
    let mut t = Table::new(env, &decl.title, &[("policy", "policy"), ("runs", "runs"), ("total", "reward")]);
    for m in &decl.metrics {
        t.column(&m.key, &m.header);
    }
    let mut points = Vec::new();
    for r in rs {
        let mut row = vec![Cell::text(&r.label), Cell::Int(r.evals.len() as i64), Cell::num(mean(r.evals.iter().map(|p| Some(p.summary.overall.total.mean))))];
        row.extend(decl.metrics.iter().map(|m| cell(r, m)));
        t.push(row);
        if let Some(f) = &decl.frontier {
            let get = |k: &str| decl.metrics.iter().find(|m| m.key == k).and_then(|m| mean(r.evals.iter().map(|p| value(p, m))));
            if let (Some(x), Some(y)) = (get(&f.x), get(&f.y)) {
                points.push((r.label.clone(), x, y));
            }
        }
    }
    t.notes.extend(decl.notes.iter().cloned());
    let mut items = vec![Item::Text(format!("## {}", decl.title)), Item::Table(t)];
    items.extend(confusion(env, rs));
    if let Some(f) = &decl.frontier {
        items.push(Item::Figure(format!("{env}-frontier"), Fig::Scatter(f.title.clone(), (f.x_label.clone(), f.y_label.clone()), points)));
    }
    items
}

/// An evaluation's confusion matrix: the environment's own, else the label metrics' (with the
/// unparsable answers as a last column).
fn matrix(p: &PolicyEval) -> Option<Confusion> {
    if let Some(c) = &p.env_summary.confusion {
        return Some(c.clone());
    }
    let c = p.summary.overall.classification.as_ref()?;
    let mut cols = c.classes.clone();
    cols.push("invalid".into());
    Some(Confusion { rows: c.classes.clone(), cols, counts: c.confusion.iter().map(|r| r.iter().map(|x| *x as u64).collect()).collect() })
}

/// Confusion tables and heatmaps, summed over each row's runs.
fn confusion(env: &str, rs: &[Row<'_>]) -> Vec<Item> {
    let mut conf: Option<Table> = None;
    let mut maps = Vec::new();
    for r in rs {
        let ms: Vec<Confusion> = r.evals.iter().filter_map(|p| matrix(p)).collect();
        let Some(first) = ms.first() else { continue };
        let t = conf.get_or_insert_with(|| {
            let mut t = Table::new(&format!("{env}-confusion"), "Confusion matrices (gold rows × predicted columns, summed over runs)", &[("policy", "policy"), ("gold", "gold")]);
            for c in &first.cols {
                t.column(format!("pred.{c}"), c.clone());
            }
            t
        });
        if t.columns.len() != first.cols.len() + 2 {
            continue;
        }
        let mut sum = vec![vec![0.0; first.cols.len()]; first.rows.len()];
        for m in ms.iter().filter(|m| m.rows == first.rows && m.cols == first.cols) {
            for (i, row) in m.counts.iter().enumerate() {
                for (j, x) in row.iter().enumerate() {
                    sum[i][j] += *x as f64;
                }
            }
        }
        for (i, row) in sum.iter().enumerate() {
            let mut cells = vec![Cell::text(&r.label), Cell::text(&first.rows[i])];
            cells.extend(row.iter().map(|x| Cell::Int(*x as i64)));
            t.push(cells);
        }
        maps.push(Heatmap { title: r.label.clone(), rows: first.rows.clone(), cols: first.cols.clone(), counts: sum });
    }
    let Some(conf) = conf else { return Vec::new() };
    maps.truncate(9);
    vec![Item::Table(conf), Item::Figure(format!("{env}-confusion"), Fig::Heatmaps("Confusion matrices".into(), maps))]
}
