//! The OpenEnv-style endpoints. Handlers are thin: parse, find the session, lock it, call the
//! episode, shape the answer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, Uri};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use vigil_core::{ChatMessage, Split, Step, TaskId, derive_seed};

use crate::api::{
    Closed, Grade, Health, Prompt, ResetQuery, ResetRequest, ResetResponse, SessionRef, State as StateBody,
    StepRequest, StepResponse, TaskInfo, Tasks, TasksQuery,
};
use crate::extract::{Body, OptionalBody, Params};
use crate::guard::{self, Client};
use crate::server::App;
use crate::sessions::{Run, SessionInfo};
use crate::{ServerError, demo, openenv};

type Answer<T> = Result<Json<T>, ServerError>;

/// Most tasks one `/tasks` page lists when `limit` is not given.
const DEFAULT_TASK_PAGE: usize = 1000;

/// Runs environment code, turning a panic into an error instead of a dropped connection.
pub(crate) fn guarded<T>(what: &'static str, f: impl FnOnce() -> T) -> Result<T, ServerError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| ServerError::Panicked(what))
}

pub(crate) fn router(app: Arc<App>) -> Router {
    let limit = app.config.max_body_bytes;
    let router = Router::new()
        .route("/health", get(health))
        .route("/tasks", get(tasks))
        // Vigil's session API and OpenEnv's shapes share these paths (see `openenv::http`).
        .route("/reset", post(openenv::http::reset))
        .route("/step", post(openenv::http::step))
        .route("/state", get(openenv::http::state))
        .route("/ws", get(openenv::ws::handler))
        .route("/metadata", get(openenv::schema::get_metadata))
        .route("/schema", get(openenv::schema::get_schema))
        .route("/grade", post(grade))
        .route("/session", delete(close));
    let router = if app.config.demo { demo::routes(router) } else { router };
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&app), guard::require_key))
        .with_state(app)
}

async fn no_route(method: Method, uri: Uri) -> ServerError {
    ServerError::NoRoute { method: method.to_string(), path: uri.path().to_string() }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ServerError {
    ServerError::MethodNotAllowed { method: method.to_string(), path: uri.path().to_string() }
}

async fn health(State(app): State<Arc<App>>) -> Json<Health> {
    Json(Health {
        status: "healthy".into(),
        env: app.env.name().into(),
        sessions: app.sessions.len(),
        max_sessions: app.config.max_sessions,
        idle_timeout_secs: app.config.idle_timeout_secs,
    })
}

async fn tasks(State(app): State<Arc<App>>, Params(q): Params<TasksQuery>) -> Answer<Tasks> {
    let split = q.split.unwrap_or(Split::Train);
    let all = app.task_list(split, q.stage.as_deref())?;
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(DEFAULT_TASK_PAGE);
    let tasks = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|t| TaskInfo { id: t.clone(), stage: app.env.stage_of(t) })
        .collect();
    Ok(Json(Tasks {
        env: app.env.name().into(),
        split,
        stage: q.stage,
        stages: app.env.stages(),
        reward_components: app.env.reward_components(),
        label_classes: app.env.label_classes(),
        total: all.len(),
        offset,
        tasks,
    }))
}

/// One parameter from the query string or the body, never both.
fn merge<T>(name: &str, query: Option<T>, body: Option<T>) -> Result<Option<T>, ServerError> {
    match (query, body) {
        (Some(_), Some(_)) => {
            Err(ServerError::BadRequest(format!("`{name}` is given both in the query string and in the JSON body")))
        }
        (q, b) => Ok(q.or(b)),
    }
}

