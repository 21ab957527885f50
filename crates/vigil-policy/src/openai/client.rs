//! Rollouts from an OpenAI-compatible chat-completions server (vLLM, SGLang, `exp serve`).
//!
//! Requests run on a bounded pool of blocking workers (`concurrency`), each with a timeout and
//! retries with exponential backoff on connection errors, timeouts, 429 and 5xx; other 4xx fail
//! at once with the server's message. Token ids come back via vLLM's
//! `return_tokens_as_token_ids` (or are re-tokenized from the text when `token_ids = false`);
//! the trainer recomputes every log-prob it needs in burn (the server's log-probs, which may be
//! missing or one short of the tokens, are only compared for diagnostics). After each update the trainer may
//! hot-load the new adapter (vLLM's `load_lora_adapter`) and send later requests to it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use vigil_core::{FinishReason, Generation, GenerationRequest, Policy, PolicyError};
use vigil_tokenizer::ChatTokenizer;

use super::protocol::{ChatRequest, ChatResponse, ChatTemplateKwargs, LoadLora, UnloadLora, WireMessage, token_id};
use super::{OpenAiError, config_error};
use crate::SamplingConfig;
use crate::chat::{GenerationSettings, end_of_turn, prompt_tokens};

fn default_concurrency() -> usize {
    8
}
fn default_timeout() -> f64 {
    300.0
}
fn default_retries() -> u32 {
    3
}
fn default_backoff() -> u64 {
    500
}
fn yes() -> bool {
    true
}

/// `[trainer.rollout] backend = "openai"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// API root including `/v1`, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Served model name (the base; adapters get their own names when hot-loaded).
    pub model: String,
    /// Environment variable holding a bearer token, if the server wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Requests in flight at most.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Per-request timeout, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    /// Retries after the first attempt.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First backoff, doubled on each retry.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// Push the adapter to the server after every update (`load_lora_adapter`); without it the
    /// server keeps sampling its own fixed model.
    #[serde(default)]
    pub lora_hot_load: bool,
    /// Ask for token ids (`return_tokens_as_token_ids`, vLLM and `exp serve`); off: re-tokenize
    /// the returned text.
    #[serde(default = "yes")]
    pub token_ids: bool,
}

impl OpenAiConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), OpenAiError> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(config_error("rollout.base_url", format!("must be an http(s) URL, got `{}`", self.base_url)));
        }
        if self.model.is_empty() {
            return Err(config_error("rollout.model", "must not be empty"));
        }
        if self.concurrency == 0 {
            return Err(config_error("rollout.concurrency", "must be ≥ 1"));
        }
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0) {
            return Err(config_error("rollout.timeout_s", "must be > 0"));
        }
        Ok(())
    }
}

fn default_max_new() -> usize {
    512
}
fn one_f() -> f32 {
    1.0
}

/// `[policy] kind = "openai"`: evaluate (or sample from) a model behind an OpenAI-compatible
/// server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiPolicyConfig {
    /// API root including `/v1`.
    pub base_url: String,
    /// Served model (or adapter) name.
    pub model: String,
    /// Environment variable holding a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Tokenizer folder or id of the served model: with it, generations carry token ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// Requests in flight at most.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Per-request timeout, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    /// Retries after the first attempt.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First backoff in ms, doubled on each retry.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// Token budget per assistant message.
    #[serde(default = "default_max_new")]
    pub max_new_tokens: usize,
    /// Sampling temperature (0: greedy).
    #[serde(default = "one_f")]
    pub temperature: f32,
    /// Nucleus mass.
    #[serde(default = "one_f")]
    pub top_p: f32,
    /// Top-k (0: off).
    #[serde(default)]
    pub top_k: usize,
    /// Qwen3 `enable_thinking` (sent as `chat_template_kwargs`).
    #[serde(default = "yes")]
    pub enable_thinking: bool,
}

impl OpenAiPolicyConfig {
    /// The client part.
    pub fn client(&self) -> OpenAiConfig {
        OpenAiConfig {
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key_env: self.api_key_env.clone(),
            concurrency: self.concurrency,
            timeout_s: self.timeout_s,
            max_retries: self.max_retries,
            backoff_ms: self.backoff_ms,
            lora_hot_load: false,
            token_ids: self.tokenizer.is_some(),
        }
    }

