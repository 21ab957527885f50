//! Self-play: each role's training curves (its reward, its components, the metrics that
//! describe its play) from the `roles` sections of `metrics.jsonl`, and a table of each
//! quantity at the first RL step (rollouts of the warm-started policy) and at the end.

use crate::curves::{sanitize, seeds_series};
use crate::load::StepLine;
use crate::plot::{Fig, Panel};
use crate::report::{Item, Variant, run_name};
use crate::table::{Cell, Table};
use vigil_schema::metrics::RoleLine;

/// One quantity of a role's share of a step, as the schema's `RoleLine` carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Quantity {
    /// The role's weighted total.
    Reward,
    /// One of the role's reward components (raw mean).
    Component(String),
    /// One of the episode metrics the role's units report.
    Metric(String),
}

impl Quantity {
    fn of(&self, r: &RoleLine) -> Option<f64> {
        match self {
            Self::Reward => Some(r.reward.mean),
            Self::Component(n) => r
                .components
                .iter()
                .find(|c| &c.name == n)
                .map(|c| c.stat.mean),
            Self::Metric(n) => r.metrics.get(n).copied(),
        }
    }

    /// Short key for the table's `quantity` column.
    fn key(&self) -> String {
        match self {
            Self::Reward => "reward".into(),
            Self::Component(n) => format!("reward.{n}"),
            Self::Metric(n) => n.clone(),
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Reward => "reward (weighted, own components)".into(),
            Self::Component(n) => format!("reward: {n}"),
            Self::Metric(n) => format!("{} (mean over units)", n.replace('_', " ")),
        }
    }
}

/// `(step, value)` of one role quantity of a run.
fn trace(steps: &[StepLine], role: &str, what: &Quantity) -> Vec<(f64, f64)> {
    steps
        .iter()
        .filter_map(|s| {
            what.of(s.roles.iter().find(|r| r.role == role)?)
                .map(|v| (s.step as f64, v))
        })
        .collect()
}

/// Roles in first-seen order and their quantities (reward, then components, then metrics).
fn quantities(variants: &[Variant]) -> Vec<(String, Vec<Quantity>)> {
    let mut out: Vec<(String, Vec<Quantity>)> = Vec::new();
    for r in variants
        .iter()
        .flat_map(|v| v.runs.iter())
        .flat_map(|r| r.steps.iter())
        .flat_map(|s| s.roles.iter())
    {
        let k = match out.iter().position(|(n, _)| n == &r.role) {
            Some(k) => k,
            None => {
                out.push((r.role.clone(), Vec::new()));
                out.len() - 1
            }
        };
        let qs = std::iter::once(Quantity::Reward)
            .chain(
                r.components
                    .iter()
                    .map(|c| Quantity::Component(c.name.clone())),
            )
            .chain(r.metrics.keys().map(|m| Quantity::Metric(m.clone())));
        for q in qs {
            if !out[k].1.contains(&q) {
                out[k].1.push(q);
            }
        }
    }
    for (_, qs) in &mut out {
        qs.sort();
    }
    out
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
    let mut t = Table::new(
        "training-roles",
        "Self-play: each role's quantities at RL step 1 (SFT rollouts), at the last step and over the last 10% of steps",
        &[
            ("variant", "variant"),
            ("seed", "seed"),
            ("run", "run"),
            ("role", "role"),
            ("quantity", "quantity"),
            ("first", "step 1"),
            ("last", "last step"),
            ("tail", "last 10%"),
        ],
    );
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
                        Cell::Int(r.seed() as i64),
                        Cell::text(run_name(&r.dir)),
                        Cell::text(role),
                        Cell::text(q.key()),
                        // Only the first RL step's own value: a metric first reported later
                        // (e.g. the plausible rate once some craft passes the schema) is not
                        // the warm-started policy's level.
                        Cell::num(
                            tr.first()
                                .filter(|p| p.0 as u64 == r.steps[0].step)
                                .map(|p| p.1),
                        ),
                        Cell::num(tr.last().map(|p| p.1)),
                        Cell::num(Some(tail)),
                    ]);
                }
            }
        }
    }
    items.push(Item::Table(t));
    if let Some(game) = game_table(variants) {
        items.push(Item::Text(
            "Each checkpoint playing the whole game (every role) on the same fixed briefs (`eval/self-play.json`): \
             `mean` over the episodes that report the metric, `per ep.` with the others counted 0."
                .into(),
        ));
        items.push(Item::Table(game));
    }
    if let Some(cross) = cross_table(variants) {
        items.push(Item::Text(
            "Every pairing of checkpoints in the self-play game on the same briefs: the first role (the attacker) \
             from `first`, the other roles from `rest` (`eval/self-play.json`). A role's rows with the same \
             opponent compare its checkpoints on that opponent's fixed incidents."
                .into(),
        ));
        items.push(Item::Table(cross));
    }
    for (role, qs) in &roles {
        let panels: Vec<Panel> = qs
            .iter()
            .map(|q| Panel {
                title: q.label(),
                x_label: "RL step".into(),
                integer_x: true,
                y_label: "mean".into(),
                series: variants
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let traces: Vec<_> = v
                            .runs
                            .iter()
                            .map(|r| trace(&r.steps, role, q))
                            .filter(|t| !t.is_empty())
                            .collect();
                        if traces.is_empty() {
                            return None;
                        }
                        Some(seeds_series(&v.label, i, &traces))
                    })
                    .collect(),
            })
            .collect();
        items.push(Item::Figure(
            format!("training-role-{}", sanitize(role)),
            Fig::Lines(
                format!("Self-play: the {role}'s curves (mean over seeds; band: min–max)"),
                panels,
            ),
        ));
    }
    items
}