pub(crate) async fn reset(
    State(app): State<Arc<App>>,
    Client(client): Client,
    Params(q): Params<ResetQuery>,
    OptionalBody(body): OptionalBody<ResetRequest>,
) -> Answer<ResetResponse> {
    let b = body.unwrap_or_default();
    let task = merge("task", q.task, b.task)?;
    let stage = merge("stage", q.stage, b.stage)?;
    let split = merge("split", q.split, b.split)?;
    let seed = merge("seed", q.seed, b.seed)?;
    let mut options = b.options.unwrap_or_default();
    if let Some(mode) = merge("mode", q.mode, b.mode)? {
        if options.contains_key("mode") {
            return Err(ServerError::BadRequest("`mode` is given both as a parameter and in `options`".into()));
        }
        options.insert("mode".into(), mode.into());
    }
    let seed = seed.unwrap_or_else(|| derive_seed(app.config.seed, "reset", app.resets.fetch_add(1, Ordering::Relaxed)));

    let task = match task {
        // OpenSOC style: `?task=<stage id>` picks a task of that stage.
        Some(t) if app.env.stages().contains(&t) => {
            if stage.is_some() {
                return Err(ServerError::BadRequest(format!("`task` names the stage `{t}` and `stage` is also given")));
            }
            app.pick_task(split.unwrap_or(Split::Train), Some(&t), seed)?
        }
        Some(t) => {
            if stage.is_some() || split.is_some() {
                return Err(ServerError::BadRequest(
                    "`stage` and `split` choose a task for you; they cannot be combined with a task id".into(),
                ));
            }
            TaskId::new(t)
        }
        None => app.pick_task(split.unwrap_or(Split::Train), stage.as_deref(), seed)?,
    };

    app.sessions.check_capacity(client)?;
    let episode = guarded("starting an episode", || app.env.start_with(&task, seed, &options))??;
    let messages = guarded("rendering the prompt", || episode.prompt())?;
    let info = SessionInfo { stage: app.env.stage_of(&task), task, seed, options };
    let run = Run { episode, transcript: messages.clone(), steps: 0, outcome: None };
    let session = app.sessions.insert(info.clone(), run, client)?;
    session.usage.record(messages.iter().map(|m| m.content.len()).sum());
    tracing::debug!(session = %session.id, task = %info.task, seed, "session started");
    Ok(Json(ResetResponse {
        session_id: session.id.clone(),
        task: info.task,
        stage: info.stage,
        seed,
        options: info.options,
        observation: Prompt { messages },
        step: 0,
        done: false,
    }))
}

pub(crate) async fn step(State(app): State<Arc<App>>, Body(req): Body<StepRequest>) -> Answer<StepResponse> {
    let action = req.action.into_text().map_err(ServerError::BadRequest)?;
    let session = app.sessions.get(&req.session_id)?;
    let mut run = session.run.lock().await;
    if run.outcome.is_some() {
        return Err(ServerError::EpisodeOver(session.id.clone()));
    }
    if run.steps >= app.config.max_steps {
        return Err(ServerError::StepLimit { session: session.id.clone(), max: app.config.max_steps });
    }
    session.usage.charge_action(&session.id, action.len())?;
    let result = match guarded("stepping the episode", || run.episode.step(&action)) {
        Ok(r) => r?,
        Err(e) => {
            drop(run);
            app.sessions.remove(&session.id);
            return Err(e);
        }
    };
    run.steps += 1;
    run.transcript.push(ChatMessage::assistant(action));
    let (observation, outcome) = match result {
        Step::Continue { observation } => {
            session.usage.record(observation.content.len());
            run.transcript.push(observation.clone());
            (Some(observation), None)
        }
        Step::Done(outcome) => {
            run.outcome = Some((*outcome).clone());
            (None, Some(*outcome))
        }
    };
    app.sessions.touch(&session);
    Ok(Json(StepResponse {
        session_id: session.id.clone(),
        step: run.steps,
        done: outcome.is_some(),
        observation,
        outcome,
    }))
}

pub(crate) async fn state(State(app): State<Arc<App>>, Params(q): Params<SessionRef>) -> Answer<StateBody> {
    let session = app.sessions.get(&q.session_id)?;
    let run = session.run.lock().await;
    let info = &session.info;
    Ok(Json(StateBody {
        session_id: session.id.clone(),
        task: info.task.clone(),
        stage: info.stage.clone(),
        seed: info.seed,
        options: info.options.clone(),
        step: run.steps,
        done: run.outcome.is_some(),
        transcript: run.transcript.clone(),
    }))
}

/// `session_id` from the query string or the body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaybeSession {
    session_id: Option<String>,
}

fn session_id(q: MaybeSession, body: Option<SessionRef>) -> Result<String, ServerError> {
    merge("session_id", q.session_id, body.map(|b| b.session_id))?
        .ok_or_else(|| ServerError::BadRequest("missing `session_id` (query parameter or JSON body)".into()))
}

async fn grade(
    State(app): State<Arc<App>>,
    Params(q): Params<MaybeSession>,
    OptionalBody(body): OptionalBody<SessionRef>,
) -> Answer<Grade> {
    let session = app.sessions.get(&session_id(q, body)?)?;
    let run = session.run.lock().await;
    match &run.outcome {
        Some(o) => Ok(Json(Grade { session_id: session.id.clone(), task: session.info.task.clone(), outcome: o.clone() })),
        None => Err(ServerError::NotFinished { session: session.id.clone(), steps: run.steps }),
    }
}

async fn close(
    State(app): State<Arc<App>>,
    Params(q): Params<MaybeSession>,
    OptionalBody(body): OptionalBody<SessionRef>,
) -> Answer<Closed> {
    let id = session_id(q, body)?;
    if app.sessions.remove(&id) {
        tracing::debug!(session = %id, "session closed");
        Ok(Json(Closed { session_id: id, closed: true }))
    } else {
        Err(ServerError::UnknownSession(id))
    }
}
