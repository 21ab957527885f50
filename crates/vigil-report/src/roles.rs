//! Self-play: each role's training curves (its reward, its components, the metrics that
//! describe its play) from the `roles` sections of `metrics.jsonl`, and a table of each
//! quantity at the first RL step (rollouts of the warm-started policy) and at the end.

use crate::curves::{sanitize, seeds_series};
use crate::load::StepLine;
use crate::plot::{Fig, Panel};
use crate::report::{Item, Variant, run_name};
use crate::table::{Cell, Table};

/// `(step, value)` of one role quantity of a run.
fn trace(steps: &[StepLine], role: &str, what: &str) -> Vec<(f64, f64)> {
    steps.iter().filter_map(|s| s.roles.get(role)?.get(what).map(|v| (s.step as f64, *v))).collect()
}

/// Roles and their quantities, in first-seen order (`reward` first, then components, then
/// metrics).
fn quantities(variants: &[Variant]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for s in variants.iter().flat_map(|v| v.runs.iter()).flat_map(|r| r.steps.iter()) {
        for (role, q) in &s.roles {
            let k = match out.iter().position(|(r, _)| r == role) {
                Some(k) => k,
                None => {
                    out.push((role.clone(), Vec::new()));
                    out.len() - 1
                }
            };
            for name in q.keys() {
                if !out[k].1.contains(name) {
                    out[k].1.push(name.clone());
                }
            }
        }
    }
    for (_, qs) in &mut out {
        qs.sort_by_key(|q| (q != "reward", !q.starts_with("reward."), q.clone()));
    }
    out
}

fn label(q: &str) -> String {
    match q {
        "reward" => "reward (weighted, own components)".into(),
        k if k.starts_with("reward.") => format!("reward: {}", &k["reward.".len()..]),
        k => format!("{} (mean over units)", k.replace('_', " ")),
    }
}

/// The per-role section; empty when no run logged roles.
pub(crate) fn section(variants: &[Variant]) -> Vec<Item> {
    let roles = quantities(variants);
    if roles.is_empty() {
        return Vec::new();
    }
    let mut items = vec![Item::Text(
        "## Self-play roles\n\nEach role's own reward vector and play metrics per RL step. Step 1's rollouts come from the \
         warm-started (SFT) policy, so its values are the SFT level."
            .into(),
    )];
    let mut t = Table::new("training-roles", "Self-play: each role's quantities at RL step 1 (SFT rollouts), at the last step and over the last 10% of steps", &[
        ("variant", "variant"),
        ("seed", "seed"),
        ("run", "run"),
        ("role", "role"),
        ("quantity", "quantity"),
        ("first", "step 1"),
        ("last", "last step"),
        ("tail", "last 10%"),
    ]);
    for v in variants {
        for r in v.runs.iter().filter(|r| !r.steps.is_empty()) {
            for (role, qs) in &roles {
                for q in qs {
                    let tr = trace(&r.steps, role, q);
                    if tr.is_empty() {
                        continue;
                    }
                    let k = tr.len().div_ceil(10);
                    let tail = tr[tr.len() - k..].iter().map(|p| p.1).sum::<f64>() / k as f64;
                    t.push(vec![
                        Cell::text(&v.label),
                        Cell::Int(r.seed as i64),
                        Cell::text(run_name(&r.dir)),
                        Cell::text(role),
                        Cell::text(q),
                        Cell::num(tr.first().map(|p| p.1)),
                        Cell::num(tr.last().map(|p| p.1)),
                        Cell::num(Some(tail)),
                    ]);
                }
            }
        }
    }
    items.push(Item::Table(t));
    for (role, qs) in &roles {
        let panels: Vec<Panel> = qs
            .iter()
            .map(|q| Panel {
                title: label(q),
                x_label: "RL step".into(),
                y_label: "mean".into(),
                series: variants
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let traces: Vec<_> = v.runs.iter().map(|r| trace(&r.steps, role, q)).filter(|t| !t.is_empty()).collect();
                        if traces.is_empty() {
                            return None;
                        }
                        Some(seeds_series(&v.label, i, &traces))
                    })
                    .collect(),
            })
            .collect();
        items.push(Item::Figure(format!("training-role-{}", sanitize(role)), Fig::Lines(format!("Self-play: the {role}'s curves (mean over seeds; band: min–max)"), panels)));
    }
    items
}
