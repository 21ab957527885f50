//! `POST /reset`, `POST /step`, `GET /state`: Vigil's session API or OpenEnv's shapes, told
//! apart by the request. A request naming `session_id` (or a reset without `episode_id`) is
//! Vigil's and gets Vigil's answer; the others get OpenEnv's `{observation, reward, done}` and
//! state. Every Vigil reset also becomes the latest episode, which OpenEnv requests that name
//! none address (so the peer's single-environment HTTP client runs unchanged).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::wire::reset_params;
use super::{Episode, reset as openenv_reset, state as openenv_state, step as openenv_step};
use crate::ServerError;
use crate::api::{ResetQuery, ResetRequest, SessionRef, StepRequest};
use crate::extract::{Body, OptionalBody, Params};
use crate::routes;
use crate::server::App;

fn from_value<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ServerError> {
    serde_json::from_value(v).map_err(|e| ServerError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Closes the session an `episode_id` named before, when a new reset reuses the id.
fn remember(app: &App, ep: Episode) {
    if let Some(old) = app.openenv.insert(app, ep) {
        app.sessions.remove(&old);
    }
}

pub(crate) async fn reset(
    State(app): State<Arc<App>>,
    client: crate::guard::Client,
    Params(q): Params<ResetQuery>,
    OptionalBody(body): OptionalBody<Map<String, Value>>,
) -> Result<Response, ServerError> {
    let body = body.unwrap_or_default();
    if body.contains_key("episode_id") {
        if q.task.is_some() || q.stage.is_some() || q.split.is_some() || q.seed.is_some() || q.mode.is_some() {
            return Err(ServerError::BadRequest(
                "an OpenEnv reset (with `episode_id`) takes its parameters from the JSON body only".into(),
            ));
        }
        let (episode_id, req) = reset_params(Value::Object(body))?;
        let (ep, reply) = openenv_reset(&app, client, episode_id, req).await?;
        remember(&app, ep);
        return Ok(Json(reply).into_response());
    }
    let body = if body.is_empty() { None } else { Some(from_value::<ResetRequest>(Value::Object(body))?) };
    let Json(r) = routes::reset(State(Arc::clone(&app)), client, Params(q), OptionalBody(body)).await?;
    remember(&app, Episode { session_id: r.session_id.clone(), episode_id: r.session_id.clone() });
    Ok(Json(r).into_response())
}

/// OpenEnv's `StepRequest` keys besides `action` (`timeout_s` and `request_id` are accepted and
/// not used: a Vigil step takes microseconds).
const STEP_KEYS: [&str; 4] = ["action", "episode_id", "timeout_s", "request_id"];

pub(crate) async fn step(
    State(app): State<Arc<App>>,
    Body(mut body): Body<Map<String, Value>>,
) -> Result<Response, ServerError> {
    if body.contains_key("session_id") {
        let Json(r) = routes::step(State(app), Body(from_value::<StepRequest>(Value::Object(body))?)).await?;
        return Ok(Json(r).into_response());
    }
    let episode_id = match body.remove("episode_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => {
            return Err(ServerError::BadRequest(format!("`episode_id` must be a string, got {v}")));
        }
    };
    let action = match body.remove("action") {
        Some(a @ Value::Object(_)) => {
            if let Some(k) = body.keys().find(|k| !STEP_KEYS.contains(&k.as_str())) {
                return Err(ServerError::BadRequest(format!("unknown field `{k}` next to `action`")));
            }
            a
        }
        Some(other) => {
            return Err(ServerError::BadRequest(format!("`action` must be a JSON object, got {other}")));
        }
        // The peer's own HTTP client posts the action itself (`{"action_type", "params"}`).
        None => Value::Object(body),
    };
    let ep = app.openenv.find(episode_id.as_deref())?;
    Ok(Json(openenv_step(&app, &ep, action).await?).into_response())
}

/// Query of `GET /state`: Vigil's `session_id` or OpenEnv's optional `episode_id`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateQuery {
    session_id: Option<String>,
    episode_id: Option<String>,
}

pub(crate) async fn state(State(app): State<Arc<App>>, Params(q): Params<StateQuery>) -> Result<Response, ServerError> {
    match (q.session_id, q.episode_id) {
        (Some(_), Some(_)) => Err(ServerError::BadRequest("give `session_id` or `episode_id`, not both".into())),
        (Some(session_id), None) => {
            let Json(s) = routes::state(State(app), Params(SessionRef { session_id })).await?;
            Ok(Json(s).into_response())
        }
        (None, episode_id) => {
            let ep = app.openenv.find(episode_id.as_deref())?;
            Ok(Json(openenv_state(&app, &ep).await?).into_response())
        }
    }
}
