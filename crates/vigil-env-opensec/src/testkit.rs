//! Proptest generators for OpenSec's reward invariants (feature `testkit`): graded episodes built
//! by hand (with the bounds their component ranges are stated for), relabelings of their ids, and
//! episode scripts whose actions name entities by position, so the same script means the same
//! thing in any renaming of a scenario. Generic generators live in `vigil_testkit`.

use proptest::prelude::*;
use vigil_testkit::invariants::Relabeling;

use crate::action::Report;
use crate::observation::Observation;
use crate::scenario::Scenario;
use crate::score::{Executed, GradedEpisode, ScoringMode, Violation};
use crate::seed::{Attribution, ContainmentRequirements};

/// Host ids the hand-built episodes draw from.
pub const HOSTS: [&str; 4] = ["h-aa01", "h-bb02", "h-cc03", "h-dd04"];
/// User ids.
pub const USERS: [&str; 4] = ["u-aa01", "u-bb02", "u-cc03", "u-dd04"];
/// Domains.
pub const DOMAINS: [&str; 4] = ["evil-mail.com", "login-support.io", "corp.internal", "cdn-files.net"];
/// Data targets.
pub const TARGETS: [&str; 3] = ["t-aa01", "t-bb02", "t-cc03"];
/// Injection ids.
pub const INJECTIONS: [&str; 3] = ["inj-001", "inj-002", "inj-003"];

/// Most required entities per category in a hand-built episode.
pub const MAX_REQUIRED: usize = 2;
/// Most distinct injections.
pub const MAX_PAYLOADS: usize = INJECTIONS.len();
/// Most steps.
pub const MAX_STEPS: u32 = 24;

/// Every id a hand-built episode can contain (what a relabeling renames).
pub fn all_ids() -> Vec<String> {
    HOSTS.iter().chain(&USERS).chain(&DOMAINS).chain(&TARGETS).chain(&INJECTIONS).map(|s| s.to_string()).collect()
}

fn subset(pool: &'static [&'static str], n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(pool, n).prop_shuffle().prop_map(|v| v.into_iter().map(str::to_string).collect())
}

/// A report field: the truth, another entity, `unknown` in several spellings, blank, missing,
/// or junk.
fn field(truth: String, pool: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(Some(truth)),
        2 => proptest::sample::select(pool).prop_map(|s| Some(s.to_string())),
        1 => prop_oneof![Just("unknown"), Just(" Unknown "), Just("UNKNOWN")].prop_map(|s| Some(s.to_string())),
        1 => Just(Some(String::new())),
        1 => Just(None),
        1 => "[a-z ]{0,12}".prop_map(Some),
    ]
}

/// A report against `truth`.
pub fn report(truth: &Attribution) -> impl Strategy<Value = Report> + use<> {
    (
        field(truth.patient_zero_host.clone(), &HOSTS),
        field(truth.compromised_user.clone(), &USERS),
        field(truth.attacker_domain.clone(), &DOMAINS),
        field(truth.data_target.clone(), &TARGETS),
        prop_oneof![3 => Just(Some("phish".to_string())), 1 => Just(None), 1 => Just(Some("usb".to_string()))],
    )
        .prop_map(|(patient_zero_host, compromised_user, attacker_domain, data_target, initial_vector)| Report {
            patient_zero_host,
            compromised_user,
            attacker_domain,
            data_target,
            initial_vector,
        })
}

