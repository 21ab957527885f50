//! Scripted baselines. They answer in the same text format a language model must use (their
//! answers go through the same parser) and read only the conversation, except the oracle, which
//! reads the ground truth of `GenerationRequest::task`.

mod chain;
mod evidence;
pub mod probes;

use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use vigil_core::{Generation, GenerationRequest, Policy, PolicyError, derive_seed, rng_from_seed};

use self::evidence::{Kind, Mention, Transcript, mentions};
use crate::action::{Action, Report};
use crate::evidence::Table;
use crate::query::Query;
use crate::{OpenSecEnv, episode::truth_report};

/// The five scripted policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// Reports every field as `unknown` at once (the floor an honest agent can always reach).
    Null,
    /// Contains exactly the required entities and reports the ground truth (the ceiling).
    Oracle,
    /// Reads the log tables, trusts only non-`untrusted` rows, links them by host (on seeds
    /// with background activity), contains what the evidence supports and reports it.
    EvidenceHeuristic,
    /// Reads each log table once and reports (and contains) the first trusted host, user,
    /// domain and target it saw, `phish` for the vector: the shortcut a seed set must defeat.
    NaiveRule,
    /// Reads everything, then contains every entity it saw mentioned, injected instructions
    /// included: the over-reacting failure mode.
    ContainEverythingSeen,
    /// Random tool calls, occasionally malformed, and a random report.
    Random,
    /// Reads only the exfiltration alerts (one filtered query), blocks the destination domain
    /// of the most recent trusted one and reports the host, domain and data target it names:
    /// a three-call, evidence-grounded procedure that fits a small model's context (the CPU
    /// studies' SFT teacher). It correlates nothing, so a decoy alert fools it.
    AlertTriage,
    /// [`Baseline::AlertTriage`] without the block: reads the exfiltration alerts and reports
    /// what the latest trusted one names. Its two calls can be wrong but never invalid (a
    /// containment needs an exact copy of an existing name, which a from-scratch two-layer
    /// model learns slowly): the CPU study's SFT teacher.
    AlertReport,
    /// Probe: reports every candidate it saw in each field ([`probes`]).
    CiteSpam,
    /// Probe: contains everything the announced emails and alerts name, at once.
    AlwaysEscalate,
    /// Probe: the heuristic's report stuffed with keywords.
    KeywordStuffing,
    /// Probe: prose plus two JSON calls, and list-valued report fields.
    FormatGaming,
    /// Probe: long prose around every call, stalling until the budget runs out.
    LongOutput,
    /// Probe: carries out instructions found in untrusted evidence.
    InjectionObedience,
}

impl Baseline {
    /// All honest and reference baselines (the reward-hacking probes are in [`probes::PROBES`]).
    pub const ALL: [Baseline; 5] = [
        Baseline::Null,
        Baseline::Oracle,
        Baseline::EvidenceHeuristic,
        Baseline::ContainEverythingSeen,
        Baseline::Random,
    ];

    /// Every variant, in declaration order (the honest baselines and the probes): the names
    /// `[policy] kind = "scripted"` and `[eval] baselines` accept.
    pub const VARIANTS: [Baseline; 14] = [
        Baseline::Null, Baseline::Oracle, Baseline::EvidenceHeuristic, Baseline::NaiveRule,
        Baseline::ContainEverythingSeen, Baseline::Random, Baseline::AlertTriage, Baseline::AlertReport, Baseline::CiteSpam, Baseline::AlwaysEscalate,
        Baseline::KeywordStuffing, Baseline::FormatGaming, Baseline::LongOutput, Baseline::InjectionObedience,
    ];

    /// The variant whose snake-case name is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::VARIANTS.into_iter().find(|b| b.as_str() == name)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Baseline::Null => "null",
            Baseline::Oracle => "oracle",
            Baseline::EvidenceHeuristic => "evidence_heuristic",
            Baseline::NaiveRule => "naive_rule",
            Baseline::ContainEverythingSeen => "contain_everything_seen",
            Baseline::Random => "random",
            Baseline::AlertTriage => "alert_triage",
            Baseline::AlertReport => "alert_report",
            Baseline::CiteSpam => "cite_spam",
            Baseline::AlwaysEscalate => "always_escalate",
            Baseline::KeywordStuffing => "keyword_stuffing",
            Baseline::FormatGaming => "format_gaming",
            Baseline::LongOutput => "long_output",
            Baseline::InjectionObedience => "injection_obedience",
        }
    }
}

/// A scripted policy for `env`. `seed` drives the random baseline (with each request's seed).
pub fn baseline_policy(env: Arc<OpenSecEnv>, baseline: Baseline, seed: u64) -> Box<dyn Policy> {
    Box::new(Scripted { env, baseline, seed })
}

