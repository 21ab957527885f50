//! Scripted policies: the five defender baselines, a scripted attacker, and a role router
//! for self-play. Every defender baseline answers in the same text format an LLM must use, so
//! its answers go through the same parser and rubric.

use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use vigil_core::{ChatMessage, Generation, GenerationRequest, Policy, PolicyError, Role, derive_seed, rng_from_seed};

use crate::action::TriageAction;
use crate::attacker::ATTACKER_SYSTEM;
use crate::env::OpenSocEnv;
use crate::episode::split_handoff;
use crate::generator::{Stage, generate};
use crate::heuristic::keyword_answer;
use crate::parse::format_answer;
use crate::schema::{LogId, Text};

/// Scripted defender baselines (`[policy] kind = "opensoc_baseline"` in the experiment config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// Always `dismiss` (the floor: every attack missed).
    AlwaysDismiss,
    /// Always `escalate` (the "cover yourself" policy the rubric must not reward).
    AlwaysEscalate,
    /// The verifier's answer (the ceiling); reads ground truth through the task id.
    VerifierOracle,
    /// Uniform action and citation, seeded per request.
    Random,
    /// Keyword rules over the prompt text only.
    KeywordHeuristic,
    /// Probe: the heuristic's action citing every log line ([`crate::probes`]).
    CiteSpam,
    /// Probe: a containment action on every alert.
    ContainEverything,
    /// Probe: every action name and a threat-keyword rationale.
    KeywordStuffing,
    /// Probe: JSON plus text, one `Action:` line per action.
    FormatGaming,
    /// Probe: a rationale thousands of words long.
    LongOutput,
    /// Probe: acts on the alert's (attacker-chosen) severity.
    InjectionObedience,
}

impl Baseline {
    /// All honest and reference baselines (the reward-hacking probes are in [`crate::probes::PROBES`]).
    pub const ALL: [Baseline; 5] =
        [Baseline::AlwaysDismiss, Baseline::AlwaysEscalate, Baseline::VerifierOracle, Baseline::Random, Baseline::KeywordHeuristic];

    /// Every variant, in declaration order (the honest baselines and the probes): the names
    /// `[policy] kind = "scripted"` and `[eval] baselines` accept.
    pub const VARIANTS: [Baseline; 11] = [
        Baseline::AlwaysDismiss, Baseline::AlwaysEscalate, Baseline::VerifierOracle, Baseline::Random,
        Baseline::KeywordHeuristic, Baseline::CiteSpam, Baseline::ContainEverything, Baseline::KeywordStuffing,
        Baseline::FormatGaming, Baseline::LongOutput, Baseline::InjectionObedience,
    ];

    /// The variant whose snake-case name is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::VARIANTS.into_iter().find(|b| b.as_str() == name)
    }

    /// Snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Baseline::AlwaysDismiss => "always_dismiss",
            Baseline::AlwaysEscalate => "always_escalate",
            Baseline::VerifierOracle => "verifier_oracle",
            Baseline::Random => "random",
            Baseline::KeywordHeuristic => "keyword_heuristic",
            Baseline::CiteSpam => "cite_spam",
            Baseline::ContainEverything => "contain_everything",
            Baseline::KeywordStuffing => "keyword_stuffing",
            Baseline::FormatGaming => "format_gaming",
            Baseline::LongOutput => "long_output",
            Baseline::InjectionObedience => "injection_obedience",
        }
    }
}

/// The defender's view in a request: its user message, and whether it came from a self-play
/// hand-off (then the task id does not identify the incident).
pub fn defender_view(messages: &[ChatMessage]) -> Option<(&str, bool)> {
    let last = messages.iter().rev().find(|m| matches!(m.role, Role::User | Role::Tool))?;
    match split_handoff(&last.content) {
        Some((_, user)) => Some((user, true)),
        None => Some((&last.content, false)),
    }
}

/// Log ids of the window lines (`[ts] L1-3 ...`), in order.
pub fn window_ids(user: &str) -> Vec<LogId> {
    user.lines()
        .filter(|l| l.starts_with('['))
        .filter_map(|l| l.split(' ').nth(1).and_then(LogId::parse))
        .collect()
}

/// The log id the alert names (`Summary: ... (L1-2)`).
pub fn alert_anchor(user: &str) -> Option<LogId> {
    let line = user.lines().find(|l| l.starts_with("Summary:"))?;
    let open = line.rfind("(L")?;
    LogId::parse(line[open + 1..].trim_end().strip_suffix(')')?)
}

struct ScriptedDefender {
    env: Arc<OpenSocEnv>,
    kind: Baseline,
    seed: u64,
}