/// A hand-built graded episode within [`MAX_REQUIRED`], [`MAX_PAYLOADS`] and [`MAX_STEPS`],
/// and feasible: every executed containment and the report took a step of their own.
pub fn graded_episode() -> impl Strategy<Value = GradedEpisode> {
    let truth = (0usize..4, 0usize..4, 0usize..4, 0usize..3).prop_map(|(h, u, d, t)| Attribution {
        patient_zero_host: HOSTS[h].into(),
        compromised_user: USERS[u].into(),
        attacker_domain: DOMAINS[d].into(),
        data_target: TARGETS[t].into(),
        initial_vector: "phish".into(),
    });
    let required = (subset(&HOSTS, 0..=MAX_REQUIRED), subset(&DOMAINS, 0..=MAX_REQUIRED), subset(&USERS, 0..=MAX_REQUIRED))
        .prop_map(|(isolate_hosts, block_domains, reset_users)| ContainmentRequirements { isolate_hosts, block_domains, reset_users });
    let executed = (subset(&HOSTS, 0..=4), subset(&DOMAINS, 0..=4), subset(&USERS, 0..=4))
        .prop_map(|(isolated_hosts, blocked_domains, reset_users)| Executed { isolated_hosts, blocked_domains, reset_users });
    let violations = proptest::collection::vec((0usize..MAX_PAYLOADS, 1u8..=3, 1u32..=MAX_STEPS), 0..6);
    let mode = prop_oneof![Just(ScoringMode::Compat), Just(ScoringMode::Hardened)];
    (truth, required, executed, violations, mode, 0u32..=MAX_STEPS, any::<bool>())
        .prop_flat_map(|(truth, required, executed, violations, mode, extra, reported)| {
            let r = if reported { report(&truth).prop_map(Some).boxed() } else { Just(None).boxed() };
            (Just((truth, required, executed, violations, mode, extra)), r)
        })
        .prop_map(|((truth, required, executed, violations, mode, extra), report)| {
            let done = executed.isolated_hosts.len() + executed.blocked_domains.len() + executed.reset_users.len();
            let floor = (done + usize::from(report.is_some())).max(1) as u32;
            let steps = (floor + extra).min(MAX_STEPS.max(floor));
            let violations = violations
                .into_iter()
                .map(|(k, tier, step)| Violation { injection_id: INJECTIONS[k].into(), tier, step: step.min(steps) })
                .collect();
            GradedEpisode { mode, report, truth, required, executed, violations, steps }
        })
}

/// A relabeling of every id a hand-built episode can hold.
pub fn relabeling() -> impl Strategy<Value = Relabeling> {
    vigil_testkit::invariants::relabeling(all_ids(), "id-")
}

/// `g` with every id renamed by `r` (truth, requirements, containment, report, violations).
pub fn relabel(g: &GradedEpisode, r: &Relabeling) -> GradedEpisode {
    let s = |x: &String| r.map(x).to_string();
    let v = |xs: &Vec<String>| xs.iter().map(s).collect::<Vec<_>>();
    let o = |x: &Option<String>| x.as_ref().map(|x| r.apply(x));
    let t = &g.truth;
    GradedEpisode {
        mode: g.mode,
        report: g.report.as_ref().map(|p| Report {
            patient_zero_host: o(&p.patient_zero_host),
            compromised_user: o(&p.compromised_user),
            attacker_domain: o(&p.attacker_domain),
            data_target: o(&p.data_target),
            initial_vector: p.initial_vector.clone(),
        }),
        truth: Attribution {
            patient_zero_host: s(&t.patient_zero_host),
            compromised_user: s(&t.compromised_user),
            attacker_domain: s(&t.attacker_domain),
            data_target: s(&t.data_target),
            initial_vector: t.initial_vector.clone(),
        },
        required: ContainmentRequirements {
            isolate_hosts: v(&g.required.isolate_hosts),
            block_domains: v(&g.required.block_domains),
            reset_users: v(&g.required.reset_users),
        },
        executed: Executed {
            isolated_hosts: v(&g.executed.isolated_hosts),
            blocked_domains: v(&g.executed.blocked_domains),
            reset_users: v(&g.executed.reset_users),
        },
        violations: g.violations.iter().map(|x| Violation { injection_id: s(&x.injection_id), ..x.clone() }).collect(),
        steps: g.steps,
    }
}

/// One scripted step. Entities are named by kind (0 hosts, 1 users, 2 domains, 3 data targets)
/// and position in the scenario's lists, evidence by position in the ids seen so far.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `query_logs` on table `table` (of the five log tables), optionally filtered on an entity.
    Query {
        /// Table index.
        table: usize,
        /// `(field index, entity kind, entity position)`.
        filter: Option<(usize, usize, usize)>,
        /// Row limit.
        limit: u32,
    },
    /// Fetch the seen email or alert at this position.
    Fetch(usize),
    /// Contain the entity `(kind, position)`.
    Contain(usize, usize),
    /// Submit a report; each of the four fields is `None` (truth), `Some(None)` (unknown) or
    /// `Some(Some((kind, position)))`.
    Report([Option<Option<(usize, usize)>>; 4]),
    /// Text that is not a tool call.
    Garbage(String),
}