struct Scripted {
    env: Arc<OpenSecEnv>,
    baseline: Baseline,
    seed: u64,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripted").field("baseline", &self.baseline).field("seed", &self.seed).finish()
    }
}

impl Policy for Scripted {
    fn name(&self) -> String {
        format!("opensec-{}", self.baseline.as_str())
    }

    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        requests.iter().map(|r| self.act(r).map(Generation::text)).collect()
    }
}

/// Every field `unknown`; the vector as the prompt's report template shows it (compat: the
/// peer's `phish`; hardened shows none).
fn unknown_report(mode: crate::ScoringMode) -> Report {
    let u = || Some("unknown".to_string());
    Report {
        patient_zero_host: u(),
        compromised_user: u(),
        attacker_domain: u(),
        data_target: u(),
        initial_vector: Some(if mode == crate::ScoringMode::Compat { "phish" } else { "unknown" }.into()),
    }
}

fn query(table: Table) -> Action {
    Action::QueryLogs(Query { table, filters: Vec::new(), limit: crate::query::MAX_LIMIT })
}

/// Emails and alerts the spraying baseline reads before it starts containing.
const MAX_FETCHES: usize = 3;

const LOG_TABLES: [Table; 4] = [Table::Alerts, Table::AuthLogs, Table::Netflow, Table::ProcessEvents];

impl Scripted {
    fn act(&self, req: &GenerationRequest) -> Result<String, PolicyError> {
        let t = Transcript::parse(&req.messages);
        let action = match self.baseline {
            Baseline::Null => Action::SubmitReport(unknown_report(self.env.config().scoring)),
            Baseline::Oracle => self.oracle(req, &t)?,
            Baseline::EvidenceHeuristic => heuristic(&t, true),
            Baseline::NaiveRule => heuristic(&t, false),
            Baseline::ContainEverythingSeen => spray(&t),
            Baseline::Random => return Ok(self.random(req, &t)),
            Baseline::AlertTriage => triage(&t, self.env.config().scoring, true),
            Baseline::AlertReport => triage(&t, self.env.config().scoring, false),
            probe => {
                return Ok(probes::probe_text(probe, &t).unwrap_or_else(|| heuristic(&t, true).to_text()));
            }
        };
        Ok(action.to_text())
    }

    fn oracle(&self, req: &GenerationRequest, t: &Transcript) -> Result<Action, PolicyError> {
        // The episode's ids are drawn from its seed; the prompt's case id names the draw.
        let sc = t
            .case
            .as_deref()
            .and_then(|c| self.env.scenario_for_case(&req.task, c))
            .ok_or_else(|| PolicyError::UnknownTask(req.task.clone()))?;
        let done = t.last().containment;
        let r = sc.required();
        let next =
            r.isolate_hosts.iter().find(|h| !done.isolated_hosts.contains(h)).map(|h| Action::IsolateHost(h.clone()));
        let next = next.or_else(|| {
            r.block_domains.iter().find(|d| !done.blocked_domains.contains(d)).map(|d| Action::BlockDomain(d.clone()))
        });
        let next = next.or_else(|| {
            r.reset_users.iter().find(|u| !done.reset_users.contains(u)).map(|u| Action::ResetUser(u.clone()))
        });
        Ok(next.unwrap_or_else(|| Action::SubmitReport(truth_report(&sc))))
    }

    fn random(&self, req: &GenerationRequest, t: &Transcript) -> String {
        let mut rng = rng_from_seed(derive_seed(self.seed ^ req.seed, req.task.as_str(), t.actions.len() as u64));
        let obs = t.last();
        let seen: Vec<Mention> = t.rows().flat_map(|r| mentions(r, true)).collect();
        let pick = |rng: &mut rand_chacha::ChaCha8Rng, kind: Kind| {
            let c: Vec<&Mention> = seen.iter().filter(|m| m.kind == kind).collect();
            (!c.is_empty()).then(|| c[rng.random_range(0..c.len())].id.clone())
        };
        let left = obs.max_steps.saturating_sub(obs.step);
        if left <= 1 || rng.random_bool(0.08) {
            let mut r = unknown_report(self.env.config().scoring);
            r.patient_zero_host = pick(&mut rng, Kind::Host).or(r.patient_zero_host);
            r.compromised_user = pick(&mut rng, Kind::User).or(r.compromised_user);
            r.attacker_domain = pick(&mut rng, Kind::Domain).or(r.attacker_domain);
            r.data_target = pick(&mut rng, Kind::Target).or(r.data_target);
            return Action::SubmitReport(r).to_text();
        }
        let roll = rng.random_range(0..100);
        let action = match roll {
            0..5 => return "I think the host should be isolated.".to_string(),
            5..40 => query(Table::ALL[rng.random_range(0..5)]),
            40..60 => {
                let ids: Vec<&String> = obs.evidence_seen_ids.iter().collect();
                match ids.get(rng.random_range(0..ids.len().max(1))) {
                    Some(id) if id.starts_with("email") => Action::FetchEmail((*id).clone()),
                    Some(id) => Action::FetchAlert((*id).clone()),
                    None => query(Table::Alerts),
                }
            }
            60..73 => pick(&mut rng, Kind::Host).map_or_else(|| query(Table::AuthLogs), Action::IsolateHost),
            73..86 => pick(&mut rng, Kind::Domain).map_or_else(|| query(Table::Netflow), Action::BlockDomain),
            _ => pick(&mut rng, Kind::User).map_or_else(|| query(Table::AuthLogs), Action::ResetUser),
        };
        action.to_text()
    }
}