    /// The sampling part.
    pub fn generation(&self) -> GenerationSettings {
        let sampling = if self.temperature == 0.0 {
            SamplingConfig::Greedy
        } else {
            SamplingConfig::Sample { temperature: self.temperature, top_k: self.top_k, top_p: self.top_p }
        };
        GenerationSettings { max_new_tokens: self.max_new_tokens, sampling, enable_thinking: self.enable_thinking, batch_size: self.concurrency }
    }

    /// Range checks.
    pub fn validate(&self) -> Result<(), OpenAiError> {
        self.client().validate()?;
        if self.max_new_tokens == 0 {
            return Err(config_error("policy.max_new_tokens", "must be ≥ 1"));
        }
        self.generation().sampling.validate().map_err(|e| config_error("policy.temperature", e.to_string()))
    }

    /// Connects (no request is sent until the first generation).
    pub fn build(&self) -> Result<OpenAiPolicy, OpenAiError> {
        let tokenizer = match &self.tokenizer {
            Some(t) => Some(Arc::new(ChatTokenizer::load(t)?)),
            None => None,
        };
        Ok(OpenAiPolicy::new(self.client(), tokenizer, self.generation())?)
    }
}

/// A failed HTTP exchange.
#[derive(Debug, Error)]
#[error("{url}: {message}")]
pub struct HttpError {
    /// The endpoint.
    pub url: String,
    /// What went wrong (status and server message, or the transport error).
    pub message: String,
}

/// An OpenAI-compatible server as a [`Policy`].
pub struct OpenAiPolicy {
    cfg: OpenAiConfig,
    client: reqwest::blocking::Client,
    tokenizer: Option<Arc<ChatTokenizer>>,
    settings: GenerationSettings,
    served: String,
    loaded: Option<String>,
}

impl std::fmt::Debug for OpenAiPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiPolicy").field("base_url", &self.cfg.base_url).field("served", &self.served).finish()
    }
}

fn backend(url: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Backend { policy: "openai", source: Box::new(HttpError { url: url.to_string(), message: message.into() }) }
}