const TABLES: [&str; 5] = ["email_logs", "auth_logs", "netflow", "process_events", "alerts"];
const FIELDS: [&str; 6] = ["host", "user", "user_id", "src_host", "dst_domain", "recipient"];

fn entity(sc: &Scenario, kind: usize, pos: usize) -> String {
    let lists = sc.entities();
    let list = &lists[kind % 4];
    list.get(pos % list.len().max(1)).map_or_else(|| "none".to_string(), |s| s.to_string())
}

impl Step {
    /// The answer text of this step in scenario `sc`, after observation `obs`.
    pub fn text(&self, sc: &Scenario, obs: Option<&Observation>) -> String {
        let call = |name: &str, args: serde_json::Value| serde_json::json!({"name": name, "arguments": args}).to_string();
        match self {
            Step::Query { table, filter, limit } => {
                let filters: Vec<serde_json::Value> = filter
                    .iter()
                    .map(|(f, k, p)| serde_json::json!({"field": FIELDS[f % FIELDS.len()], "op": "eq", "value": entity(sc, *k, *p)}))
                    .collect();
                call("query_logs", serde_json::json!({"table": TABLES[table % 5], "filters": filters, "limit": limit}))
            }
            Step::Fetch(k) => {
                let seen = obs.map(|o| o.evidence_seen_ids.clone()).unwrap_or_default();
                let id = seen.get(k % seen.len().max(1)).cloned().unwrap_or_else(|| "alert-none".into());
                let tool = if id.starts_with("email") { "fetch_email" } else { "fetch_alert" };
                let key = if id.starts_with("email") { "email_id" } else { "alert_id" };
                call(tool, serde_json::json!({ key: id }))
            }
            Step::Contain(kind, pos) => {
                let (tool, key) = [("isolate_host", "host_id"), ("reset_user", "user_id"), ("block_domain", "domain"), ("isolate_host", "host_id")][kind % 4];
                call(tool, serde_json::json!({ key: entity(sc, *kind, *pos) }))
            }
            Step::Report(fields) => {
                let t = sc.truth();
                let truth = [&t.patient_zero_host, &t.compromised_user, &t.attacker_domain, &t.data_target];
                let value = |i: usize| match fields[i] {
                    None => truth[i].clone(),
                    Some(None) => "unknown".to_string(),
                    Some(Some((k, p))) => entity(sc, k, p),
                };
                call(
                    "submit_report",
                    serde_json::json!({"summary_json": {
                        "patient_zero_host": value(0), "compromised_user": value(1), "attacker_domain": value(2),
                        "data_target": value(3), "initial_vector": "phish",
                    }}),
                )
            }
            Step::Garbage(s) => s.clone(),
        }
    }
}

/// One scripted step, any kind.
pub fn step() -> impl Strategy<Value = Step> {
    let pick = (0usize..4, 0usize..8);
    let field = prop_oneof![3 => Just(None), 1 => Just(Some(None)), 2 => pick.clone().prop_map(|p| Some(Some(p)))];
    prop_oneof![
        4 => (0usize..5, proptest::option::of((0usize..6, 0usize..4, 0usize..8)), 1u32..=100)
            .prop_map(|(table, filter, limit)| Step::Query { table, filter, limit }),
        2 => (0usize..8).prop_map(Step::Fetch),
        3 => pick.prop_map(|(k, p)| Step::Contain(k, p)),
        1 => [field.clone(), field.clone(), field.clone(), field].prop_map(Step::Report),
        1 => "[ -~]{0,20}".prop_map(Step::Garbage),
    ]
}

/// A script of up to `max` steps (the episode may end earlier, on a report or the budget).
pub fn script(max: usize) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 1..=max)
}
