//! Shortcut audit: how well investigation-free rules answer a seed set's report fields.
//!
//! Each scenario is played with a policy that never investigates (it spends every step but the
//! last on a no-op fetch), so the attacker runs its course; then every rule reads the rows an
//! agent could see at that point, in the order a query lists them, and guesses each report field
//! from surface features only: names and TLDs, first and last appearance, frequency, "the only X
//! in table T", what injections name, the first observation, id ordering, alert severity. A
//! rule's accuracy is compared with chance: a uniform pick among the scenario's candidates of
//! that kind (hosts, users, domains, data targets; for the initial vector, the vectors of the
//! whole set). A seed set an agent cannot shortcut has every rule near chance.

mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::evidence::{Row, Table};
use crate::seed::Attribution;
use crate::{OpenSecEnv, Scenario};

pub use rules::RULES;

/// A report field the audit scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `patient_zero_host`.
    PatientZero,
    /// `compromised_user`.
    User,
    /// `attacker_domain`.
    AttackerDomain,
    /// `data_target`.
    DataTarget,
    /// `initial_vector`.
    InitialVector,
}

impl Field {
    /// Every field, in report order.
    pub const ALL: [Field; 5] =
        [Field::PatientZero, Field::User, Field::AttackerDomain, Field::DataTarget, Field::InitialVector];

    /// The report field name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::PatientZero => "patient_zero_host",
            Field::User => "compromised_user",
            Field::AttackerDomain => "attacker_domain",
            Field::DataTarget => "data_target",
            Field::InitialVector => "initial_vector",
        }
    }

    /// Entity fields index the scenario's entity lists (hosts, users, domains, targets).
    fn entity_kind(self) -> Option<usize> {
        match self {
            Field::PatientZero => Some(0),
            Field::User => Some(1),
            Field::AttackerDomain => Some(2),
            Field::DataTarget => Some(3),
            Field::InitialVector => None,
        }
    }
}

/// One row as the rules see it.
#[derive(Debug, Clone)]
pub(crate) struct SeenRow {
    pub(crate) step: u32,
    pub(crate) table: Table,
    pub(crate) trusted: bool,
    pub(crate) injected: bool,
    pub(crate) severity: Option<String>,
    /// All text of the row, space-joined.
    pub(crate) text: String,
    /// `(kind, entity)` mentions, kind as in [`Field::entity_kind`], in text order.
    pub(crate) mentions: Vec<(usize, String)>,
}

/// What the rules know about one scenario.
#[derive(Debug, Clone)]
pub(crate) struct View {
    pub(crate) rows: Vec<SeenRow>,
    /// Candidates per entity kind (hosts, users, domains, targets).
    pub(crate) candidates: [Vec<String>; 4],
    /// The initial vectors of the whole seed set.
    pub(crate) vectors: Vec<String>,
}

impl View {
    /// Rows across tables by step (the order the incident unfolds in), ties in listing order.
    pub(crate) fn timeline(&self) -> impl Iterator<Item = &SeenRow> {
        let mut idx: Vec<usize> = (0..self.rows.len()).collect();
        idx.sort_by_key(|&i| (self.rows[i].step, i));
        idx.into_iter().map(move |i| &self.rows[i])
    }
}

fn is_id_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')
}

/// Whole-token occurrences of any candidate in `text`, in text order.
fn mentions_in(text: &str, candidates: &[Vec<String>; 4]) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for (kind, list) in candidates.iter().enumerate() {
        for c in list {
            for (i, _) in text.match_indices(c.as_str()) {
                let end = i + c.len();
                let free_before = i == 0 || !is_id_byte(b[i - 1]);
                let free_after = end == b.len() || !is_id_byte(b[end]);
                if free_before && free_after {
                    out.push((i, kind, c.clone()));
                }
            }
        }
    }
    out.sort();
    out.into_iter().map(|(_, k, c)| (k, c)).collect()
}

fn seen_row(r: &Row, candidates: &[Vec<String>; 4]) -> SeenRow {
    let cols = r.table.columns();
    let mut text = String::new();
    // The row id (first column), the scenario id and the time carry no entity.
    for (c, v) in cols.iter().zip(&r.cells).skip(1) {
        if c.label || matches!(c.name, "scenario_id" | "created_at") {
            continue;
        }
        if let Some(s) = v.as_str() {
            text.push_str(s);
            text.push(' ');
        }
    }
    let severity = r.table.column("severity", false).and_then(|i| r.cells[i].as_str()).map(str::to_string);
    SeenRow {
        step: r.step,
        table: r.table,
        trusted: r.trust_tier() != Some("untrusted"),
        injected: r.injection.is_some(),
        severity,
        mentions: mentions_in(&text, candidates),
        text,
    }
}

/// Plays the scenario's seed-0 episode without investigating and returns what the rules see,
/// with the episode's ground truth.
fn view(env: &OpenSecEnv, sc: &Scenario, vectors: &[String]) -> Option<(View, Attribution)> {
    use vigil_core::{Episode, Step};
    let task = vigil_core::TaskId::new(sc.id.clone());
    let mut ep = env.start_episode(&task).ok()?;
    let idle = r#"{"name": "fetch_alert", "arguments": {"alert_id": "none"}}"#;
    // `sc` is the seed-0 episode's scenario (what `start_episode` plays).
    for _ in 1..sc.max_steps {
        if let Ok(Step::Done(_)) | Err(_) = ep.step(idle) {
            break;
        }
    }
    let candidates = sc.entities().map(|l| l.into_iter().map(str::to_string).collect::<Vec<_>>());
    let rows = ep.visible_rows().into_iter().map(|r| seen_row(r, &candidates)).collect();
    Some((View { rows, candidates, vectors: vectors.to_vec() }, sc.truth.clone()))
}