impl OpenAiPolicy {
    /// A client for `cfg`. With `tokenizer` (the served model's), generations carry prompt and
    /// completion token ids for training; without it they are text only (evaluation).
    pub fn new(cfg: OpenAiConfig, tokenizer: Option<Arc<ChatTokenizer>>, settings: GenerationSettings) -> Result<Self, PolicyError> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(var) = &cfg.api_key_env {
            let key = std::env::var(var).map_err(|_| backend(&cfg.base_url, format!("environment variable {var} is not set")))?;
            let v = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| backend(&cfg.base_url, format!("{var} is not a valid header value")))?;
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs_f64(cfg.timeout_s))
            .default_headers(headers)
            .build()
            .map_err(|e| backend(&cfg.base_url, e.to_string()))?;
        let served = cfg.model.clone();
        Ok(Self { cfg, client, tokenizer, settings, served, loaded: None })
    }

    /// The model name requests currently go to (the base, or the last hot-loaded adapter).
    pub fn served(&self) -> &str {
        &self.served
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.cfg.base_url.trim_end_matches('/'))
    }

    /// POSTs `body` with retries; returns the response text of a 2xx.
    fn post<T: Serialize>(&self, path: &str, body: &T) -> Result<String, PolicyError> {
        let url = self.url(path);
        let mut attempt = 0;
        loop {
            let res = self.client.post(&url).json(body).send();
            let retry_reason = match res {
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().unwrap_or_default();
                    if status.is_success() {
                        return Ok(text);
                    }
                    if status.as_u16() != 429 && !status.is_server_error() {
                        return Err(backend(&url, format!("HTTP {status}: {}", text.trim())));
                    }
                    format!("HTTP {status}: {}", text.trim())
                }
                Err(e) => e.to_string(),
            };
            if attempt >= self.cfg.max_retries {
                return Err(backend(&url, format!("gave up after {} attempts: {retry_reason}", attempt + 1)));
            }
            let wait = self.cfg.backoff_ms.saturating_mul(1 << attempt.min(16));
            tracing::warn!(%url, attempt, wait_ms = wait, reason = %retry_reason, "retrying");
            std::thread::sleep(Duration::from_millis(wait));
            attempt += 1;
        }
    }

    /// Loads the PEFT adapter in `dir` on the server as `name`, unloads the previous one, and
    /// sends later requests to it.
    pub fn load_adapter(&mut self, name: &str, dir: &Path) -> Result<(), PolicyError> {
        let path = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        self.post("load_lora_adapter", &LoadLora { lora_name: name.into(), lora_path: path.display().to_string() })?;
        if let Some(prev) = self.loaded.replace(name.to_string()) {
            if let Err(e) = self.post("unload_lora_adapter", &UnloadLora { lora_name: prev.clone(), lora_int_id: None }) {
                tracing::warn!(adapter = %prev, error = %e, "could not unload the previous adapter");
            }
        }
        self.served = name.to_string();
        Ok(())
    }

    fn request(&self, messages: &[vigil_core::ChatMessage], seed: u64) -> ChatRequest {
        let (temperature, top_p, top_k) = match self.settings.sampling {
            SamplingConfig::Greedy => (0.0, 1.0, None),
            SamplingConfig::Sample { temperature, top_k, top_p } => (temperature, top_p, (top_k > 0).then_some(top_k as i64)),
        };
        ChatRequest {
            model: self.served.clone(),
            messages: messages.iter().map(WireMessage::from).collect(),
            max_tokens: Some(self.settings.max_new_tokens),
            temperature: Some(temperature),
            top_p: Some(top_p),
            top_k,
            seed: Some(seed),
            logprobs: Some(true),
            return_tokens_as_token_ids: self.cfg.token_ids.then_some(true),
            chat_template_kwargs: Some(ChatTemplateKwargs { enable_thinking: Some(self.settings.enable_thinking) }),
            ..ChatRequest::default()
        }
    }

    fn one(&self, req: &GenerationRequest) -> Result<Generation, PolicyError> {
        let text = self.post("chat/completions", &self.request(&req.messages, req.seed))?;
        let url = self.url("chat/completions");
        let resp: ChatResponse = serde_json::from_str(&text).map_err(|e| backend(&url, format!("unreadable response: {e}")))?;
        let choice = resp.choices.into_iter().next().ok_or_else(|| backend(&url, "response has no choices"))?;
        let finish = match choice.finish_reason.as_deref() {
            Some("length") => FinishReason::Length,
            _ => FinishReason::Stop,
        };
        let Some(tokenizer) = &self.tokenizer else {
            return Ok(Generation { finish, ..Generation::text(choice.message.content) });
        };
        let prompt_tokens = prompt_tokens(tokenizer, &req.messages, self.settings.enable_thinking)?;
        let lps = choice.logprobs.and_then(|l| l.content).unwrap_or_default();
        let ids: Option<Vec<u32>> = if self.cfg.token_ids { lps.iter().map(|t| token_id(&t.token)).collect() } else { None };
        let (mut tokens, logprobs) = match ids {
            Some(ids) if !lps.is_empty() || choice.message.content.is_empty() => (ids, lps.iter().map(|t| t.logprob).collect::<Vec<_>>()),
            _ => (tokenizer.encode(&choice.message.content, false).map_err(|e| backend(&url, e.to_string()))?, Vec::new()),
        };
        let end = end_of_turn(tokenizer).ok_or_else(|| backend(&url, "the tokenizer has no end-of-turn token"))?;
        if finish == FinishReason::Stop && !tokens.last().is_some_and(|&t| t == end || tokenizer.is_stop(t)) {
            // The server left the stop token out: it is part of what the model must learn to
            // emit, so it is trained on; its log-prob is unknown (the list stays one shorter).
            tokens.push(end);
        }
        if tokens.is_empty() {
            return Err(backend(&url, "the server returned an empty completion that did not stop"));
        }
        Ok(Generation {
            text: choice.message.content,
            prompt_tokens,
            tokens,
            sample_logprobs: logprobs.clone(),
            model_logprobs: logprobs,
            finish,
        })
    }
}

impl Policy for OpenAiPolicy {
    fn name(&self) -> String {
        format!("openai:{}", self.served)
    }

    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        let next = AtomicUsize::new(0);
        let workers = self.cfg.concurrency.min(requests.len()).max(1);
        let this = &*self;
        let mut results: Vec<Option<Result<Generation, PolicyError>>> = (0..requests.len()).map(|_| None).collect();
        let chunks: Vec<Vec<(usize, Result<Generation, PolicyError>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= requests.len() {
                                break;
                            }
                            done.push((i, this.one(&requests[i])));
                        }
                        done
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
        });
        for (i, r) in chunks.into_iter().flatten() {
            results[i] = Some(r);
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|| Err(backend(&self.cfg.base_url, format!("request {i} was lost (worker panicked)")))))
            .collect()
    }
}
