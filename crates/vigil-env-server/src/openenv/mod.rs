//! The OpenEnv protocol (the `openenv-core` PyPI package: its `EnvClient`/`GenericEnvClient`,
//! which TRL's GRPO trainer drives), next to Vigil's own session API.
//!
//! - `GET /ws`: a WebSocket, one environment session per connection. Client messages are
//!   `{"type": "reset", "data": {seed, episode_id, task, stage, split, mode, options}}`,
//!   `{"type": "step", "data": ACTION}`, `{"type": "state"}`, `{"type": "close"}`; replies are
//!   `{"type": "observation", "data": {observation, reward, done}}`, `{"type": "state", "data":
//!   STATE}` and `{"type": "error", "data": {message, code}}` (codes as OpenEnv's: `INVALID_JSON`,
//!   `UNKNOWN_TYPE`, `VALIDATION_ERROR`, `EXECUTION_ERROR`, `CAPACITY_REACHED`, `SESSION_ERROR`).
//! - HTTP, on the same paths as Vigil's API: `POST /reset` with `episode_id` in the body answers
//!   `{observation, reward, done}`; `POST /step` with `{"action": {...}}` (no `session_id`) and
//!   `GET /state` without `session_id` address the episode named by `episode_id` (body or query)
//!   or, when none is named, the latest HTTP reset (as single-environment servers do; concurrent
//!   clients name their episode or use `/ws`). `GET /metadata` and `GET /schema` (JSON Schemas of
//!   action, observation and state, generated from the Rust types in [`wire`]).
//!
//! Everything goes through Vigil's own handlers (task choice, limits, panics, expiry); this
//! module only translates shapes. [`OpenEnvShape`] picks the action and observation schema.

pub(crate) mod http;
mod opensec;
pub(crate) mod schema;
pub(crate) mod wire;
pub(crate) mod ws;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_core::{ChatMessage, Role, Step};

use crate::ServerError;
use crate::api::{Action, ResetQuery, ResetRequest, StepRequest};
use crate::extract::{Body, OptionalBody, Params};
use crate::routes;
use crate::server::App;
use crate::sessions::Session;
use wire::{ChatObservation, ChatState, Reply};

/// The OpenEnv action and observation schema a server speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenEnvShape {
    /// Actions `{"text": "..."}`; chat observations (OpenSOC, CERT).
    #[default]
    Text,
    /// Actions are tool calls (`{"name", "arguments"}`, the peer's `{"action_type", "params"}`,
    /// or `{"text"}`); chat observations (OpenSec, hardened).
    ToolCall,
    /// OpenSec compat: tool-call actions, and observations and state in exactly the schema of
    /// the peer opensec-env's `Observation` and `EpisodeState` models.
    OpenSecPeer,
}

/// One OpenEnv episode: Vigil's session and the client's name for it.
#[derive(Debug, Clone)]
pub(crate) struct Episode {
    pub session_id: String,
    pub episode_id: String,
}

/// HTTP episodes by `episode_id`, and the latest one (what requests naming none address).
#[derive(Debug, Default)]
pub(crate) struct Registry {
    by_id: Mutex<HashMap<String, String>>,
    latest: Mutex<Option<Episode>>,
}

