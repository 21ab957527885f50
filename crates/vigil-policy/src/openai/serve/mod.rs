//! `exp serve`: an OpenAI-compatible chat-completions server over the burn Qwen3.
//!
//! Endpoints: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions` (non-streaming, one
//! choice, per-token log-probs, `return_tokens_as_token_ids`), and vLLM's
//! `POST /v1/load_lora_adapter` / `POST /v1/unload_lora_adapter`, so the trainer's HTTP rollout
//! backend (and its LoRA hot-loading) can be tested end to end on 127.0.0.1, and users can
//! evaluate adapters with any OpenAI client.
//!
//! One worker thread owns the models. HTTP handlers validate and tokenize a request, then queue
//! it; the worker batches queued requests that share a model and sampling settings and advances
//! every running batch one token at a time, round robin, so one long request never stalls the
//! others.
//!
//! Hardening (every error is OpenAI's `{"error": {message, type, param}}` shape):
//! - the prompt and the token budget are checked against the context (`max_model_len`) with
//!   checked arithmetic: 400 naming `messages` or `max_tokens`;
//! - at most `max_queue` requests wait or run (429 beyond); a request past its deadline gets
//!   504, and a request whose client went away stops being decoded at the next token;
//! - a request that panics fails alone (500) and the worker keeps serving; `/health` answers
//!   503 whenever the worker cannot serve;
//! - bodies over `max_body_bytes` get 413; an API key (vLLM's convention: `Authorization:
//!   Bearer`) guards every route but `/health`; adapters load only from under `adapter_root`,
//!   and a path outside it gets the same message as a path that does not exist.

mod api;
mod worker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use burn::prelude::*;
use vigil_tokenizer::ChatTokenizer;

use super::{OpenAiError, config_error, io_error};
use crate::lora::{Adapter, apply_adapter};
use crate::{ComputeDtype, Qwen3, load_qwen3};

/// What `exp serve` loads and how it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Model folder.
    pub model_dir: PathBuf,
    /// Tokenizer folder (usually the model folder).
    pub tokenizer_dir: PathBuf,
    /// Adapter applied to the base and served under the base's name.
    pub adapter: Option<PathBuf>,
    /// Compute dtype.
    pub dtype: ComputeDtype,
    /// Name clients use as `model`.
    pub served_name: String,
    /// Most requests per generation batch.
    pub max_batch: usize,
    /// Token budget when a request gives none (capped by what the context leaves).
    pub default_max_tokens: usize,
    /// `enable_thinking` when a request does not say.
    pub enable_thinking: bool,
    /// Bearer token every route but `/health` requires (none: open).
    pub api_key: Option<String>,
    /// The only folder `/v1/load_lora_adapter` may load from (none: run-time loading is off).
    pub adapter_root: Option<PathBuf>,
    /// Request limits.
    pub limits: ServeLimits,
}

/// How much one request, and all of them together, may ask of the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeLimits {
    /// Prompt plus completion tokens at most (none: the model's `max_position_embeddings`; a
    /// larger value is capped to it).
    pub max_model_len: Option<usize>,
    /// Requests queued or running at once; more get 429.
    pub max_queue: usize,
    /// Batches decoded in turn at once; further batches wait in the queue.
    pub max_running_batches: usize,
    /// Time a chat request may take from arrival to answer (504 after, and decoding stops).
    pub request_timeout: Duration,
    /// Largest request body in bytes (413 above).
    pub max_body_bytes: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_model_len: None,
            max_queue: 256,
            max_running_batches: 4,
            request_timeout: Duration::from_secs(600),
            max_body_bytes: 4 << 20,
        }
    }
}

impl ServeConfig {
    fn validate(&self) -> Result<(), OpenAiError> {
        let bad = |field: &str, why: &str| {
            Err(config_error(format!("serve.{field}"), why))
        };
        let l = &self.limits;
        if self.max_batch == 0 {
            return bad("max_batch", "must be at least 1");
        }
        if self.default_max_tokens == 0 {
            return bad("default_max_tokens", "must be at least 1");
        }
        if l.max_queue == 0 || l.max_running_batches == 0 {
            return bad("max_queue / max_running_batches", "must be at least 1");
        }
        if l.max_model_len == Some(0) || l.request_timeout.is_zero() || l.max_body_bytes < 1024 {
            return bad("limits", "need max_model_len ≥ 1, a non-zero timeout and max_body_bytes ≥ 1024");
        }
        if self.api_key.as_deref().is_some_and(str::is_empty) {
            return bad("api_key", "must not be empty");
        }
        Ok(())
    }
}

