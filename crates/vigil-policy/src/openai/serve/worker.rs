//! The model worker of `exp serve`: one thread owns the base model and the loaded adapters.
//!
//! Scheduling: queued chat requests with the same model and sampling settings form a batch (at
//! most `max_batch`); up to `max_running_batches` batches are decoded at once, one token each in
//! turn, so a request with a huge budget does not hold back the others. Before every token the
//! worker drops the sequences whose client went away (or timed out). Each step runs under
//! `catch_unwind`: a panic fails that batch's requests with a 500, and the worker goes on.

use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};

use burn::prelude::*;
use vigil_core::FinishReason;
use vigil_tokenizer::ChatTokenizer;

use super::api::ApiError;
use super::{ServeConfig, Shared};
use crate::chat::GenerationSettings;
use crate::lora::{Adapter, apply_adapter};
use crate::openai::{OpenAiError, io_error};
use crate::{Decoder, GenerateOptions, GenerateOutput, Qwen3, Sampler, SamplingConfig};
use crate::openai::protocol::{
    ChatRequest, ChatResponse, Choice, ChoiceLogprobs, LoadLora, TokenLogprob, UnloadLora, Usage, WireMessage,
};

pub(crate) type Reply<T> = tokio::sync::oneshot::Sender<T>;

/// A chat request checked and tokenized by the HTTP side.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub req: ChatRequest,
    pub settings: Settings,
    pub prompt: Vec<u32>,
}

pub(crate) enum Job {
    Chat(Box<Prepared>, Reply<Result<ChatResponse, ApiError>>),
    Load(LoadLora, Reply<Result<String, ApiError>>),
    Unload(UnloadLora, Reply<Result<String, ApiError>>),
    Models(Reply<Vec<String>>),
    /// Test hook: exit as a crash would.
    Stop,
}

pub(crate) type Queue = mpsc::Sender<Job>;

/// Generation settings of one request (requests batch together only when these agree).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    model: String,
    pub generation: GenerationSettings,
}

pub(crate) fn settings_of(req: &ChatRequest, cfg: &ServeConfig) -> Result<Settings, ApiError> {
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
    let sampling =
        if temperature == 0.0 { SamplingConfig::Greedy } else { SamplingConfig::Sample { temperature, top_k, top_p } };
    sampling.validate().map_err(|e| ApiError::bad(e.to_string(), Some("top_p")))?;
    let enable_thinking =
        req.chat_template_kwargs.as_ref().and_then(|k| k.enable_thinking).unwrap_or(cfg.enable_thinking);
    Ok(Settings {
        model: req.model.clone(),
        generation: GenerationSettings { max_new_tokens: max, sampling, enable_thinking, batch_size: cfg.max_batch },
    })
}

/// A request waiting for, or inside, a batch.
struct Item {
    prep: Prepared,
    seed: u64,
    tx: Reply<Result<ChatResponse, ApiError>>,
}

/// A batch being decoded.
struct Running<B: Backend> {
    decoder: Decoder<B>,
    samplers: Vec<Sampler>,
    items: Vec<Item>,
}

struct Worker<B: Backend> {
    cfg: Arc<ServeConfig>,
    tokenizer: Arc<ChatTokenizer>,
    base: Qwen3<B>,
    adapters: HashMap<String, Qwen3<B>>,
    shared: Arc<Shared>,
    counter: u64,
    waiting: VecDeque<Item>,
    running: Vec<Running<B>>,
}

/// Marks the worker dead when its thread ends, however it ends.
struct AliveGuard(Arc<Shared>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::SeqCst);
        self.0.held.store(0, Ordering::SeqCst);
    }
}

pub(crate) fn spawn<B: Backend>(
    cfg: Arc<ServeConfig>,
    tokenizer: Arc<ChatTokenizer>,
    base: Qwen3<B>,
    shared: Arc<Shared>,
) -> Result<Queue, OpenAiError>
where
    Qwen3<B>: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    shared.alive.store(true, Ordering::SeqCst);
    let worker = Worker {
        cfg,
        tokenizer,
        base,
        adapters: HashMap::new(),
        shared,
        counter: 0,
        waiting: VecDeque::new(),
        running: Vec::new(),
    };
    std::thread::Builder::new()
        .name("vigil-serve-model".into())
        .spawn(move || worker.run(&rx))
        .map_err(io_error("<thread>"))?;
    Ok(tx)
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The adapter folder a request names, if it lies under `root`. Every refusal reads the same,
/// so the answer does not tell which server paths exist.
fn adapter_dir(root: Option<&Path>, given: &str) -> Result<PathBuf, ApiError> {
    let Some(root) = root else {
        return Err(ApiError::forbidden(
            "loading adapters at run time is off; start the server with --adapter-root DIR",
        ));
    };
    let path = root.join(given); // an absolute `given` replaces `root`
    match path.canonicalize() {
        Ok(p) if p.starts_with(root) && p.is_dir() => Ok(p),
        _ => Err(ApiError::bad(
            format!("lora_path `{given}` is not an adapter folder under the server's adapter root"),
            Some("lora_path"),
        )),
    }
}