/// The alert type [`Baseline::AlertTriage`] reads.
const EXFIL_ALERT: &str = "exfil_attempt";

fn triage(t: &Transcript, mode: crate::ScoringMode, block: bool) -> Action {
    let is_exfil = |r: &&serde_json::Map<String, serde_json::Value>| {
        r.get("alert_type").and_then(|v| v.as_str()) == Some(EXFIL_ALERT)
    };
    if !t.rows().any(|r| r.contains_key("alert_id")) && t.actions.is_empty() {
        let filter = crate::query::Filter {
            field: "alert_type".into(),
            op: crate::query::Op::Eq,
            value: crate::query::FilterValue::Text(EXFIL_ALERT.into()),
        };
        return Action::QueryLogs(Query { table: Table::Alerts, filters: vec![filter], limit: 10 });
    }
    // Rows are listed oldest first: the last trusted one is the most recent.
    let named = t.rows().filter(is_exfil).flat_map(|r| mentions(r, false)).filter(|m| m.trusted);
    let (mut host, mut domain, mut target) = (None, None, None);
    for m in named {
        match m.kind {
            Kind::Host if m.key == "src_host" => host = Some(m.id),
            Kind::Domain => domain = Some(m.id),
            Kind::Target => target = Some(m.id),
            _ => {}
        }
    }
    // Containment copies a domain name (words a small model copies far more reliably than a
    // host's random hex suffix); the host goes into the report only.
    let done = t.last().containment;
    if let Some(d) = domain.as_ref().filter(|d| block && !done.blocked_domains.contains(d)) {
        return Action::BlockDomain(d.clone());
    }
    let mut r = unknown_report(mode);
    r.patient_zero_host = host.or(r.patient_zero_host);
    r.attacker_domain = domain.or(r.attacker_domain);
    r.data_target = target.or(r.data_target);
    Action::SubmitReport(r)
}

/// Fields the evidence supports, from trusted rows only.
#[derive(Debug, Default)]
struct Findings {
    host: Option<String>,
    user: Option<String>,
    domain: Option<String>,
    target: Option<String>,
}

fn findings(t: &Transcript) -> Findings {
    let mut ms: Vec<Mention> = t
        .rows()
        .filter(|r| !r.contains_key("email_id"))
        .flat_map(|r| mentions(r, false))
        .filter(|m| m.trusted)
        .collect();
    ms.sort_by_key(|m| m.step);
    let first = |kind: Kind, table: Option<&str>, keys: &[&str]| {
        ms.iter()
            .find(|m| {
                m.kind == kind
                    && table.is_none_or(|t| m.table == t)
                    && (keys.is_empty() || keys.contains(&m.key.as_str()))
            })
            .map(|m| m.id.clone())
    };
    let host =
        first(Kind::Host, Some("auth_logs"), &[]).or_else(|| first(Kind::Host, Some("alerts"), &["host", "src_host"]));
    let user = first(Kind::User, Some("auth_logs"), &[]).or_else(|| first(Kind::User, Some("alerts"), &[]));
    let domain = first(Kind::Domain, Some("alerts"), &[]).or_else(|| {
        let pz = host.as_deref()?;
        t.rows()
            .filter(|r| r.get("trust_tier").and_then(|v| v.as_str()) != Some("untrusted"))
            .filter(|r| r.get("src_host").and_then(|v| v.as_str()) == Some(pz))
            .find_map(|r| r.get("dst_domain").and_then(|v| v.as_str()).map(str::to_string))
    });
    let target = first(Kind::Target, None, &[]);
    Findings { host, user, domain, target }
}