/// One rule's result on one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleScore {
    /// Rule name.
    pub rule: String,
    /// Field.
    pub field: Field,
    /// Scenarios answered correctly.
    pub correct: usize,
    /// Scenarios the rule applied to (it answers every scenario; abstaining counts as wrong).
    pub n: usize,
    /// `correct / n`.
    pub accuracy: f64,
    /// Chance on the same scenarios.
    pub chance: f64,
}

impl RuleScore {
    /// Accuracy above chance, in points (percent).
    pub fn excess_points(&self) -> f64 {
        100.0 * (self.accuracy - self.chance)
    }
}

/// The audit of one seed set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditReport {
    /// Scenarios audited.
    pub scenarios: usize,
    /// Chance per field.
    pub chance: BTreeMap<Field, f64>,
    /// Every rule on every field it answers.
    pub scores: Vec<RuleScore>,
}

impl AuditReport {
    /// The rule/field with the largest excess over chance.
    pub fn worst(&self) -> Option<&RuleScore> {
        self.scores.iter().max_by(|a, b| a.excess_points().total_cmp(&b.excess_points()))
    }

    /// A fixed-width table: one line per rule, accuracy per field, chance on top.
    pub fn table(&self) -> String {
        self.render(false)
    }

    /// The same table in Markdown.
    pub fn markdown(&self) -> String {
        self.render(true)
    }

    fn render(&self, md: bool) -> String {
        let mut out = String::new();
        let head: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
        let line = |name: &str, cells: Vec<String>| {
            if md {
                format!("| {name} | {} |\n", cells.join(" | "))
            } else {
                let c: Vec<String> = cells.iter().map(|c| format!("{c:>18}")).collect();
                format!("{name:<28}{}\n", c.join(""))
            }
        };
        out.push_str(&line("rule", head.iter().map(|s| s.to_string()).collect()));
        if md {
            out.push_str(&format!("|---|{}\n", "---:|".repeat(head.len())));
        }
        let pct = |x: f64| format!("{:.1}", 100.0 * x);
        out.push_str(&line(
            "chance",
            Field::ALL.iter().map(|f| self.chance.get(f).map_or("-".into(), |c| pct(*c))).collect(),
        ));
        let names: Vec<&str> = {
            let mut seen = BTreeSet::new();
            self.scores.iter().map(|s| s.rule.as_str()).filter(|r| seen.insert(*r)).collect()
        };
        for name in names {
            let cells = Field::ALL
                .iter()
                .map(|f| {
                    self.scores
                        .iter()
                        .find(|s| s.rule == name && s.field == *f)
                        .map_or("-".into(), |s| format!("{} ({:+.1})", pct(s.accuracy), s.excess_points()))
                })
                .collect();
            out.push_str(&line(name, cells));
        }
        out
    }
}

/// Audits every scenario of `env` (both splits). Run it on a hardened environment to audit what
/// a trained agent sees, or on a compat one for the peer's rules.
pub fn audit(env: &OpenSecEnv) -> AuditReport {
    let vectors: Vec<String> =
        env.scenarios().iter().map(|s| s.truth.initial_vector.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut views = Vec::new();
    for sc in env.scenarios() {
        views.extend(view(env, sc, &vectors));
    }
    let n = views.len();
    let mut chance = BTreeMap::new();
    for f in Field::ALL {
        let c: f64 = views
            .iter()
            .map(|(v, _)| {
                let k = f.entity_kind().map_or(v.vectors.len(), |k| v.candidates[k].len());
                if k == 0 { 0.0 } else { 1.0 / k as f64 }
            })
            .sum::<f64>()
            / n.max(1) as f64;
        chance.insert(f, c);
    }
    let majority = majority_vector(views.iter().map(|(_, t)| t.initial_vector.as_str()));
    let mut scores = Vec::new();
    for rule in RULES {
        for f in Field::ALL {
            let mut correct = 0;
            let mut applies = false;
            for (v, t) in &views {
                let truth = match f {
                    Field::PatientZero => &t.patient_zero_host,
                    Field::User => &t.compromised_user,
                    Field::AttackerDomain => &t.attacker_domain,
                    Field::DataTarget => &t.data_target,
                    Field::InitialVector => &t.initial_vector,
                };
                match (rule.guess)(v, f, &majority) {
                    rules::Guess::NotApplicable => {}
                    rules::Guess::Answer(a) => {
                        applies = true;
                        correct += usize::from(a.as_deref() == Some(truth.as_str()));
                    }
                }
            }
            if applies {
                scores.push(RuleScore {
                    rule: rule.name.to_string(),
                    field: f,
                    correct,
                    n,
                    accuracy: correct as f64 / n.max(1) as f64,
                    chance: chance[&f],
                });
            }
        }
    }
    AuditReport { scenarios: n, chance, scores }
}

fn majority_vector<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in it {
        *counts.entry(v).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, c)| *c).map(|(v, _)| v.to_string()).unwrap_or_default()
}
