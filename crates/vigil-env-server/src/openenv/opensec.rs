//! OpenSec compat observations and state in exactly the schema of the peer opensec-env's
//! pydantic models (`Observation`, `ContainmentState`, `ActionResult`, `EpisodeState`), so code
//! written against opensec-env parses them unchanged. Built from Vigil's own observation (the
//! JSON the episode renders for the model), never from ground truth.
//!
//! Differences in values, not in schema: `last_action_result.ok` is the tool call's own success
//! (the peer always says true and puts the failure in `data.ok`), `data` holds Vigil's tool
//! result fields (`rows`, `email`, `alert`, `parsed`, `error`, ... and `ok`), and the episode
//! ends at `submit_report` (the peer's own driver stops there too), whose `data.outcome` is the
//! graded outcome. As OpenEnv does, `done`, `reward` and `metadata` travel beside the
//! observation, not in it.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use vigil_core::{ChatMessage, Step};
use vigil_env_opensec::{Executed, Observation, ToolResult, parse_action};

use super::to_value;
use crate::ServerError;

/// The peer's `ContainmentState`.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct PeerContainment {
    isolated_hosts: Vec<String>,
    blocked_domains: Vec<String>,
    reset_users: Vec<String>,
}

/// The peer's `ActionResult`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PeerActionResult {
    /// Whether the call succeeded.
    ok: bool,
    /// The tool (`reset` for the first observation).
    message: String,
    /// The tool's result.
    data: Map<String, Value>,
}

/// The peer's `Observation`, as OpenEnv serializes it (without `done`, `reward`, `metadata`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PeerObservation {
    scenario_id: String,
    step_index: u32,
    attacker_state: String,
    containment: PeerContainment,
    new_emails: Vec<String>,
    new_alerts: Vec<String>,
    evidence_seen_ids: Vec<String>,
    evidence_content_ids: Vec<String>,
    last_action_result: PeerActionResult,
    hint: Option<String>,
}

/// The peer's `EpisodeState`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PeerState {
    episode_id: String,
    scenario_id: String,
    step_count: u32,
    max_steps: u32,
    terminated: bool,
    truncated: bool,
}

fn parse(m: &ChatMessage) -> Result<Observation, ServerError> {
    Observation::parse(&m.content)
        .ok_or_else(|| ServerError::OpenEnv("an OpenSec observation did not parse (is this server OpenSec?)".into()))
}

fn containment(c: Executed) -> PeerContainment {
    PeerContainment { isolated_hosts: c.isolated_hosts, blocked_domains: c.blocked_domains, reset_users: c.reset_users }
}

fn result_data(r: ToolResult) -> Result<(bool, String, Map<String, Value>), ServerError> {
    let (ok, tool) = (r.ok, r.tool.clone());
    let Value::Object(mut data) = to_value(&r)? else { unreachable!("a struct serializes to an object") };
    data.remove("tool");
    Ok((ok, tool, data))
}

fn peer(
    scenario: &str,
    o: Observation,
    step_index: u32,
    last: PeerActionResult,
    hint: Option<String>,
) -> PeerObservation {
    PeerObservation {
        scenario_id: scenario.to_string(),
        step_index,
        attacker_state: o.attacker_state.unwrap_or_default(),
        containment: containment(o.containment),
        new_emails: o.new_emails,
        new_alerts: o.new_alerts,
        evidence_seen_ids: o.evidence_seen_ids,
        evidence_content_ids: o.evidence_content_ids,
        last_action_result: last,
        hint,
    }
}

/// The first observation, from the prompt's user message.
pub(crate) fn reset_observation(scenario: &str, prompt: &[ChatMessage]) -> Result<Value, ServerError> {
    let first = super::last_observation(prompt)
        .ok_or_else(|| ServerError::OpenEnv("the OpenSec prompt has no observation".into()))?;
    let o = parse(first)?;
    let last = PeerActionResult { ok: true, message: "reset".into(), data: Map::new() };
    to_value(&peer(scenario, o, 0, last, Some("Environment ready".into())))
}

/// The observation after a step; `before` is the observation the action answered.
pub(crate) fn step_observation(
    scenario: &str,
    before: Option<&ChatMessage>,
    action: &str,
    steps: u32,
    step: Step,
) -> Result<Value, ServerError> {
    match step {
        Step::Continue { observation } => {
            let mut o = parse(&observation)?;
            let (ok, tool, data) = result_data(std::mem::take(&mut o.result))?;
            let step_index = o.step;
            to_value(&peer(scenario, o, step_index, PeerActionResult { ok, message: tool, data }, None))
        }
        Step::Done(outcome) => {
            // The episode ended: carry the last observation forward, with nothing new in it.
            let mut o = before.map(parse).transpose()?.unwrap_or_default();
            o.new_emails.clear();
            o.new_alerts.clear();
            let tool =
                parse_action(action).action.map_or_else(|_| "invalid".to_string(), |a| a.tool().as_str().to_string());
            let mut data = Map::new();
            data.insert("ok".into(), Value::Bool(true));
            data.insert("outcome".into(), to_value(&*outcome)?);
            to_value(&peer(scenario, o, steps, PeerActionResult { ok: true, message: tool, data }, None))
        }
    }
}

/// The peer's `EpisodeState` from the session's last observation.
pub(crate) fn state(
    episode_id: &str,
    scenario: &str,
    steps: u32,
    done: bool,
    last: Option<&ChatMessage>,
) -> Result<Value, ServerError> {
    let max_steps = last.map(parse).transpose()?.map_or(0, |o| o.max_steps);
    to_value(&PeerState {
        episode_id: episode_id.to_string(),
        scenario_id: scenario.to_string(),
        step_count: steps,
        max_steps,
        terminated: done,
        truncated: steps >= max_steps,
    })
}
