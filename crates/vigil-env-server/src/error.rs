//! The server's error type and its HTTP mapping: every error is a JSON `{"error": "..."}` body
//! with a status that says whose fault it is (4xx: the request; 5xx: the environment or server).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;
use vigil_core::EnvError;

/// Why a request or the server failed.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The server configuration is invalid.
    #[error("server config: `{field}` {reason}")]
    Config {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Binding or serving the socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The request is malformed (bad JSON, bad query parameter, conflicting fields).
    #[error("{0}")]
    BadRequest(String),
    /// The request body is larger than the server accepts.
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No such route.
    #[error("no route {method} {path}; endpoints: GET /health, GET /tasks, POST /reset, POST /step, GET /state, POST /grade, DELETE /session, GET /demo, GET /ws (OpenEnv), GET /metadata, GET /schema")]
    NoRoute {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// The route exists but not with this method.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// The session id is unknown, closed or expired.
    #[error("unknown session `{0}` (never created, closed, or expired after being idle)")]
    UnknownSession(String),
    /// Every session slot is taken.
    #[error("too many sessions: all {max} slots are in use; close finished sessions with DELETE /session or retry later")]
    TooManySessions {
        /// The configured limit.
        max: usize,
    },
    /// The client already holds its share of the sessions.
    #[error("too many sessions from your address: all {max} of its slots are in use; close finished sessions with DELETE /session")]
    ClientSessions {
        /// The per-client limit.
        max: usize,
    },
    /// An action is larger than the server accepts.
    #[error("the action has {len} bytes; this server accepts at most {max} per step")]
    ActionTooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The session holds as much text as it may.
    #[error("session `{session}` has used its quota of {max} bytes of text; grade or close it")]
    SessionQuota {
        /// The session.
        session: String,
        /// The quota.
        max: u64,
    },
    /// All sessions together hold as much text as the server allows.
    #[error("the server holds its limit of {max} bytes of session text; close finished sessions or retry later")]
    ServerFull {
        /// The limit.
        max: u64,
    },
    /// The request lacks the API key.
    #[error("missing or wrong API key (send `Authorization: Bearer <key>`)")]
    Unauthorized,
    /// The request is well-formed but not allowed on this server.
    #[error("{0}")]
    Forbidden(String),
    /// A step was sent to a finished episode.
    #[error("session `{0}` has already ended; POST /grade returns its outcome")]
    EpisodeOver(String),
    /// `/grade` was called before the episode ended.
    #[error("session `{session}` has not ended yet (after {steps} step(s)); keep sending POST /step")]
    NotFinished {
        /// The session.
        session: String,
        /// Steps taken so far.
        steps: u32,
    },
    /// The session hit the server's step limit without the environment ending it.
    #[error("session `{session}` reached the server's limit of {max} steps without ending")]
    StepLimit {
        /// The session.
        session: String,
        /// The limit.
        max: u32,
    },
    /// The split/stage has no task to choose from.
    #[error("no task in split `{split}`{}", stage.as_ref().map(|s| format!(", stage `{s}`")).unwrap_or_default())]
    NoTasks {
        /// The split.
        split: String,
        /// The stage, if any.
        stage: Option<String>,
    },
    /// The environment rejected or failed the request.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The environment panicked; the session (if any) was closed.
    #[error("the environment panicked while {0}; the session was closed")]
    Panicked(&'static str),
    /// An episode's answer could not be put in the OpenEnv shape the server speaks.
    #[error("OpenEnv shape: {0}")]
    OpenEnv(String),
    /// Client side: the request could not be sent or its answer read.
    #[error("{context}: {source}")]
    Http {
        /// The endpoint or step.
        context: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// Client side: the server answered with an error status.
    #[error("{context}: HTTP {status}: {error}")]
    Status {
        /// The endpoint.
        context: String,
        /// The HTTP status.
        status: u16,
        /// The server's error message.
        error: String,
    },
    /// Client side: a load-test session saw state that is not its own.
    #[error("load test session {session}: {what}")]
    LoadCheck {
        /// Index of the session.
        session: usize,
        /// What differed.
        what: String,
    },
}

impl ServerError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::NoRoute { .. } | ServerError::UnknownSession(_) | ServerError::NoTasks { .. } => {
                StatusCode::NOT_FOUND
            }
            ServerError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ServerError::TooManySessions { .. }
            | ServerError::ClientSessions { .. }
            | ServerError::SessionQuota { .. }
            | ServerError::ServerFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServerError::ActionTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::EpisodeOver(_) | ServerError::NotFinished { .. } | ServerError::StepLimit { .. } => {
                StatusCode::CONFLICT
            }
            ServerError::Env(e) => match e {
                EnvError::UnknownTask(_) => StatusCode::NOT_FOUND,
                EnvError::UnknownStage { .. } | EnvError::InvalidOption { .. } => StatusCode::BAD_REQUEST,
                EnvError::EpisodeOver => StatusCode::CONFLICT,
                EnvError::Env { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ServerError::Config { .. }
            | ServerError::Io { .. }
            | ServerError::Panicked(_)
            | ServerError::Http { .. }
            | ServerError::Status { .. }
            | ServerError::LoadCheck { .. }
            | ServerError::OpenEnv(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, %status, "request rejected");
        }
        (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}
