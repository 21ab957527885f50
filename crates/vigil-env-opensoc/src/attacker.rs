//! The attacker role: `craft_incident` submissions, novelty, and the attacker reward.
//!
//! Attacker reward (range `[-0.5, 1.2]`):
//! - schema violation (unparsable JSON, unknown keys, wrong types, ...): [`SCHEMA_VIOLATION`];
//! - schema-valid but implausible ("gibberish"): 0, whatever the defender does;
//! - plausible: +1 iff the defender's action is wrong, plus [`NOVELTY_BONUS`] × novelty.
//!
//! Novelty is the Jaccard distance between the incident's *shape* (a bit set of event types,
//! fired rules, address classes, event-count bucket, category, verdict) and the nearest shape in
//! an archive of stock generator incidents. Shapes ignore concrete values, so renaming users or
//! reshuffling IPs of a stock incident earns nothing.

use serde::Serialize;
use serde_json::Value;
use vigil_core::{ComponentInfo, RewardComponent};

use crate::error::SchemaError;
use crate::net::{is_internal, is_sanctioned};
use crate::schema::{EventKind, IncidentParams};
use crate::verifier::{RuleId, Verdict, expected_parent, is_lolbin};
use crate::wire::incident_from_value;

/// Attacker reward for a schema violation.
pub const SCHEMA_VIOLATION: f64 = -0.5;
/// Attacker reward for fooling the defender on a plausible incident.
pub const FOOLED: f64 = 1.0;
/// Weight of novelty (in `[0, 1]`) in the attacker reward.
pub const NOVELTY_BONUS: f64 = 0.2;

/// Extracts and validates a `craft_incident` from an attacker answer: a JSON object
/// `{"craft_incident": {...}}` (or the bare incident), optionally in a code fence.
pub fn parse_craft(text: &str) -> Result<IncidentParams, SchemaError> {
    let (Some(a), Some(b)) = (text.find('{'), text.rfind('}')) else {
        return Err(SchemaError::Json("no JSON object in the answer".into()));
    };
    if b < a {
        return Err(SchemaError::Json("no JSON object in the answer".into()));
    }
    let v: Value = serde_json::from_str(&text[a..=b]).map_err(|e| SchemaError::Json(e.to_string()))?;
    match v.as_object() {
        Some(o) if o.len() == 1 && o.contains_key("craft_incident") => {
            incident_from_value(&o["craft_incident"]).map_err(|e| prefix(e, "craft_incident"))
        }
        _ => incident_from_value(&v),
    }
}

fn prefix(e: SchemaError, p: &str) -> SchemaError {
    let join = |path: String| if path.is_empty() { p.to_owned() } else { format!("{p}.{path}") };
    match e {
        SchemaError::Json(m) => SchemaError::Json(m),
        SchemaError::Missing { path } => SchemaError::Missing { path: join(path) },
        SchemaError::UnknownField { path, expected } => SchemaError::UnknownField { path: join(path), expected },
        SchemaError::WrongType { path, expected, found } => SchemaError::WrongType { path: join(path), expected, found },
        SchemaError::Invalid { path, reason } => SchemaError::Invalid { path: join(path), reason },
    }
}

/// The shape of an incident as a bit set (see the module docs).
pub fn shape(params: &IncidentParams, verdict: &Verdict) -> u64 {
    let mut bits = 0u64;
    let mut set = |b: u32| bits |= 1 << b;
    for e in &params.events {
        set(e.kind.event_type() as u32); // 0..8
        match &e.kind {
            EventKind::AuthLoginFailure { src_ip, .. } if !is_internal(*src_ip) => set(8),
            EventKind::PrivGrant { ticket: Some(_), .. } => set(9),
            EventKind::ProcExec { process, cmdline, .. } => {
                if is_lolbin(process) {
                    set(10);
                }
                if expected_parent(process).is_some() {
                    set(11);
                }
                if cmdline.is_some() {
                    set(12);
                }
            }
            EventKind::NetBeacon { dst_ip: Some(d), .. } | EventKind::NetFlow { dst_ip: d, .. } => {
                set(if is_internal(*d) { 13 } else if is_sanctioned(*d) { 14 } else { 15 });
                if d.is_ipv6() {
                    set(16);
                }
            }
            _ => {}
        }
    }
    for f in &verdict.fired {
        set(17 + f.rule as u32); // 17..30
    }
    let n = params.events.len();
    set(30 + match n { 0..=1 => 0, 2..=3 => 1, 4..=6 => 2, _ => 3 }); // 30..34
    set(34 + params.category as u32); // 34..41
    set(41 + verdict.action as u32); // 41..46
    debug_assert!(RuleId::ALL.len() <= 13);
    bits
}

/// Jaccard distance between two shapes, in `[0, 1]`.
pub fn shape_distance(a: u64, b: u64) -> f64 {
    let union = (a | b).count_ones();
    if union == 0 { 0.0 } else { 1.0 - f64::from((a & b).count_ones()) / f64::from(union) }
}

/// Shapes of stock incidents that novelty is measured against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoveltyArchive {
    shapes: Vec<u64>,
}

impl NoveltyArchive {
    /// An archive of the given shapes (deduplicated).
    pub fn new(mut shapes: Vec<u64>) -> Self {
        shapes.sort_unstable();
        shapes.dedup();
        Self { shapes }
    }
    /// Number of distinct shapes.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
    /// The archived shapes, sorted.
    pub fn shapes(&self) -> &[u64] {
        &self.shapes
    }
    /// This archive with `more` shapes added.
    pub fn with(&self, more: &[u64]) -> Self {
        Self::new(self.shapes.iter().chain(more).copied().collect())
    }
    /// Distance to the nearest archived shape (1 for an empty archive).
    pub fn novelty(&self, shape: u64) -> f64 {
        self.shapes.iter().map(|&s| shape_distance(shape, s)).fold(1.0, f64::min)
    }
}

