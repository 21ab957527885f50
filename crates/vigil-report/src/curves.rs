//! Training curves from `metrics.jsonl`: the total reward and each component per step, per
//! run and per variant (mean over seeds, min–max band), plus the trainer's diagnostics.

use std::collections::BTreeMap;

use crate::load::{Diagnostic, StepLine};
use crate::plot::{Fig, Panel, Series};
use crate::report::{Item, Variant, run_name};
use crate::table::{Cell, Table};

/// `(step, value)` of one quantity of a run.
fn trace(steps: &[StepLine], what: &str) -> Vec<(f64, f64)> {
    steps
        .iter()
        .filter_map(|s| {
            let v = match what {
                "total" => Some(s.reward),
                k if k.starts_with("reward.") => s.components.get(&k["reward.".len()..]).copied(),
                k if k.starts_with("zero_std.") || k.starts_with("corr.") || k.starts_with("hack.") => s.signal.get(k).copied(),
                k => Diagnostic::ALL.iter().find(|d| d.key() == k).and_then(|d| s.diagnostics.get(d)).copied(),
            };
            v.map(|v| (s.step as f64, v))
        })
        .collect()
}

/// The signal keys with `prefix` that any run logged, in first-seen order.
fn signal_keys(variants: &[Variant], prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for s in variants.iter().flat_map(|v| v.runs.iter()).flat_map(|r| r.steps.iter()) {
        for k in s.signal.keys().filter(|k| k.starts_with(prefix)) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

fn quantities(variants: &[Variant]) -> (Vec<String>, Vec<String>) {
    let mut comps: Vec<String> = Vec::new();
    let mut diags: Vec<String> = Vec::new();
    for s in variants.iter().flat_map(|v| v.runs.iter()).flat_map(|r| r.steps.iter()) {
        for c in s.components.keys() {
            let k = format!("reward.{c}");
            if !comps.contains(&k) {
                comps.push(k);
            }
        }
        for d in s.diagnostics.keys() {
            if !diags.iter().any(|x| x == d.key()) {
                diags.push(d.key().to_string());
            }
        }
    }
    let mut rewards = vec!["total".to_string()];
    rewards.extend(comps);
    diags.sort_by_key(|d| Diagnostic::ALL.iter().position(|x| x.key() == d.as_str()));
    (rewards, diags)
}

fn label(q: &str) -> String {
    match q {
        "total" => "total reward (weighted)".into(),
        k if k.starts_with("reward.") => format!("reward: {}", &k["reward.".len()..]),
        k if k.starts_with("zero_std.") => format!("zero-std groups: {}", &k["zero_std.".len()..]),
        k if k.starts_with("corr.") => format!("corr: {}", k["corr.".len()..].replace("__", " vs ")),
        k if k.starts_with("hack.") => format!("hacking: {}", &k["hack.".len()..]),
        k => Diagnostic::ALL.iter().find(|d| d.key() == k).map_or_else(|| k.replace('_', " "), |d| d.label().to_string()),
    }
}

/// Mean over runs at each step that every run reached, with the min–max band.
fn average(traces: &[Vec<(f64, f64)>]) -> (Vec<(f64, f64)>, Vec<(f64, f64, f64)>) {
    let mut by_step: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for tr in traces {
        for &(x, y) in tr {
            by_step.entry(x as u64).or_default().push(y);
        }
    }
    let n = traces.len();
    let mut line = Vec::new();
    let mut band = Vec::new();
    for (x, ys) in by_step.into_iter().filter(|(_, ys)| ys.len() == n) {
        let m = ys.iter().sum::<f64>() / n as f64;
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        line.push((x as f64, m));
        band.push((x as f64, lo, hi));
    }
    (line, band)
}

/// One variant's line over its seeds' traces: the mean, with the min–max band when there are
/// several seeds.
pub(crate) fn seeds_series(label: &str, color: usize, traces: &[Vec<(f64, f64)>]) -> Series {
    let (points, band) = average(traces);
    let n = traces.len();
    Series { name: format!("{label} ({n} seed{})", if n == 1 { "" } else { "s" }), points, band: if n > 1 { band } else { Vec::new() }, color }
}

/// The training section; empty when no run logged RL steps.
pub(crate) fn section(variants: &[Variant]) -> Vec<Item> {
    let trained: Vec<&Variant> = variants.iter().filter(|v| v.runs.iter().any(|r| !r.steps.is_empty())).collect();
    if trained.is_empty() {
        return Vec::new();
    }
    let (rewards, diags) = quantities(variants);
    let mut items = vec![Item::Text("## Training".into())];
    // Table: last-step and mean-of-last-10% values per run.
    let mut t = Table::new("training", "Training: reward at the last RL step and mean over the last 10% of steps", &[
        ("variant", "variant"),
        ("seed", "seed"),
        ("run", "run"),
        ("steps", "RL steps"),
    ]);
    for q in rewards.iter().chain(diags.iter()) {
        t.column(format!("{q}.last"), format!("{} (last)", label(q)));
        t.column(format!("{q}.tail"), format!("{} (last 10%)", label(q)));
    }
    for v in &trained {
        for r in v.runs.iter().filter(|r| !r.steps.is_empty()) {
            let mut row = vec![Cell::text(&v.label), Cell::Int(r.seed() as i64), Cell::text(run_name(&r.dir)), Cell::Int(r.steps.len() as i64)];
            for q in rewards.iter().chain(diags.iter()) {
                let tr = trace(&r.steps, q);
                let k = tr.len().div_ceil(10);
                let tail = (k > 0).then(|| tr[tr.len() - k..].iter().map(|p| p.1).sum::<f64>() / k as f64);
                row.push(Cell::num(tr.last().map(|p| p.1)));
                row.push(Cell::num(tail));
            }
            t.push(row);
        }
    }
    items.push(Item::Table(t));
    // Per variant, averaged over seeds: one panel per quantity, one line per variant.
    let panels = |qs: &[String]| -> Vec<Panel> {
        qs.iter()
            .map(|q| Panel {
                title: label(q),
                x_label: "RL step".into(),
                integer_x: true,
                y_label: match q.split('.').next() {
                    _ if q == "total" || q.starts_with("reward.") => "mean over rollouts".into(),
                    Some("zero_std") => "share of groups".into(),
                    Some("corr") => "Pearson r".into(),
                    Some("hack") => "share of rollouts flagged".into(),
                    _ => q.replace('_', " "),
                },
                series: trained
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let traces: Vec<_> = v.runs.iter().filter(|r| !r.steps.is_empty()).map(|r| trace(&r.steps, q)).collect();
                        seeds_series(&v.label, i, &traces)
                    })
                    .collect(),
            })
            .collect()
    };
    items.push(Item::Figure(
        "training-rewards".into(),
        Fig::Lines("Training reward per component (mean over seeds; band: min–max over seeds)".into(), panels(&rewards)),
    ));
    if !diags.is_empty() {
        items.push(Item::Figure("training-diagnostics".into(), Fig::Lines("Training diagnostics (mean over seeds; band: min–max)".into(), panels(&diags))));
    }
    // Reward signal: per component, the share of groups with no spread (no GDPO signal), and the
    // correlation of each pair of components (steps where it is undefined are gaps).
    let zero = signal_keys(variants, "zero_std.");
    if !zero.is_empty() {
        items.push(Item::Figure("training-zero-std".into(), Fig::Lines("Share of groups in which a component has zero std (mean over seeds; band: min–max)".into(), panels(&zero))));
    }
    let corr = signal_keys(variants, "corr.");
    if !corr.is_empty() {
        items.push(Item::Figure("training-corr".into(), Fig::Lines("Pearson correlation between reward components over each step's rollouts (mean over seeds; band: min–max)".into(), panels(&corr))));
    }
    // Reward hacking watched: the detectors' rates next to the total reward, so a reward that
    // rises with a detector is visible at a glance.
    let hack = signal_keys(variants, "hack.");
    if !hack.is_empty() {
        let qs: Vec<String> = std::iter::once("total".to_string()).chain(hack).collect();
        items.push(Item::Figure(
            "training-hacking".into(),
            Fig::Lines("Reward-hacking detectors on each step's rollouts, next to the total reward (mean over seeds; band: min–max)".into(), panels(&qs)),
        ));
    }
    // Per run: every quantity, one figure each.
    for v in &trained {
        for r in v.runs.iter().filter(|r| !r.steps.is_empty()) {
            let ps: Vec<Panel> = rewards
                .iter()
                .map(|q| Panel {
                    title: label(q),
                    x_label: "RL step".into(),
                integer_x: true,
                    y_label: "mean over rollouts".into(),
                    series: vec![Series { name: String::new(), points: trace(&r.steps, q), band: Vec::new(), color: 0 }],
                })
                .collect();
            let stem = format!("training-run-{}", sanitize(&run_name(&r.dir)));
            items.push(Item::Figure(stem, Fig::Lines(format!("Training curves: {} (seed {})", v.label, r.seed()), ps)));
        }
    }
    items
}

/// A file-name-safe version of a label.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.=,".contains(c) { c } else { '_' }).collect()
}
