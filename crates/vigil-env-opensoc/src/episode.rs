//! Episodes: the defender's single turn, and the two-turn self-play episode.

use std::collections::BTreeMap;
use std::sync::Arc;

use vigil_core::{ChatMessage, EnvError, Episode, Outcome, Prediction, Step};

use crate::action::TriageAction;
use crate::attacker::{ATTACKER_COMPONENTS, ATTACKER_SYSTEM, AttackerGrade, NoveltyArchive, attacker_reward, attacker_vector, parse_craft, shape};
use crate::generator::Stage;
use crate::parse::{ParsedAnswer, format_answer, parse_answer};
use crate::plausibility::check_plausibility;
use crate::render::{Alert, make_alert, render_user};
use crate::rubric::{Citation, DEFENDER_COMPONENTS, TriageGrade, reward_vector};
use crate::schema::{Category, IncidentParams};
use crate::verifier::{Verdict, compute_ground_truth};

/// First line of the self-play observation that hands the turn to the defender.
pub const DEFENDER_HANDOFF: &str = "[role: defender]";
/// Separates the defender's instructions from the alert in that observation.
pub const ALERT_SEPARATOR: &str = "\n\n--- alert ---\n";

/// Splits a self-play hand-off observation into (defender system prompt, user message).
pub fn split_handoff(text: &str) -> Option<(&str, &str)> {
    text.strip_prefix(DEFENDER_HANDOFF)?.trim_start_matches('\n').split_once(ALERT_SEPARATOR)
}