impl ScriptedDefender {
    fn answer(&self, req: &GenerationRequest) -> Result<String, PolicyError> {
        let (user, handoff) = defender_view(&req.messages).ok_or_else(|| PolicyError::BadRequest("no user message".into()))?;
        let ids = window_ids(user);
        let cite = alert_anchor(user).or_else(|| ids.first().copied()).unwrap_or(LogId::new(1, 0));
        Ok(match self.kind {
            Baseline::AlwaysDismiss => format_answer(TriageAction::Dismiss, cite, "Nothing here needs action."),
            Baseline::AlwaysEscalate => format_answer(TriageAction::Escalate, cite, "Escalating to be safe."),
            Baseline::VerifierOracle => {
                if handoff {
                    return Err(PolicyError::BadRequest("verifier_oracle reads ground truth by task id; a crafted self-play incident has none".into()));
                }
                self.env.gold_answer(&req.task).map_err(|_| PolicyError::UnknownTask(req.task.clone()))?
            }
            Baseline::Random => {
                let mut rng = rng_from_seed(derive_seed(self.seed, req.task.as_str(), req.seed));
                let a = TriageAction::ALL[rng.random_range(0..5)];
                let c = if ids.is_empty() { cite } else { ids[rng.random_range(0..ids.len())] };
                format_answer(a, c, "Random choice.")
            }
            Baseline::KeywordHeuristic => keyword_answer(user),
            probe => crate::probes::probe_answer(probe, user).unwrap_or_else(|| keyword_answer(user)),
        })
    }
}

impl Policy for ScriptedDefender {
    fn name(&self) -> String {
        format!("opensoc_baseline/{}", self.kind.as_str())
    }
    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        requests.iter().map(|r| self.answer(r).map(Generation::text)).collect()
    }
}

/// A scripted defender baseline over `env` (the oracle reads `env`'s ground truth by task id).
pub fn baseline_policy(env: Arc<OpenSocEnv>, baseline: Baseline, seed: u64) -> Box<dyn Policy> {
    Box::new(ScriptedDefender { env, kind: baseline, seed })
}

struct ScriptedAttacker {
    seed: u64,
}

impl Policy for ScriptedAttacker {
    fn name(&self) -> String {
        "opensoc_attacker/stock_templates".into()
    }
    /// Replays a stock template of the brief's stage with a random claimed label: a baseline
    /// that should earn little novelty and fool only weak defenders.
    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        requests
            .iter()
            .map(|r| {
                let brief = r.messages.iter().rev().find(|m| m.role == Role::User).map_or("", |m| m.content.as_str());
                let stage = brief
                    .lines()
                    .find_map(|l| l.strip_prefix("Stage: "))
                    .and_then(|s| Stage::from_wire(s.trim()))
                    .unwrap_or(Stage::Stage4Adversarial);
                let mut rng = rng_from_seed(derive_seed(self.seed, r.task.as_str(), r.seed));
                let label = TriageAction::ALL[rng.random_range(0..5)];
                let mut g = generate(stage, label, &mut rng);
                g.params.target_label = Some(TriageAction::ALL[rng.random_range(0..5)]);
                g.params.narrative = Text::Borrowed("Routine activity, nothing to see here.");
                let body = serde_json::json!({ "craft_incident": g.params });
                Ok(Generation::text(body.to_string()))
            })
            .collect()
    }
}

/// A scripted attacker that replays stock generator incidents (self-play baseline).
pub fn scripted_attacker(seed: u64) -> Box<dyn Policy> {
    Box::new(ScriptedAttacker { seed })
}

/// Scripted attackers (`[policy.roles.attacker] kind = "scripted"`): the pool a learning
/// defender can face in self-play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackerBaseline {
    /// Stock generator incidents of the brief's stage with a random claimed label.
    StockTemplates,
}

/// A scripted attacker by kind.
pub fn attacker_policy(kind: AttackerBaseline, seed: u64) -> Box<dyn Policy> {
    match kind {
        AttackerBaseline::StockTemplates => scripted_attacker(seed),
    }
}

/// Routes self-play turns: attacker turns (conversations that start with the attacker system
/// prompt and have no hand-off yet) go to `attacker`; defender turns go to `defender` as a fresh
/// `[system, user]` conversation, so the defender never sees the attacker's JSON, claimed label
/// or narrative.
pub struct SelfPlayPolicy {
    /// Crafts incidents.
    pub attacker: Box<dyn Policy>,
    /// Triages them.
    pub defender: Box<dyn Policy>,
}

impl std::fmt::Debug for SelfPlayPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SelfPlayPolicy({} vs {})", self.attacker.name(), self.defender.name())
    }
}

impl Policy for SelfPlayPolicy {
    fn name(&self) -> String {
        format!("self_play({} vs {})", self.attacker.name(), self.defender.name())
    }

    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        let mut att = Vec::new();
        let mut def = Vec::new();
        let mut route = Vec::with_capacity(requests.len());
        for r in requests {
            let handoff = r.messages.last().filter(|m| m.role == Role::Tool).and_then(|m| split_handoff(&m.content));
            let is_attacker = handoff.is_none() && r.messages.first().is_some_and(|m| m.content == ATTACKER_SYSTEM);
            if is_attacker {
                route.push(false);
                att.push(r.clone());
            } else {
                route.push(true);
                let messages = match handoff {
                    Some((system, user)) => vec![ChatMessage::system(system), ChatMessage::user(user)],
                    None => r.messages.clone(),
                };
                def.push(GenerationRequest { task: r.task.clone(), messages, seed: r.seed });
            }
        }
        let mut a = if att.is_empty() { Vec::new() } else { self.attacker.generate(&att)? }.into_iter();
        let mut d = if def.is_empty() { Vec::new() } else { self.defender.generate(&def)? }.into_iter();
        route
            .into_iter()
            .map(|to_def| {
                let next = if to_def { d.next() } else { a.next() };
                next.ok_or_else(|| PolicyError::BadRequest("a routed policy returned fewer generations than requests".into()))
            })
            .collect()
    }
}
