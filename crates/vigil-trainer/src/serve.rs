//! `exp serve`: an OpenAI-compatible chat-completions server over the burn Qwen3.
//!
//! Endpoints: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions` (non-streaming, one
//! choice, per-token log-probs, `return_tokens_as_token_ids`), and vLLM's
//! `POST /v1/load_lora_adapter` / `POST /v1/unload_lora_adapter`, so the trainer's HTTP rollout
//! backend (and its LoRA hot-loading) can be tested end to end on 127.0.0.1, and users can
//! evaluate adapters with any OpenAI client.
//!
//! One worker thread owns the models; HTTP handlers queue jobs to it. Requests that share a
//! model and sampling settings are batched into one generation call (each keeps its own seed).
//! Bad requests get a 400 whose message names the field (unknown fields are rejected).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use burn::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use vigil_core::{ChatMessage, FinishReason};
use vigil_policy::lora::{Adapter, apply_adapter};
use vigil_policy::{ComputeDtype, Qwen3, SamplingConfig, load_qwen3};
use vigil_tokenizer::ChatTokenizer;

use crate::error::TrainerError;
use crate::protocol::{ChatRequest, ChatResponse, Choice, ChoiceLogprobs, ErrorBody, ErrorDetail, LoadLora, TokenLogprob, UnloadLora, Usage, WireMessage};
use crate::rollout::{BurnPolicy, GenerationSettings, prompt_tokens};

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
    /// Token budget when a request gives none.
    pub default_max_tokens: usize,
    /// `enable_thinking` when a request does not say.
    pub enable_thinking: bool,
}

/// An API error: HTTP status plus OpenAI-style body.
#[derive(Debug, Clone)]
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    param: Option<String>,
}

impl ApiError {
    fn bad(message: impl Into<String>, param: Option<&str>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, kind: "invalid_request_error", message: message.into(), param: param.map(String::from) }
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, kind: "not_found_error", message: message.into(), param: Some("model".into()) }
    }
    fn internal(message: impl Into<String>) -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, kind: "internal_error", message: message.into(), param: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { message: self.message, kind: self.kind.into(), param: self.param } };
        (self.status, axum::Json(body)).into_response()
    }
}

enum Job {
    Chat(ChatRequest, tokio::sync::oneshot::Sender<Result<ChatResponse, ApiError>>),
    Load(LoadLora, tokio::sync::oneshot::Sender<Result<String, ApiError>>),
    Unload(UnloadLora, tokio::sync::oneshot::Sender<Result<String, ApiError>>),
    Models(tokio::sync::oneshot::Sender<Vec<String>>),
}

/// Generation settings of one request (requests batch together only when these agree).
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    model: String,
    generation: GenerationSettings,
}

fn settings_of(req: &ChatRequest, cfg: &ServeConfig) -> Result<Settings, ApiError> {
    if req.messages.is_empty() {
        return Err(ApiError::bad("`messages` must not be empty", Some("messages")));
    }
    if req.stream == Some(true) {
        return Err(ApiError::bad("streaming is not supported", Some("stream")));
    }
    if req.n.is_some_and(|n| n != 1) {
        return Err(ApiError::bad("only n = 1 is supported", Some("n")));
    }
    if req.top_logprobs.is_some_and(|n| n > 0) {
        return Err(ApiError::bad("top_logprobs > 0 is not supported", Some("top_logprobs")));
    }
    let max = req.max_completion_tokens.or(req.max_tokens).unwrap_or(cfg.default_max_tokens);
    if max == 0 {
        return Err(ApiError::bad("the token budget must be ≥ 1", Some("max_tokens")));
    }
    let temperature = req.temperature.unwrap_or(1.0);
    if !(temperature.is_finite() && temperature >= 0.0) {
        return Err(ApiError::bad(format!("temperature must be ≥ 0, got {temperature}"), Some("temperature")));
    }
    let top_p = req.top_p.unwrap_or(1.0);
    let top_k = usize::try_from(req.top_k.unwrap_or(0).max(0)).unwrap_or(0);
    let sampling = if temperature == 0.0 { SamplingConfig::Greedy } else { SamplingConfig::Sample { temperature, top_k, top_p } };
    sampling.validate().map_err(|e| ApiError::bad(e.to_string(), Some("top_p")))?;
    let enable_thinking = req.chat_template_kwargs.as_ref().and_then(|k| k.enable_thinking).unwrap_or(cfg.enable_thinking);
    Ok(Settings { model: req.model.clone(), generation: GenerationSettings { max_new_tokens: max, sampling, enable_thinking, batch_size: cfg.max_batch } })
}

struct Worker<B: Backend> {
    cfg: ServeConfig,
    tokenizer: Arc<ChatTokenizer>,
    base: Qwen3<B>,
    adapters: HashMap<String, Qwen3<B>>,
    counter: u64,
}