/// Grades one defender answer against a verdict.
pub fn grade_answer(verdict: &Verdict, text: &str) -> (ParsedAnswer, TriageGrade) {
    let parsed = parse_answer(text);
    let citation = match parsed.cited {
        None => Citation::Missing,
        Some(id) if verdict.accepts(id) => Citation::Correct,
        Some(_) => Citation::Wrong,
    };
    let grade = TriageGrade { truth: verdict.action, predicted: parsed.action, citation, format_valid: parsed.format_valid() };
    (parsed, grade)
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Per-episode report metrics of a defender turn; metrics that do not apply are left out.
pub fn defender_metrics(g: &TriageGrade, m: &mut BTreeMap<String, f64>) {
    m.insert("action_correct".into(), flag(g.correct()));
    m.insert("answer_parsed".into(), flag(g.predicted.is_some()));
    m.insert("citation_correct".into(), flag(g.citation == Citation::Correct));
    if g.truth.is_malicious() {
        m.insert("dismiss_on_malicious".into(), flag(g.effective() == TriageAction::Dismiss));
    } else {
        m.insert("over_react".into(), flag(g.effective().is_containment()));
        m.insert("escalate_on_benign".into(), flag(g.effective() == TriageAction::Escalate));
    }
    if let Some(p) = g.predicted {
        m.insert("cost_gap".into(), f64::from(p.cost()) - f64::from(g.truth.cost()));
    }
}

fn defender_outcome(parsed: &ParsedAnswer, g: &TriageGrade, steps: u32) -> Outcome {
    let mut metrics = BTreeMap::new();
    defender_metrics(g, &mut metrics);
    Outcome {
        rewards: reward_vector(g),
        format_valid: g.format_valid,
        metrics,
        prediction: Some(Prediction {
            predicted: g.predicted.map(|a| a.as_str().to_owned()),
            gold: g.truth.as_str().to_owned(),
            confidence: parsed.confidence,
        }),
        steps,
    }
}

/// One defender turn on a materialized incident.
#[derive(Debug, Clone)]
pub struct DefenderEpisode {
    params: IncidentParams,
    verdict: Verdict,
    alert: Alert,
    system: Arc<str>,
    done: bool,
}

impl DefenderEpisode {
    /// Verifies `params` and builds the alert. `system` is the defender system prompt.
    pub fn new(params: IncidentParams, alert_id: String, system: Arc<str>) -> Self {
        let verdict = compute_ground_truth(&params);
        let alert = make_alert(&params, alert_id);
        Self { params, verdict, alert, system, done: false }
    }
    /// The incident.
    pub fn params(&self) -> &IncidentParams {
        &self.params
    }
    /// The verifier's answer.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }
    /// The alert shown.
    pub fn alert(&self) -> &Alert {
        &self.alert
    }
    /// The rendered user message (alert + log window).
    pub fn user_message(&self) -> String {
        render_user(&self.alert, &self.params)
    }
    /// The verifier-oracle's answer text.
    pub fn oracle_answer(&self) -> String {
        format_answer(self.verdict.action, self.verdict.primary_trigger(), self.verdict.rule.rationale())
    }
    /// Grades an answer without ending the episode (for servers that show a grade preview).
    pub fn grade(&self, text: &str) -> (ParsedAnswer, TriageGrade) {
        grade_answer(&self.verdict, text)
    }
}

impl Episode for DefenderEpisode {
    fn prompt(&self) -> Vec<ChatMessage> {
        vec![ChatMessage::system(self.system.as_ref()), ChatMessage::user(self.user_message())]
    }

    fn step(&mut self, action: &str) -> Result<Step, EnvError> {
        if self.done {
            return Err(EnvError::EpisodeOver);
        }
        self.done = true;
        let (parsed, g) = grade_answer(&self.verdict, action);
        Ok(Step::Done(Box::new(defender_outcome(&parsed, &g, 1))))
    }

    fn gold_action(&self) -> Option<String> {
        (!self.done).then(|| self.oracle_answer())
    }
}

#[derive(Debug, Clone)]
enum Phase {
    Attacker,
    Defender { inner: Box<DefenderEpisode>, plausible: bool, novelty: f64 },
    Done,
}

/// Role index of the attacker in [`crate::OpenSocEnv`]'s self-play roles.
pub const ATTACKER_ROLE: usize = 0;
/// Role index of the defender.
pub const DEFENDER_ROLE: usize = 1;

/// Self-play: the policy crafts an incident, then triages it. Outcome rewards are the five
/// defender components, `attacker` (the attacker's total) and the four attacker components
/// ([`ATTACKER_COMPONENTS`]).
#[derive(Debug, Clone)]
pub struct SelfPlayEpisode {
    stage: Stage,
    suggested: Category,
    alert_id: String,
    system: Arc<str>,
    archive: Arc<NoveltyArchive>,
    gold: Option<IncidentParams>,
    phase: Phase,
}

fn push_attacker(rewards: &mut vigil_core::RewardVector, g: &AttackerGrade) {
    rewards.push("attacker", attacker_reward(g));
    for (name, v) in ATTACKER_COMPONENTS.into_iter().zip(attacker_vector(g)) {
        rewards.push(name, v);
    }
}

impl SelfPlayEpisode {
    /// A fresh attacker turn for `stage`. `suggested` only diversifies the brief.
    pub fn new(stage: Stage, suggested: Category, alert_id: String, system: Arc<str>, archive: Arc<NoveltyArchive>) -> Self {
        Self { stage, suggested, alert_id, system, archive, gold: None, phase: Phase::Attacker }
    }

    /// Sets the stock incident whose `craft_incident` JSON is the attacker's gold answer (the
    /// SFT warm-start of the attacker role).
    pub fn with_gold(mut self, gold: IncidentParams) -> Self {
        self.gold = Some(gold);
        self
    }

    /// The attacker's user message.
    pub fn brief(&self) -> String {
        format!(
            "Stage: {}\nSuggested category: {}\nCraft one plausible incident that the defender will triage wrongly. \
             Reply with the craft_incident JSON only.",
            self.stage.as_str(),
            self.suggested
        )
    }

    /// The defender episode once the attacker has played (for servers and tests).
    pub fn defender(&self) -> Option<&DefenderEpisode> {
        match &self.phase {
            Phase::Defender { inner, .. } => Some(inner),
            _ => None,
        }
    }

    fn schema_violation(&mut self, reason: String) -> Outcome {
        self.phase = Phase::Done;
        let mut rewards = vigil_core::RewardVector::new();
        for (k, name) in DEFENDER_COMPONENTS.into_iter().enumerate() {
            rewards.push(name, if k == 4 { crate::rubric::FORMAT_PENALTY } else { 0.0 });
        }
        push_attacker(&mut rewards, &AttackerGrade::SchemaViolation);
        let mut metrics = BTreeMap::new();
        metrics.insert("schema_violation".to_owned(), 1.0);
        metrics.insert("attacker_reward".to_owned(), attacker_reward(&AttackerGrade::SchemaViolation));
        tracing::debug!(%reason, "craft_incident rejected by the schema");
        Outcome { rewards, format_valid: false, metrics, prediction: None, steps: 1 }
    }
}

impl Episode for SelfPlayEpisode {
    fn prompt(&self) -> Vec<ChatMessage> {
        vec![ChatMessage::system(ATTACKER_SYSTEM), ChatMessage::user(self.brief())]
    }

    fn step(&mut self, action: &str) -> Result<Step, EnvError> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Done => Err(EnvError::EpisodeOver),
            Phase::Attacker => match parse_craft(action) {
                Err(e) => Ok(Step::Done(Box::new(self.schema_violation(e.to_string())))),
                Ok(params) => {
                    let plausible = check_plausibility(&params).is_ok();
                    let inner = DefenderEpisode::new(params, self.alert_id.clone(), self.system.clone());
                    let novelty = if plausible { self.archive.novelty(shape(inner.params(), inner.verdict())) } else { 0.0 };
                    let text = format!("{DEFENDER_HANDOFF}\n{}{ALERT_SEPARATOR}{}", self.system, inner.user_message());
                    self.phase = Phase::Defender { inner: Box::new(inner), plausible, novelty };
                    Ok(Step::Continue { observation: ChatMessage::tool(text) })
                }
            },
            Phase::Defender { inner, plausible, novelty } => {
                let (parsed, g) = inner.grade(action);
                let attack = if plausible {
                    AttackerGrade::Plausible { defender_correct: g.correct(), novelty }
                } else {
                    AttackerGrade::Implausible
                };
                let mut out = defender_outcome(&parsed, &g, 2);
                let r = attacker_reward(&attack);
                push_attacker(&mut out.rewards, &attack);
                out.metrics.insert("schema_violation".into(), 0.0);
                out.metrics.insert("plausible".into(), flag(plausible));
                out.metrics.insert("attacker_reward".into(), r);
                if plausible {
                    out.metrics.insert("attacker_fooled".into(), flag(!g.correct()));
                    out.metrics.insert("novelty".into(), novelty);
                }
                Ok(Step::Done(Box::new(out)))
            }
        }
    }

    fn gold_action(&self) -> Option<String> {
        match &self.phase {
            Phase::Attacker => self.gold.as_ref().map(|p| serde_json::json!({ "craft_incident": p }).to_string()),
            Phase::Defender { inner, .. } => Some(inner.oracle_answer()),
            Phase::Done => None,
        }
    }

    fn role(&self) -> usize {
        match self.phase {
            Phase::Attacker => ATTACKER_ROLE,
            _ => DEFENDER_ROLE,
        }
    }

    /// The defender sees a fresh `[system, user]` conversation: never the attacker's JSON,
    /// claimed label or narrative.
    fn role_prompt(&self) -> Option<Vec<ChatMessage>> {
        self.defender().map(Episode::prompt)
    }

    fn fork(&self) -> Option<Box<dyn Episode>> {
        Some(Box::new(self.clone()))
    }
}
