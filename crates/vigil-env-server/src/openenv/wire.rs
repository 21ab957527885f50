//! OpenEnv's wire shapes, as Rust types: the JSON Schemas under `/schema` are generated from
//! these, and actions are parsed with them, so the schema is exactly what the server accepts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vigil_core::{ChatMessage, EpisodeOptions, Outcome};

use super::OpenEnvShape;
use crate::ServerError;
use crate::api::ResetRequest;

/// `reset` parameters (WebSocket `data`, or the HTTP body): OpenEnv's `episode_id` (the
/// client's name for the episode, reported in the state; default a fresh id) and the fields of
/// Vigil's [`ResetRequest`] (`seed`, `task`, `stage`, `split`, `mode`, `options`).
pub(crate) fn reset_params(v: Value) -> Result<(Option<String>, ResetRequest), ServerError> {
    let Value::Object(mut m) = v else {
        return Err(ServerError::BadRequest(format!("reset parameters must be a JSON object, got {v}")));
    };
    let episode_id = match m.remove("episode_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(ServerError::BadRequest(format!("`episode_id` must be a string, got {other}"))),
    };
    let req = serde_json::from_value(Value::Object(m))
        .map_err(|e| ServerError::BadRequest(format!("invalid reset parameters: {e}")))?;
    Ok((episode_id, req))
}

/// OpenEnv's `{observation, reward, done}` (HTTP `/reset` and `/step` replies, and the `data`
/// of a WebSocket `observation` message).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Reply {
    pub observation: Value,
    pub reward: Option<f64>,
    pub done: bool,
}

/// A chat message.
#[derive(Debug, Clone, JsonSchema)]
#[allow(dead_code)]
pub(crate) struct MessageSchema {
    /// `system`, `user`, `assistant` or `tool`.
    role: String,
    /// The text.
    content: String,
}

/// A graded outcome.
#[derive(Debug, Clone, JsonSchema)]
#[allow(dead_code)]
pub(crate) struct OutcomeSchema {
    /// Every reward component, by name (the scalar `reward` is their sum).
    rewards: BTreeMap<String, f64>,
    /// Whether every answer parsed in the expected format.
    format_valid: bool,
    /// Episode metrics.
    metrics: BTreeMap<String, f64>,
    /// Label view (classification-style environments).
    prediction: Option<PredictionSchema>,
    /// Policy turns taken.
    steps: u32,
}

/// The label view of an outcome.
#[derive(Debug, Clone, JsonSchema)]
#[allow(dead_code)]
pub(crate) struct PredictionSchema {
    predicted: Option<String>,
    gold: String,
    confidence: Option<f64>,
}

/// Observation of the chat shape (OpenSOC, CERT, OpenSec hardened).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct ChatObservation {
    /// The task (incident, scenario, user-day window).
    pub task_id: String,
    /// Its curriculum stage or tier.
    pub stage: Option<String>,
    /// Policy turns taken so far.
    pub step: u32,
    /// New messages: the prompt at reset, the environment's reply after a step (none at the end).
    #[schemars(with = "Vec<MessageSchema>")]
    pub messages: Vec<ChatMessage>,
    /// The graded outcome once the episode has ended.
    #[schemars(with = "Option<OutcomeSchema>")]
    pub outcome: Option<Outcome>,
}

/// State of the chat shape: OpenEnv's `episode_id` and `step_count`, plus the task.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct ChatState {
    /// The client's episode id (or the session id).
    pub episode_id: String,
    /// Steps taken.
    pub step_count: u32,
    /// The task.
    pub task_id: String,
    /// Its stage.
    pub stage: Option<String>,
    /// The episode seed.
    pub seed: u64,
    /// Episode options in effect.
    pub options: EpisodeOptions,
    /// Whether the episode has ended.
    pub done: bool,
}

/// Action of OpenSOC and CERT: the policy's answer text.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextAction {
    /// The assistant's answer, verbatim.
    pub text: String,
    /// OpenEnv's action metadata (ignored).
    #[serde(default)]
    #[allow(dead_code)]
    pub metadata: Map<String, Value>,
}