/// The warm-start against the trained checkpoint in each run's self-play game; `None` when no
/// run has one.
fn game_table(variants: &[Variant]) -> Option<Table> {
    let mut t = Table::new(
        "self-play-game",
        "Self-play game on fixed briefs: the warm-start (first evaluated checkpoint) against the trained one",
        &[
            ("variant", "variant"),
            ("seed", "seed"),
            ("run", "run"),
            ("role", "role"),
            ("metric", "metric"),
            ("first_mean", "warm-start mean"),
            ("last_mean", "trained mean"),
            ("first_per_episode", "warm-start per ep."),
            ("last_per_episode", "trained per ep."),
            ("episodes", "episodes"),
        ],
    );
    for v in variants {
        for r in &v.runs {
            let Some(game) = &r.self_play else { continue };
            let (Some(first), Some(last)) = (game.policies.first(), game.policies.last()) else {
                continue;
            };
            for role in &last.roles {
                for m in &role.metrics {
                    let before = first
                        .roles
                        .iter()
                        .find(|x| x.role == role.role)
                        .and_then(|x| x.metrics.iter().find(|y| y.name == m.name));
                    t.push(vec![
                        Cell::text(&v.label),
                        Cell::Int(r.seed() as i64),
                        Cell::text(run_name(&r.dir)),
                        Cell::text(&role.role),
                        Cell::text(&m.name),
                        Cell::num(before.and_then(|b| b.mean)),
                        Cell::num(m.mean),
                        Cell::num(before.map(|b| b.per_episode)),
                        Cell::num(Some(m.per_episode)),
                        Cell::Int(game.episodes as i64),
                    ]);
                }
            }
        }
    }
    (!t.rows.is_empty()).then_some(t)
}

/// Every game of each run's self-play evaluation (each checkpoint against itself, then the
/// cross-play pairings), a row per role metric; `None` when no run has cross-play.
fn cross_table(variants: &[Variant]) -> Option<Table> {
    let mut t = Table::new(
        "self-play-cross",
        "Self-play game per pairing: the first role from one checkpoint, the other roles from another",
        &[
            ("variant", "variant"),
            ("seed", "seed"),
            ("run", "run"),
            ("first", "first role by"),
            ("rest", "other roles by"),
            ("role", "role"),
            ("metric", "metric"),
            ("mean", "mean"),
            ("per_episode", "per ep."),
            ("episodes", "episodes"),
        ],
    );
    for v in variants {
        for r in &v.runs {
            let Some(game) = r.self_play.as_ref().filter(|g| !g.cross.is_empty()) else {
                continue;
            };
            let own = game
                .policies
                .iter()
                .map(|p| (p.policy.as_str(), p.policy.as_str(), &p.roles));
            let cross = game.cross.iter().map(|c| {
                let first = c.players.first().map_or("", |p| p.policy.as_str());
                let rest = c.players.last().map_or("", |p| p.policy.as_str());
                (first, rest, &c.roles)
            });
            for (first, rest, roles) in own.chain(cross) {
                for role in roles {
                    for m in &role.metrics {
                        t.push(vec![
                            Cell::text(&v.label),
                            Cell::Int(r.seed() as i64),
                            Cell::text(run_name(&r.dir)),
                            Cell::text(first),
                            Cell::text(rest),
                            Cell::text(&role.role),
                            Cell::text(&m.name),
                            Cell::num(m.mean),
                            Cell::num(Some(m.per_episode)),
                            Cell::Int(game.episodes as i64),
                        ]);
                    }
                }
            }
        }
    }
    (!t.rows.is_empty()).then_some(t)
}