impl Registry {
    fn lock_ids(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.by_id.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_latest(&self) -> MutexGuard<'_, Option<Episode>> {
        self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `ep` as the latest HTTP episode (and under its id); returns the session it
    /// replaces under the same `episode_id`, which the caller closes.
    pub(crate) fn insert(&self, app: &App, ep: Episode) -> Option<String> {
        let mut ids = self.lock_ids();
        if ids.len() >= app.config.max_sessions {
            // Forget episodes whose session was closed or expired, so the map stays bounded.
            ids.retain(|_, s| app.sessions.contains(s));
        }
        let old = ids.insert(ep.episode_id.clone(), ep.session_id.clone()).filter(|s| *s != ep.session_id);
        *self.lock_latest() = Some(ep);
        old
    }

    /// The episode named `episode_id`, or the latest one.
    pub(crate) fn find(&self, episode_id: Option<&str>) -> Result<Episode, ServerError> {
        match episode_id {
            Some(id) => self
                .lock_ids()
                .get(id)
                .map(|s| Episode { session_id: s.clone(), episode_id: id.to_string() })
                .ok_or_else(|| {
                    ServerError::BadRequest(format!("unknown episode_id `{id}`: POST /reset with it first"))
                }),
            None => self.lock_latest().clone().ok_or_else(|| {
                ServerError::BadRequest("no episode yet: POST /reset first (or name a `session_id`)".into())
            }),
        }
    }
}

/// The last observation message (the prompt's user message or a tool reply) of a transcript.
fn last_observation(transcript: &[ChatMessage]) -> Option<&ChatMessage> {
    transcript.iter().rev().find(|m| matches!(m.role, Role::User | Role::Tool))
}

/// Starts an episode through Vigil's `/reset`; the first reply.
pub(crate) async fn reset(
    app: &Arc<App>,
    client: crate::guard::Client,
    episode_id: Option<String>,
    body: ResetRequest,
) -> Result<(Episode, Reply), ServerError> {
    let Json(r) =
        routes::reset(State(Arc::clone(app)), client, Params(ResetQuery::default()), OptionalBody(Some(body))).await?;
    let episode = Episode { episode_id: episode_id.unwrap_or_else(|| r.session_id.clone()), session_id: r.session_id };
    let observation = match app.shape {
        OpenEnvShape::OpenSecPeer => opensec::reset_observation(r.task.as_str(), &r.observation.messages)?,
        OpenEnvShape::Text | OpenEnvShape::ToolCall => to_value(&ChatObservation {
            task_id: r.task.to_string(),
            stage: r.stage,
            step: 0,
            messages: r.observation.messages,
            outcome: None,
        })?,
    };
    Ok((episode, Reply { observation, reward: None, done: false }))
}

/// Applies one OpenEnv action through Vigil's `/step`.
pub(crate) async fn step(app: &Arc<App>, ep: &Episode, action: Value) -> Result<Reply, ServerError> {
    let text = wire::action_text(app.shape, action)?;
    let before = match app.shape {
        OpenEnvShape::OpenSecPeer => {
            let session = app.sessions.get(&ep.session_id)?;
            let run = session.run.lock().await;
            last_observation(&run.transcript).cloned()
        }
        OpenEnvShape::Text | OpenEnvShape::ToolCall => None,
    };
    let req = StepRequest { session_id: ep.session_id.clone(), action: Action::Text(text.clone()) };
    let Json(r) = routes::step(State(Arc::clone(app)), Body(req)).await?;
    let session = app.sessions.get(&ep.session_id)?;
    let reward = Some(r.outcome.as_ref().map_or(0.0, |o| o.rewards.sum()));
    let observation = match app.shape {
        OpenEnvShape::OpenSecPeer => {
            let step = match (r.observation, r.outcome) {
                (Some(observation), _) => Step::Continue { observation },
                (None, Some(outcome)) => Step::Done(Box::new(outcome)),
                (None, None) => {
                    return Err(ServerError::OpenEnv("a step returned neither observation nor outcome".into()));
                }
            };
            opensec::step_observation(session.info.task.as_str(), before.as_ref(), &text, r.step, step)?
        }
        OpenEnvShape::Text | OpenEnvShape::ToolCall => to_value(&ChatObservation {
            task_id: session.info.task.to_string(),
            stage: session.info.stage.clone(),
            step: r.step,
            messages: r.observation.into_iter().collect(),
            outcome: r.outcome,
        })?,
    };
    Ok(Reply { observation, reward, done: r.done })
}

/// The episode's OpenEnv state.
pub(crate) async fn state(app: &Arc<App>, ep: &Episode) -> Result<Value, ServerError> {
    let session: Arc<Session> = app.sessions.get(&ep.session_id)?;
    let run = session.run.lock().await;
    let done = run.outcome.is_some();
    match app.shape {
        OpenEnvShape::OpenSecPeer => opensec::state(
            &ep.episode_id,
            session.info.task.as_str(),
            run.steps,
            done,
            last_observation(&run.transcript),
        ),
        OpenEnvShape::Text | OpenEnvShape::ToolCall => to_value(&ChatState {
            episode_id: ep.episode_id.clone(),
            step_count: run.steps,
            task_id: session.info.task.to_string(),
            stage: session.info.stage.clone(),
            seed: session.info.seed,
            options: session.info.options.clone(),
            done,
        }),
    }
}

pub(crate) fn to_value<T: Serialize>(v: &T) -> Result<Value, ServerError> {
    serde_json::to_value(v).map_err(|e| ServerError::OpenEnv(format!("could not encode the reply: {e}")))
}
