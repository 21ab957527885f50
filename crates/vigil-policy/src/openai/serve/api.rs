//! The HTTP side of `exp serve`: OpenAI-shaped errors for everything (bad JSON, 404, 405, 413,
//! 401, 429, 504), the API-key check, and handlers that validate and tokenize a request before
//! it reaches the worker's queue.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use vigil_core::ChatMessage;
use vigil_tokenizer::ChatTokenizer;

use super::worker::{Job, Prepared, Queue, Reply, settings_of};
use super::{ServeConfig, Shared};
use crate::chat::prompt_tokens;
use crate::openai::protocol::{ChatRequest, ErrorBody, ErrorDetail, LoadLora, UnloadLora};

/// An API error: HTTP status plus OpenAI-style body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    param: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into(), param: None }
    }
    pub(crate) fn bad(message: impl Into<String>, param: Option<&str>) -> Self {
        Self { param: param.map(String::from), ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message) }
    }
    pub(crate) fn not_found(message: impl Into<String>, param: Option<&str>) -> Self {
        Self { param: param.map(String::from), ..Self::new(StatusCode::NOT_FOUND, "not_found_error", message) }
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message)
    }
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }
    fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "the model worker has stopped; restart the server",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { message: self.message, kind: self.kind.into(), param: self.param } };
        (self.status, axum::Json(body)).into_response()
    }
}

/// What every handler sees.
#[derive(Clone)]
pub(crate) struct AppState {
    pub queue: Queue,
    pub shared: Arc<Shared>,
    pub tokenizer: Arc<ChatTokenizer>,
    pub cfg: Arc<ServeConfig>,
    pub max_model_len: usize,
}

pub(crate) fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/load_lora_adapter", post(load))
        .route("/v1/unload_lora_adapter", post(unload))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_key));
    Router::new()
        .route("/health", get(health))
        .merge(v1)
        .fallback(|| async {
            ApiError::not_found("no such route; see /v1/chat/completions, /v1/models, /health", None)
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "invalid_request_error", "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(state.cfg.limits.max_body_bytes))
        .with_state(state)
}

/// vLLM's convention: with a key set, `Authorization: Bearer <key>` or 401.
async fn require_key(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(key) = &s.cfg.api_key {
        let given = req.headers().get(header::AUTHORIZATION).map(axum::http::HeaderValue::as_bytes);
        if !vigil_core::auth::bearer_matches(given, key) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "missing or wrong API key (Authorization: Bearer <key>)",
            )
            .into_response();
        }
    }
    next.run(req).await
}

async fn health(State(s): State<AppState>) -> Response {
    if s.shared.alive.load(Ordering::SeqCst) { "ok".into_response() } else { ApiError::unavailable().into_response() }
}

fn body(b: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                format!("request body is larger than {limit} bytes"),
            )
        } else {
            ApiError::bad(format!("could not read the request body: {}", r.body_text()), None)
        }
    })
}

fn parse<T: DeserializeOwned>(b: Result<Bytes, BytesRejection>, limit: usize) -> Result<T, ApiError> {
    let body = body(b, limit)?;
    let de = &mut serde_json::Deserializer::from_slice(&body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::bad(format!("{}: {}", path, e.inner()), (path != ".").then_some(path.as_str()))
    })
}

/// Counts a request as in flight for as long as it lives (dropped when answered, timed out or
/// abandoned by its client).
struct Slot(Arc<Shared>);

impl Slot {
    fn take(s: &AppState) -> Result<Self, ApiError> {
        let max = s.cfg.limits.max_queue;
        let prev = s.shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let slot = Self(Arc::clone(&s.shared));
        if prev >= max {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                format!("the server is busy: {max} requests are queued or running; retry later"),
            ));
        }
        Ok(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn ask<T>(s: &AppState, make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Job) -> Result<T, ApiError> {
    if !s.shared.alive.load(Ordering::SeqCst) {
        return Err(ApiError::unavailable());
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    s.queue.send(make(tx)).map_err(|_| ApiError::unavailable())?;
    match tokio::time::timeout(s.cfg.limits.request_timeout, rx).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(ApiError::unavailable()),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            format!("the request did not finish within {} s", s.cfg.limits.request_timeout.as_secs_f64()),
        )),
    }
}