/// Counters and switches shared by the HTTP side and the worker.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// False once the worker thread has exited (stopped or crashed).
    alive: AtomicBool,
    /// Chat requests accepted and not yet answered (queued or running).
    in_flight: AtomicUsize,
    /// Sequences the worker is decoding or holding in its queue.
    held: AtomicUsize,
    /// Test hook: the next decoding step panics.
    panic_next: AtomicBool,
    /// Test hook: the worker takes no new work and decodes nothing while set.
    paused: AtomicBool,
    /// Test hook: decoding rounds left before the worker pauses itself (0: no limit).
    rounds_left: AtomicUsize,
}

/// Test-only control of a running server (not reachable over HTTP; `exp serve` never uses it):
/// stop the worker as a crash would, make the next decoding step panic, pause the worker, and
/// see how many requests are in flight.
#[derive(Debug, Clone)]
pub struct ServerControl {
    shared: Arc<Shared>,
    queue: worker::Queue,
}

impl ServerControl {
    /// Makes the worker exit, as if it had crashed.
    pub fn stop_worker(&self) {
        let _ = self.queue.send(worker::Job::Stop);
    }

    /// Makes the next decoding step panic (inside the request's isolation).
    pub fn panic_next_step(&self) {
        self.shared.panic_next.store(true, Ordering::SeqCst);
    }

    /// Holds (true) or releases (false) the worker, so tests can fill the queue.
    pub fn pause(&self, paused: bool) {
        self.shared.rounds_left.store(0, Ordering::SeqCst);
        self.shared.paused.store(paused, Ordering::SeqCst);
    }

    /// Lets the worker run `n` decoding rounds (one token per running batch each), then pause.
    pub fn run_rounds(&self, n: usize) {
        self.shared.rounds_left.store(n, Ordering::SeqCst);
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// Whether the worker is paused.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::SeqCst)
    }

    /// Chat requests accepted over HTTP and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Requests the worker holds (queued for a batch or being decoded).
    pub fn held(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// Whether the worker thread is running.
    pub fn worker_alive(&self) -> bool {
        self.shared.alive.load(Ordering::SeqCst)
    }
}

/// A loaded server: [`Server::router`] or [`Server::run`].
pub struct Server {
    state: api::AppState,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Server")
    }
}

/// Canonical adapter root, so later prefix checks compare resolved paths.
fn canonical_root(root: &Path) -> Result<PathBuf, OpenAiError> {
    root.canonicalize().map_err(io_error(root.display()))
}

impl Server {
    /// Loads the model (and adapter) on `device` and starts the worker thread.
    pub fn load<B: Backend>(mut cfg: ServeConfig, device: &B::Device) -> Result<Self, OpenAiError>
    where
        Qwen3<B>: Send + 'static,
    {
        cfg.validate()?;
        cfg.adapter_root = cfg.adapter_root.as_deref().map(canonical_root).transpose()?;
        let tokenizer = Arc::new(ChatTokenizer::from_dir(&cfg.tokenizer_dir)?);
        let mut base = load_qwen3::<B>(&cfg.model_dir, cfg.dtype, device)?;
        if let Some(dir) = &cfg.adapter {
            let a = Adapter::load(dir)?;
            base = apply_adapter(base, &a, cfg.dtype)?.merge_adapters();
        }
        let context = base.config.max_position_embeddings;
        let max_model_len = cfg.limits.max_model_len.map_or(context, |m| m.min(context));
        let shared = Arc::new(Shared::default());
        let cfg = Arc::new(cfg);
        let queue = worker::spawn(Arc::clone(&cfg), Arc::clone(&tokenizer), base, Arc::clone(&shared))?;
        Ok(Self { state: api::AppState { queue, shared, tokenizer, cfg, max_model_len } })
    }

    /// The context length requests are checked against.
    pub fn max_model_len(&self) -> usize {
        self.state.max_model_len
    }

    /// Test-only control of the worker (see [`ServerControl`]).
    pub fn control(&self) -> ServerControl {
        ServerControl { shared: Arc::clone(&self.state.shared), queue: self.state.queue.clone() }
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        api::router(self.state.clone())
    }

    /// Serves on `listener` until the process ends; warns when the address is reachable from
    /// other machines and no API key is set.
    pub async fn run(self, listener: tokio::net::TcpListener) -> Result<(), OpenAiError> {
        let addr: SocketAddr = listener.local_addr().map_err(io_error("<socket>"))?;
        if !addr.ip().is_loopback() && self.state.cfg.api_key.is_none() {
            tracing::warn!(%addr, "serving on a non-loopback address without an API key: anyone who can reach it can use the model (set --api-key or {})", vigil_core::auth::API_KEY_ENV);
        }
        tracing::info!(%addr, max_model_len = self.state.max_model_len, "serving");
        axum::serve(listener, self.router()).await.map_err(io_error("<socket>"))
    }
}