/// Action of OpenSec: one tool call, in Vigil's form, the peer's form, or as raw text.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum ToolCallAction {
    /// `{"name": "query_logs", "arguments": {...}}` (format-valid).
    Call {
        /// The tool.
        name: String,
        /// Its arguments.
        #[serde(default)]
        arguments: Map<String, Value>,
        /// OpenEnv's action metadata (ignored).
        #[serde(default)]
        #[allow(dead_code)]
        metadata: Map<String, Value>,
    },
    /// The peer's `{"action_type": ..., "params": {...}}` (accepted, counted format-invalid).
    Peer {
        /// The tool.
        action_type: String,
        /// Its arguments.
        #[serde(default)]
        params: Map<String, Value>,
        /// Ignored, as by the peer.
        #[serde(default)]
        #[allow(dead_code)]
        rationale: Option<Value>,
        /// OpenEnv's action metadata (ignored).
        #[serde(default)]
        #[allow(dead_code)]
        metadata: Map<String, Value>,
    },
    /// A model's raw answer text, parsed as the environment parses any answer.
    Text(TextAction),
}

/// The text the environment receives for an OpenEnv action.
pub(crate) fn action_text(shape: OpenEnvShape, action: Value) -> Result<String, ServerError> {
    let bad = |e: serde_json::Error| ServerError::BadRequest(format!("invalid action: {e}; see GET /schema"));
    match shape {
        OpenEnvShape::Text => Ok(serde_json::from_value::<TextAction>(action).map_err(bad)?.text),
        OpenEnvShape::ToolCall | OpenEnvShape::OpenSecPeer => {
            match serde_json::from_value::<ToolCallAction>(action).map_err(|_| {
                ServerError::BadRequest(
                    "invalid action: expected {\"name\", \"arguments\"}, {\"action_type\", \"params\"} or {\"text\"}; \
                     see GET /schema"
                        .into(),
                )
            })? {
                ToolCallAction::Call { name, arguments, .. } => {
                    Ok(serde_json::json!({"name": name, "arguments": arguments}).to_string())
                }
                ToolCallAction::Peer { action_type, params, .. } => {
                    Ok(serde_json::json!({"action_type": action_type, "params": params}).to_string())
                }
                ToolCallAction::Text(t) => Ok(t.text),
            }
        }
    }
}

/// A client message on `/ws`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum WsIn {
    Reset {
        #[serde(default)]
        data: Option<Value>,
    },
    Step {
        data: Value,
    },
    State {},
    Close {},
}

/// A server message on `/ws`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub(crate) enum WsOut {
    Observation(Reply),
    State(Value),
    Error { message: String, code: &'static str },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn actions_become_the_text_the_environment_parses() {
        let text = |shape, v| action_text(shape, v);
        assert_eq!(
            text(OpenEnvShape::Text, json!({"text": "Action: dismiss", "metadata": {}})).unwrap(),
            "Action: dismiss"
        );
        assert!(
            text(OpenEnvShape::Text, json!({"name": "x"})).unwrap_err().to_string().contains("unknown field `name`")
        );
        let call = json!({"name": "fetch_email", "arguments": {"email_id": "e-1"}});
        assert_eq!(text(OpenEnvShape::ToolCall, call.clone()).unwrap(), call.to_string());
        let peer = json!({"action_type": "block_domain", "params": {"domain": "x.io"}, "metadata": {}});
        assert_eq!(
            text(OpenEnvShape::OpenSecPeer, peer).unwrap(),
            json!({"action_type": "block_domain", "params": {"domain": "x.io"}}).to_string()
        );
        assert_eq!(text(OpenEnvShape::ToolCall, json!({"text": "raw answer"})).unwrap(), "raw answer");
        assert!(text(OpenEnvShape::ToolCall, json!({"tool": "x"})).is_err());
    }

    #[test]
    fn websocket_messages_parse_as_openenv_sends_them() {
        let m: WsIn = serde_json::from_value(json!({"type": "reset", "data": {"seed": 1}})).unwrap();
        assert!(matches!(m, WsIn::Reset { data: Some(_) }));
        assert!(matches!(serde_json::from_value(json!({"type": "state"})).unwrap(), WsIn::State {}));
        assert!(serde_json::from_value::<WsIn>(json!({"type": "step"})).is_err(), "a step needs data");
        let out = WsOut::Error { message: "m".into(), code: "UNKNOWN_TYPE" };
        assert_eq!(
            serde_json::to_value(out).unwrap(),
            json!({"type": "error", "data": {"message": "m", "code": "UNKNOWN_TYPE"}})
        );
    }
}