impl<B: Backend> Worker<B> {
    fn model(&self, name: &str) -> Result<&Qwen3<B>, ApiError> {
        if name == self.cfg.served_name {
            return Ok(&self.base);
        }
        self.adapters
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("the model `{name}` does not exist"), Some("model")))
    }

    fn load(&mut self, req: &LoadLora) -> Result<String, ApiError> {
        if req.lora_name == self.cfg.served_name || self.adapters.contains_key(&req.lora_name) {
            return Err(ApiError::bad(
                format!("the lora adapter `{}` has already been loaded", req.lora_name),
                Some("lora_name"),
            ));
        }
        let dir = adapter_dir(self.cfg.adapter_root.as_deref(), &req.lora_path)?;
        let adapter = Adapter::load(&dir).map_err(|e| ApiError::bad(e.to_string(), Some("lora_path")))?;
        let m = apply_adapter(self.base.clone(), &adapter, self.cfg.dtype)
            .map_err(|e| ApiError::bad(e.to_string(), Some("lora_path")))?;
        self.adapters.insert(req.lora_name.clone(), m.merge_adapters());
        Ok(format!("Success: LoRA adapter '{}' added successfully.", req.lora_name))
    }

    /// Handles one job; false when the worker must stop.
    fn accept(&mut self, job: Job) -> bool {
        match job {
            Job::Stop => return false,
            Job::Load(req, tx) => {
                let r = catch_unwind(AssertUnwindSafe(|| self.load(&req))).unwrap_or_else(|p| {
                    Err(ApiError::internal(format!("loading the adapter panicked: {}", panic_message(p.as_ref()))))
                });
                let _ = tx.send(r);
            }
            Job::Unload(req, tx) => {
                let r = match self.adapters.remove(&req.lora_name) {
                    Some(_) => Ok(format!("Success: LoRA adapter '{}' removed successfully.", req.lora_name)),
                    None => Err(ApiError::not_found(
                        format!("the lora adapter `{}` is not loaded", req.lora_name),
                        Some("lora_name"),
                    )),
                };
                let _ = tx.send(r);
            }
            Job::Models(tx) => {
                let mut names = vec![self.cfg.served_name.clone()];
                names.extend(self.adapters.keys().cloned());
                let _ = tx.send(names);
            }
            Job::Chat(prep, tx) => {
                if let Err(e) = self.model(&prep.settings.model) {
                    let _ = tx.send(Err(e));
                } else {
                    let seed = prep.req.seed.unwrap_or(self.counter);
                    self.counter += 1;
                    self.waiting.push_back(Item { prep: *prep, seed, tx });
                }
            }
        }
        true
    }

    /// Starts batches from the queue while there is room.
    fn start_batches(&mut self) {
        self.waiting.retain(|i| !i.tx.is_closed());
        while self.running.len() < self.cfg.limits.max_running_batches {
            let Some(first) = self.waiting.pop_front() else {
                return;
            };
            let s = first.prep.settings.clone();
            let mut items = vec![first];
            let mut rest = VecDeque::new();
            while let Some(i) = self.waiting.pop_front() {
                if items.len() < self.cfg.max_batch && i.prep.settings == s {
                    items.push(i);
                } else {
                    rest.push_back(i);
                }
            }
            self.waiting = rest;
            let Ok(model) = self.model(&s.model).cloned() else {
                // Unloaded since it was queued.
                fail(items, &ApiError::not_found(format!("the model `{}` does not exist", s.model), Some("model")));
                continue;
            };
            let opts = GenerateOptions {
                max_new_tokens: s.generation.max_new_tokens,
                stop_tokens: self
                    .tokenizer
                    .stop_token_ids()
                    .iter()
                    .chain(&model.config.eos_token_ids)
                    .copied()
                    .collect::<HashSet<u32>>(),
                use_cache: true,
                adapters: true,
            };
            let prompts: Vec<Vec<u32>> = items.iter().map(|i| i.prep.prompt.clone()).collect();
            let made = catch_unwind(AssertUnwindSafe(|| {
                let samplers =
                    items.iter().map(|i| Sampler::new(s.generation.sampling, i.seed)).collect::<Result<Vec<_>, _>>()?;
                Ok::<_, crate::ModelError>((Decoder::new(model, &prompts, opts)?, samplers))
            }));
            match made {
                Ok(Ok((decoder, samplers))) => self.running.push(Running { decoder, samplers, items }),
                Ok(Err(e)) => fail(items, &ApiError::internal(e.to_string())),
                Err(p) => {
                    fail(items, &ApiError::internal(format!("the request panicked: {}", panic_message(p.as_ref()))))
                }
            }
        }
    }

    /// One token for every running batch; finished batches are answered.
    fn step_all(&mut self) {
        let mut still = Vec::with_capacity(self.running.len());
        for mut r in std::mem::take(&mut self.running) {
            for (k, item) in r.items.iter().enumerate() {
                if item.tx.is_closed() {
                    r.decoder.abandon(k);
                }
            }
            let panic_now = self.shared.panic_next.swap(false, Ordering::SeqCst);
            let stepped = catch_unwind(AssertUnwindSafe(|| {
                assert!(!panic_now, "injected test panic");
                r.decoder.step(&mut r.samplers)
            }));
            match stepped {
                Ok(Ok(())) if r.decoder.is_finished() => self.answer(r),
                Ok(Ok(())) => still.push(r),
                Ok(Err(e)) => fail(r.items, &ApiError::internal(e.to_string())),
                Err(p) => {
                    fail(r.items, &ApiError::internal(format!("the request panicked: {}", panic_message(p.as_ref()))))
                }
            }
        }
        self.running = still;
    }

    fn answer(&mut self, r: Running<B>) {
        let outs = r.decoder.finish();
        for (item, out) in r.items.into_iter().zip(outs) {
            if item.tx.is_closed() {
                continue;
            }
            let k = self.counter;
            self.counter += 1;
            let res = catch_unwind(AssertUnwindSafe(|| self.response(&item, out, k))).unwrap_or_else(|p| {
                Err(ApiError::internal(format!("the request panicked: {}", panic_message(p.as_ref()))))
            });
            let _ = item.tx.send(res);
        }
    }

    fn response(&self, item: &Item, g: GenerateOutput, k: u64) -> Result<ChatResponse, ApiError> {
        let req = &item.prep.req;
        let stopped = g.finish == FinishReason::Stop;
        // Like vLLM, the stop token is part of the completion's tokens and log-probs (not of
        // the text).
        let body = if stopped { &g.tokens[..g.tokens.len() - 1] } else { &g.tokens[..] };
        let text = self.tokenizer.decode(body, false).map_err(|e| ApiError::internal(e.to_string()))?;
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
        let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let p = item.prep.prompt.len();
        Ok(ChatResponse {
            id: format!("chatcmpl-{k}"),
            object: "chat.completion".into(),
            created,
            model: req.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: WireMessage { role: vigil_core::Role::Assistant, content: text },
                finish_reason: Some(if stopped { "stop" } else { "length" }.into()),
                logprobs,
            }],
            usage: Usage { prompt_tokens: p, completion_tokens: n, total_tokens: p + n },
        })
    }

    fn publish_held(&self) {
        let held = self.waiting.len() + self.running.iter().map(|r| r.items.len()).sum::<usize>();
        self.shared.held.store(held, Ordering::SeqCst);
    }

    fn run(mut self, rx: &mpsc::Receiver<Job>) {
        let _alive = AliveGuard(Arc::clone(&self.shared));
        loop {
            // Block only when there is nothing to decode.
            if self.running.is_empty() && self.waiting.is_empty() {
                let Ok(job) = rx.recv() else { return };
                if !self.accept(job) {
                    return;
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(job) => {
                        if !self.accept(job) {
                            return;
                        }
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
            if self.shared.paused.load(Ordering::SeqCst) {
                self.publish_held();
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            }
            self.start_batches();
            self.step_all();
            self.publish_held();
            let left = &self.shared.rounds_left;
            if left.load(Ordering::SeqCst) > 0 && left.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.shared.paused.store(true, Ordering::SeqCst);
            }
        }
    }
}

fn fail(items: Vec<Item>, e: &ApiError) {
    for i in items {
        let _ = i.tx.send(Err(e.clone()));
    }
}