/// How an attacker turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AttackerGrade {
    /// The submission did not satisfy the schema.
    SchemaViolation,
    /// Schema-valid but incoherent.
    Implausible,
    /// A plausible incident, and how the defender did on it.
    Plausible {
        /// The defender chose the verifier's action.
        defender_correct: bool,
        /// Novelty in `[0, 1]`.
        novelty: f64,
    },
}

/// The attacker reward (see the module docs).
pub fn attacker_reward(g: &AttackerGrade) -> f64 {
    match *g {
        AttackerGrade::SchemaViolation => SCHEMA_VIOLATION,
        AttackerGrade::Implausible => 0.0,
        AttackerGrade::Plausible { defender_correct, novelty } => {
            let fooled = if defender_correct { 0.0 } else { FOOLED };
            let n = if novelty.is_finite() { novelty.clamp(0.0, 1.0) } else { 0.0 };
            fooled + NOVELTY_BONUS * n
        }
    }
}

/// The attacker's reward components in self-play, in order: its role's reward vector. Their
/// sum with weights `(1, 0, 1, NOVELTY_BONUS)` is [`attacker_reward`].
pub const ATTACKER_COMPONENTS: [&str; 4] = ["attacker_schema", "attacker_plausible", "attacker_fooled", "attacker_novelty"];

/// The four attacker components of a grade (see [`ATTACKER_COMPONENTS`]): `schema` is
/// [`SCHEMA_VIOLATION`] for a violation and 0 otherwise; `plausible` is 1 for a plausible
/// incident; `fooled` is 1 when a plausible incident fooled the defender; `novelty` is the
/// novelty of a plausible incident. An implausible incident scores 0 on every one.
pub fn attacker_vector(g: &AttackerGrade) -> [f64; 4] {
    match *g {
        AttackerGrade::SchemaViolation => [SCHEMA_VIOLATION, 0.0, 0.0, 0.0],
        AttackerGrade::Implausible => [0.0; 4],
        AttackerGrade::Plausible { defender_correct, novelty } => {
            let n = if novelty.is_finite() { novelty.clamp(0.0, 1.0) } else { 0.0 };
            [0.0, 1.0, if defender_correct { 0.0 } else { FOOLED }, n]
        }
    }
}

/// Ranges and meanings of the four attacker components.
pub fn attacker_component_infos() -> Vec<ComponentInfo> {
    vec![
        ComponentInfo::new(ATTACKER_COMPONENTS[0], SCHEMA_VIOLATION, 0.0, "-0.5 when craft_incident violates the schema, else 0"),
        ComponentInfo::new(ATTACKER_COMPONENTS[1], 0.0, 1.0, "1 when the crafted incident is plausible"),
        ComponentInfo::new(ATTACKER_COMPONENTS[2], 0.0, FOOLED, "1 when a plausible incident fools the defender"),
        ComponentInfo::new(ATTACKER_COMPONENTS[3], 0.0, 1.0, "novelty of a plausible incident against the archive"),
    ]
}

/// The attacker reward as a [`RewardComponent`] (name `attacker`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttackerComponent;

impl RewardComponent<AttackerGrade> for AttackerComponent {
    fn info(&self) -> ComponentInfo {
        ComponentInfo::new(
            "attacker",
            SCHEMA_VIOLATION,
            FOOLED + NOVELTY_BONUS,
            "-0.5 schema violation, 0 implausible, +1 if a plausible incident fools the defender, +0.2 x novelty",
        )
    }
    fn score(&self, g: &AttackerGrade) -> f64 {
        attacker_reward(g)
    }
}

/// The attacker's system prompt: the schema it must follow and the game it plays.
pub const ATTACKER_SYSTEM: &str = "You are the red-team player of a SOC triage game. You craft one security incident \
as structured log events; a defender analyst then triages it. The ground truth is computed from your events by a \
fixed rule set (the same runbook the defender has); your narrative and target_label are recorded but never \
affect it. You score +1 when the defender picks the wrong action on a plausible incident, a small bonus for \
incidents unlike the stock ones, 0 for incoherent incidents and -0.5 for anything that violates the schema.

Answer with one JSON object and nothing else:
{\"craft_incident\": {\"category\": <category>, \"target_label\": <action>, \"narrative\": <short text>, \"events\": [
  {\"log_id\": \"L1-0\", \"timestamp\": \"2026-04-25T10:00:00Z\", \"source\": <source>, \"event_type\": <type>, \"fields\": {...}}, ...]}}

Rules: 1-32 events; log ids L1-0, L1-1, ... in order; timestamps non-decreasing within 24 h; strings <= 256 bytes \
without control characters. Categories: benign_noise, brute_force, credential_compromise, malware_execution, \
c2_beacon, data_exfiltration, privilege_escalation (the events must contain evidence of the category's family).
Event types (source: fields, ? = optional):
- auth.login_failure / auth.login_success (identity): user, src_ip, host
- priv.grant (iam): user, role, actor, ticket?
- proc.exec (edr): host, user, process, parent?, cmdline?   (a LOLBin needs a parent)
- net.beacon (proxy or netflow): host, src_ip, dst_ip?, dst_port, interval_s, count   (needs dst_ip, count >= 2)
- net.flow (netflow): host, src_ip (internal), dst_ip, dst_port, bytes_out
- dns.query (dns): host, domain, qtype
- file.access (file_audit): host, user, path, op (read|write|delete)";