impl<B: Backend> Worker<B> {
    fn model(&self, name: &str) -> Result<&Qwen3<B>, ApiError> {
        if name == self.cfg.served_name {
            return Ok(&self.base);
        }
        self.adapters.get(name).ok_or_else(|| ApiError::not_found(format!("the model `{name}` does not exist")))
    }

    fn load(&mut self, req: &LoadLora) -> Result<String, ApiError> {
        if req.lora_name == self.cfg.served_name || self.adapters.contains_key(&req.lora_name) {
            return Err(ApiError::bad(format!("the lora adapter `{}` has already been loaded", req.lora_name), Some("lora_name")));
        }
        let adapter = Adapter::load(Path::new(&req.lora_path)).map_err(|e| ApiError::bad(e.to_string(), Some("lora_path")))?;
        let m = apply_adapter(self.base.clone(), &adapter, self.cfg.dtype).map_err(|e| ApiError::bad(e.to_string(), Some("lora_path")))?;
        self.adapters.insert(req.lora_name.clone(), m.merge_adapters());
        Ok(format!("Success: LoRA adapter '{}' added successfully.", req.lora_name))
    }

    fn chat(&mut self, batch: Vec<(ChatRequest, Settings)>) -> Vec<Result<ChatResponse, ApiError>> {
        let settings = batch[0].1.clone();
        let model = match self.model(&settings.model) {
            Ok(m) => m.clone(),
            Err(e) => return batch.iter().map(|_| Err(e.clone())).collect(),
        };
        let prompts: Vec<Result<Vec<u32>, ApiError>> = batch
            .iter()
            .map(|(r, s)| {
                let msgs: Vec<ChatMessage> = r.messages.iter().map(ChatMessage::from).collect();
                prompt_tokens(&self.tokenizer, &msgs, s.generation.enable_thinking).map_err(|e| ApiError::bad(e.to_string(), Some("messages")))
            })
            .collect();
        let ok: Vec<usize> = (0..batch.len()).filter(|&i| prompts[i].is_ok()).collect();
        let ids: Vec<Vec<u32>> = ok.iter().map(|&i| prompts[i].clone().unwrap_or_default()).collect();
        let seeds: Vec<u64> = ok.iter().map(|&i| batch[i].0.seed.unwrap_or(self.counter + i as u64)).collect();
        self.counter += batch.len() as u64;
        let policy = BurnPolicy::new(model, self.tokenizer.clone(), settings.generation.clone(), true, settings.model.clone());
        let gens = if ids.is_empty() { Ok(Vec::new()) } else { policy.complete(&ids, &seeds, &settings.generation) };
        let mut gens = match gens {
            Ok(g) => g.into_iter(),
            Err(e) => return batch.iter().map(|_| Err(ApiError::internal(e.to_string()))).collect(),
        };
        let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        prompts
            .into_iter()
            .zip(&batch)
            .enumerate()
            .map(|(k, (p, (req, _)))| {
                let p = p?;
                let g = gens.next().ok_or_else(|| ApiError::internal("generation lost a request"))?;
                let stopped = g.finish == FinishReason::Stop;
                // Like vLLM, the stop token is part of the completion's tokens and log-probs
                // (not of the text).
                let n = g.tokens.len();
                let as_ids = req.return_tokens_as_token_ids == Some(true);
                let logprobs = (req.logprobs == Some(true)).then(|| ChoiceLogprobs {
                    content: Some(
                        (0..n)
                            .map(|t| {
                                let id = g.tokens[t];
                                let text = self.tokenizer.decode(&[id], false).unwrap_or_default();
                                TokenLogprob {
                                    token: if as_ids { format!("token_id:{id}") } else { text.clone() },
                                    logprob: g.model_logprobs[t],
                                    bytes: Some(text.into_bytes()),
                                    top_logprobs: Vec::new(),
                                }
                            })
                            .collect(),
                    ),
                });
                Ok(ChatResponse {
                    id: format!("chatcmpl-{}", self.counter * 1000 + k as u64),
                    object: "chat.completion".into(),
                    created,
                    model: req.model.clone(),
                    choices: vec![Choice {
                        index: 0,
                        message: WireMessage { role: vigil_core::Role::Assistant, content: g.text },
                        finish_reason: Some(if stopped { "stop" } else { "length" }.into()),
                        logprobs,
                    }],
                    usage: Usage { prompt_tokens: p.len(), completion_tokens: n, total_tokens: p.len() + n },
                })
            })
            .collect()
    }