/// Parses, checks and tokenizes a chat request: everything that does not need the model.
fn prepare(s: &AppState, req: ChatRequest) -> Result<Prepared, ApiError> {
    let mut settings = settings_of(&req, &s.cfg)?;
    let msgs: Vec<ChatMessage> = req.messages.iter().map(ChatMessage::from).collect();
    let prompt = prompt_tokens(&s.tokenizer, &msgs, settings.generation.enable_thinking)
        .map_err(|e| ApiError::bad(e.to_string(), Some("messages")))?;
    let ctx = s.max_model_len;
    if prompt.len() >= ctx {
        return Err(ApiError::bad(
            format!(
                "the prompt has {} tokens; this server's context (max_model_len) is {ctx}, leaving no room for a completion",
                prompt.len()
            ),
            Some("messages"),
        ));
    }
    let room = ctx - prompt.len();
    let asked = req.max_completion_tokens.or(req.max_tokens);
    match asked {
        Some(m) if prompt.len().checked_add(m).is_none_or(|total| total > ctx) => {
            return Err(ApiError::bad(
                format!(
                    "max_tokens is {m}, but the prompt has {} tokens and max_model_len is {ctx}: at most {room} completion tokens fit",
                    prompt.len()
                ),
                Some(if req.max_completion_tokens.is_some() { "max_completion_tokens" } else { "max_tokens" }),
            ));
        }
        Some(_) => {}
        None => settings.generation.max_new_tokens = settings.generation.max_new_tokens.min(room),
    }
    Ok(Prepared { req, settings, prompt })
}

async fn chat(State(s): State<AppState>, b: Result<Bytes, BytesRejection>) -> Response {
    let res = async {
        let req: ChatRequest = parse(b, s.cfg.limits.max_body_bytes)?;
        let _slot = Slot::take(&s)?;
        let st = s.clone();
        // Tokenizing a long prompt is CPU work: off the async threads.
        let prepared = tokio::task::spawn_blocking(move || prepare(&st, req))
            .await
            .map_err(|_| ApiError::internal("preparing the request panicked"))??;
        ask(&s, |tx| Job::Chat(Box::new(prepared), tx)).await?
    };
    match res.await {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

/// An adapter job (load or unload): parse the body, queue it, answer vLLM's plain-text message.
async fn adapter_job<R: DeserializeOwned>(
    s: &AppState,
    b: Result<Bytes, BytesRejection>,
    make: impl FnOnce(R, Reply<Result<String, ApiError>>) -> Job,
) -> Response {
    let res = async {
        let req: R = parse(b, s.cfg.limits.max_body_bytes)?;
        ask(s, |tx| make(req, tx)).await?
    };
    match res.await {
        Ok(msg) => (StatusCode::OK, msg).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn load(State(s): State<AppState>, b: Result<Bytes, BytesRejection>) -> Response {
    adapter_job::<LoadLora>(&s, b, Job::Load).await
}

async fn unload(State(s): State<AppState>, b: Result<Bytes, BytesRejection>) -> Response {
    adapter_job::<UnloadLora>(&s, b, Job::Unload).await
}

async fn models(State(s): State<AppState>) -> Response {
    match ask(&s, Job::Models).await {
        Ok(names) => {
            let data: Vec<Value> =
                names.into_iter().map(|n| json!({"id": n, "object": "model", "owned_by": "vigil"})).collect();
            axum::Json(json!({"object": "list", "data": data})).into_response()
        }
        Err(e) => e.into_response(),
    }
}
