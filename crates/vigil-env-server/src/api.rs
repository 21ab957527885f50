//! Request and response bodies of the HTTP API (see the crate docs for the routes). Public so
//! Rust clients and tests can speak the protocol with the same types.

use serde::{Deserialize, Serialize};
use vigil_core::{ChatMessage, ComponentInfo, EpisodeOptions, Outcome, Split, TaskId};

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"healthy"` when the server answers (OpenEnv's `HealthStatus` value).
    pub status: String,
    /// The environment's name.
    pub env: String,
    /// Live sessions.
    pub sessions: usize,
    /// Session limit.
    pub max_sessions: usize,
    /// Idle sessions are dropped after this many seconds.
    pub idle_timeout_secs: u64,
}

/// Query of `GET /tasks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TasksQuery {
    pub split: Option<Split>,
    pub stage: Option<String>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
}

/// One task in `GET /tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Task id, to pass as `task` to `/reset`.
    pub id: TaskId,
    /// Its curriculum stage or tier, if the environment has stages.
    pub stage: Option<String>,
}

/// `GET /tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tasks {
    /// The environment's name.
    pub env: String,
    /// The split listed.
    pub split: Split,
    /// The stage filter, if any.
    pub stage: Option<String>,
    /// Every stage of the environment, easiest first.
    pub stages: Vec<String>,
    /// The reward components every outcome carries, in order.
    pub reward_components: Vec<ComponentInfo>,
    /// Label classes for classification-style environments.
    pub label_classes: Option<Vec<String>>,
    /// Tasks in the split (and stage) before paging.
    pub total: usize,
    /// Index of the first task listed.
    pub offset: usize,
    /// The page of tasks.
    pub tasks: Vec<TaskInfo>,
}

/// Parameters of `POST /reset`, from the query string or the JSON body (not both for one field).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetQuery {
    pub task: Option<String>,
    pub stage: Option<String>,
    pub split: Option<Split>,
    pub seed: Option<u64>,
    pub mode: Option<String>,
}

/// JSON body of `POST /reset`; every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// A task id, or a stage name (then a task of that stage is chosen by the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Choose the task from this stage (when `task` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Choose the task from this split (default `train`; when `task` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    /// Episode seed; absent: derived from the server seed and a reset counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Shorthand for `options.mode` (OpenSOC: `defender_only` or `self_play`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Environment-specific episode options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<EpisodeOptions>,
}

/// The first observation: the conversation the policy sees before its first turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// System prompt and task statement.
    pub messages: Vec<ChatMessage>,
}

/// `POST /reset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetResponse {
    /// Pass this to `/step`, `/state`, `/grade` and `DELETE /session`.
    pub session_id: String,
    /// The task chosen.
    pub task: TaskId,
    /// Its stage, if any.
    pub stage: Option<String>,
    /// The episode seed (replaying with it gives the same episode).
    pub seed: u64,
    /// The episode options in effect.
    pub options: EpisodeOptions,
    /// The prompt.
    pub observation: Prompt,
    /// Steps taken (0).
    pub step: u32,
    /// Whether the episode has ended (false).
    pub done: bool,
}

/// An action: the raw assistant text, or a JSON value (sent to the environment as compact JSON
/// text, handy for tool calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Action {
    /// Raw text.
    Text(String),
    /// A JSON object or array.
    Json(serde_json::Value),
}

impl Action {
    /// The text the environment receives.
    pub(crate) fn into_text(self) -> Result<String, String> {
        match self {
            Action::Text(s) => Ok(s),
            Action::Json(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => Ok(v.to_string()),
            Action::Json(v) => Err(format!("`action` must be a string or a JSON object, got {v}")),
        }
    }
}

/// Body of `POST /step`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The session.
    pub session_id: String,
    /// The policy's turn.
    pub action: Action,
}

/// `POST /step`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResponse {
    /// The session.
    pub session_id: String,
    /// Steps taken, this one included.
    pub step: u32,
    /// Whether the episode ended with this step.
    pub done: bool,
    /// The environment's reply when the episode goes on.
    pub observation: Option<ChatMessage>,
    /// The graded outcome when it ended.
    pub outcome: Option<Outcome>,
}

/// Query of `GET /state` and `DELETE /session`; body of `POST /grade`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRef {
    /// The session.
    pub session_id: String,
}

/// `GET /state`: what the policy has seen and done, never ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The session.
    pub session_id: String,
    /// The task.
    pub task: TaskId,
    /// Its stage, if any.
    pub stage: Option<String>,
    /// The episode seed.
    pub seed: u64,
    /// The episode options.
    pub options: EpisodeOptions,
    /// Steps taken.
    pub step: u32,
    /// Whether the episode has ended.
    pub done: bool,
    /// Prompt, then alternating assistant actions and observations.
    pub transcript: Vec<ChatMessage>,
}

/// `POST /grade`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// The session.
    pub session_id: String,
    /// The task.
    pub task: TaskId,
    /// The graded outcome.
    pub outcome: Outcome,
}

/// `DELETE /session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    /// The session.
    pub session_id: String,
    /// Always true (an unknown session is a 404).
    pub closed: bool,
}