    fn run(mut self, rx: mpsc::Receiver<Job>) {
        let mut pending: Option<Job> = None;
        loop {
            let job = match pending.take() {
                Some(j) => j,
                None => match rx.recv() {
                    Ok(j) => j,
                    Err(_) => return,
                },
            };
            match job {
                Job::Load(req, tx) => {
                    let _ = tx.send(self.load(&req));
                }
                Job::Unload(req, tx) => {
                    let r = match self.adapters.remove(&req.lora_name) {
                        Some(_) => Ok(format!("Success: LoRA adapter '{}' removed successfully.", req.lora_name)),
                        None => Err(ApiError::not_found(format!("the lora adapter `{}` is not loaded", req.lora_name))),
                    };
                    let _ = tx.send(r);
                }
                Job::Models(tx) => {
                    let mut names = vec![self.cfg.served_name.clone()];
                    names.extend(self.adapters.keys().cloned());
                    let _ = tx.send(names);
                }
                Job::Chat(req, tx) => {
                    let s = match settings_of(&req, &self.cfg) {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            continue;
                        }
                    };
                    // Batch queued requests with the same settings.
                    let mut batch = vec![(req, s.clone())];
                    let mut replies = vec![tx];
                    while batch.len() < self.cfg.max_batch {
                        match rx.try_recv() {
                            Ok(Job::Chat(r, t)) if settings_of(&r, &self.cfg).is_ok_and(|x| x == s) => {
                                batch.push((r, s.clone()));
                                replies.push(t);
                            }
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    for (tx, r) in replies.into_iter().zip(self.chat(batch)) {
                        let _ = tx.send(r);
                    }
                }
            }
        }
    }
}

type Queue = mpsc::Sender<Job>;

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::bad(format!("{}: {}", path, e.inner()), (path != ".").then_some(path.as_str()))
    })
}

async fn ask<T>(q: &Queue, make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Job) -> Result<T, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    q.send(make(tx)).map_err(|_| ApiError::internal("the model worker has stopped"))?;
    rx.await.map_err(|_| ApiError::internal("the model worker dropped the request"))
}

async fn chat(State(q): State<Queue>, body: Bytes) -> Response {
    let res = async {
        let req: ChatRequest = parse(&body)?;
        ask(&q, |tx| Job::Chat(req, tx)).await?
    };
    match res.await {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn load(State(q): State<Queue>, body: Bytes) -> Response {
    let res = async {
        let req: LoadLora = parse(&body)?;
        ask(&q, |tx| Job::Load(req, tx)).await?
    };
    match res.await {
        Ok(msg) => (StatusCode::OK, msg).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn unload(State(q): State<Queue>, body: Bytes) -> Response {
    let res = async {
        let req: UnloadLora = parse(&body)?;
        ask(&q, |tx| Job::Unload(req, tx)).await?
    };
    match res.await {
        Ok(msg) => (StatusCode::OK, msg).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn models(State(q): State<Queue>) -> Response {
    match ask(&q, Job::Models).await {
        Ok(names) => {
            let data: Vec<Value> = names.into_iter().map(|n| json!({"id": n, "object": "model", "owned_by": "vigil"})).collect();
            axum::Json(json!({"object": "list", "data": data})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A loaded server: bind with [`Server::bind`], then [`Server::run`].
pub struct Server {
    queue: Queue,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Server")
    }
}

impl Server {
    /// Loads the model (and adapter) on `device` and starts the worker thread.
    pub fn load<B: Backend>(cfg: ServeConfig, device: &B::Device) -> Result<Self, TrainerError>
    where
        Qwen3<B>: Send + 'static,
    {
        let tokenizer = Arc::new(ChatTokenizer::from_dir(&cfg.tokenizer_dir)?);
        let mut base = load_qwen3::<B>(&cfg.model_dir, cfg.dtype, device).map_err(TrainerError::model)?;
        if let Some(dir) = &cfg.adapter {
            let a = Adapter::load(dir).map_err(TrainerError::model)?;
            base = apply_adapter(base, &a, cfg.dtype).map_err(TrainerError::model)?.merge_adapters();
        }
        let (tx, rx) = mpsc::channel();
        let worker = Worker { cfg, tokenizer, base, adapters: HashMap::new(), counter: 0 };
        std::thread::Builder::new()
            .name("vigil-serve-model".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| TrainerError::io(Path::new("<thread>"), e))?;
        Ok(Self { queue: tx })
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/v1/models", get(models))
            .route("/v1/chat/completions", post(chat))
            .route("/v1/load_lora_adapter", post(load))
            .route("/v1/unload_lora_adapter", post(unload))
            .with_state(self.queue.clone())
    }

    /// Serves on `listener` until the process ends.
    pub async fn run(self, listener: tokio::net::TcpListener) -> Result<(), TrainerError> {
        let addr: SocketAddr = listener.local_addr().map_err(|e| TrainerError::io(Path::new("<socket>"), e))?;
        tracing::info!(%addr, "serving");
        axum::serve(listener, self.router()).await.map_err(|e| TrainerError::io(Path::new("<socket>"), e))
    }
}