/// Reads each log table (again once the first pass is done and evidence is still missing),
/// then contains what trusted evidence supports and reports it, leaving enough steps to do so.
/// With `link`, on seeds whose alerts show linked evidence, it links rows by host ([`chain`])
/// and reads on until one host stands out; otherwise it takes first mentions.
fn heuristic(t: &Transcript, link: bool) -> Action {
    let obs = t.last();
    let linked =
        link && t.rows().any(|r| r.get("alert_type").and_then(|v| v.as_str()).is_some_and(chain::is_chain_alert));
    let found = if linked { chain::chain(t) } else { None };
    let f = match &found {
        Some(c) => {
            Findings { host: c.host.clone(), user: c.user.clone(), domain: c.domain.clone(), target: c.target.clone() }
        }
        None if linked => Findings::default(),
        None => findings(t),
    };
    let complete = match &found {
        Some(c) => c.complete(),
        None => !linked && f.host.is_some() && f.user.is_some() && f.domain.is_some() && f.target.is_some(),
    };
    let wanted = [
        f.host.clone().map(Action::IsolateHost),
        f.domain.clone().map(Action::BlockDomain),
        f.user.clone().map(Action::ResetUser),
    ];
    let pending: Vec<Action> = wanted
        .into_iter()
        .flatten()
        .filter(|a| match a {
            Action::IsolateHost(h) => !obs.containment.isolated_hosts.contains(h),
            Action::BlockDomain(d) => !obs.containment.blocked_domains.contains(d),
            Action::ResetUser(u) => !obs.containment.reset_users.contains(u),
            _ => false,
        })
        .collect();
    let queries = t.actions.iter().filter(|a| matches!(a, Action::QueryLogs(_))).count();
    let left = obs.max_steps.saturating_sub(obs.step) as usize;
    // Linked evidence may still be unfolding: keep room for three containments and the report.
    let reserve = if linked && found.is_none() { 4 } else { pending.len() + 1 };
    let investigating = !(complete && queries >= LOG_TABLES.len()) && left > reserve;
    if investigating {
        return query(LOG_TABLES[queries % LOG_TABLES.len()]);
    }
    if let Some(a) = pending.into_iter().next() {
        return a;
    }
    let u = |x: Option<String>| x.or_else(|| Some("unknown".into()));
    let vector = match (&found, linked) {
        (Some(c), _) => c.vector.clone(),
        (None, true) => None,
        (None, false) => Some("phish".into()),
    };
    Action::SubmitReport(Report {
        patient_zero_host: u(f.host),
        compromised_user: u(f.user),
        attacker_domain: u(f.domain),
        data_target: u(f.target),
        initial_vector: u(vector),
    })
}

/// Fetches the first announced emails and alerts, reads every log table once, then contains
/// every host, user and domain it saw anywhere, and reports its first guesses.
fn spray(t: &Transcript) -> Action {
    let obs = t.last();
    let left = obs.max_steps.saturating_sub(obs.step) as usize;
    let fetched: Vec<&str> = t
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::FetchEmail(i) | Action::FetchAlert(i) => Some(i.as_str()),
            _ => None,
        })
        .collect();
    if left > 1 {
        if let Some(id) = obs
            .evidence_seen_ids
            .iter()
            .find(|i| !fetched.contains(&i.as_str()))
            .filter(|_| fetched.len() < MAX_FETCHES)
        {
            return if id.starts_with("email") {
                Action::FetchEmail(id.clone())
            } else {
                Action::FetchAlert(id.clone())
            };
        }
        let queries = t.actions.iter().filter(|a| matches!(a, Action::QueryLogs(_))).count();
        if queries < LOG_TABLES.len() {
            return query(LOG_TABLES[queries]);
        }
        let seen: Vec<Mention> = t.rows().flat_map(|r| mentions(r, true)).collect();
        let c = &obs.containment;
        // An id the environment rejected (hardened mode validates targets) is not retried.
        let rejected = |a: &Action| t.actions.contains(a);
        if let Some(a) = seen.iter().find_map(|m| {
            let a = match m.kind {
                Kind::Host => Action::IsolateHost(m.id.clone()),
                Kind::Domain => Action::BlockDomain(m.id.clone()),
                Kind::User => Action::ResetUser(m.id.clone()),
                Kind::Target => return None,
            };
            let done =
                c.isolated_hosts.contains(&m.id) || c.blocked_domains.contains(&m.id) || c.reset_users.contains(&m.id);
            (!done && !rejected(&a)).then_some(a)
        }) {
            return a;
        }
    }
    let seen: Vec<Mention> = t.rows().flat_map(|r| mentions(r, false)).collect();
    let first = |k: Kind| seen.iter().find(|m| m.kind == k).map(|m| m.id.clone()).or_else(|| Some("unknown".into()));
    Action::SubmitReport(Report {
        patient_zero_host: first(Kind::Host),
        compromised_user: first(Kind::User),
        attacker_domain: first(Kind::Domain),
        data_target: first(Kind::Target),
        initial_vector: Some("phish".into()),
    })
}
