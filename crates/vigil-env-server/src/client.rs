//! A small async client for the API, and a bounded load test built on it that checks every
//! session's transcript and outcome are its own (no cross-session leakage).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Barrier, Mutex, Semaphore};
use vigil_core::{ChatMessage, Environment, Split, Step};

use crate::api::{Action, Closed, Grade, Health, ResetRequest, ResetResponse, SessionRef, State, StepRequest, StepResponse};
use crate::ServerError;

/// Talks to one server (`base` like `http://127.0.0.1:7860`), recording each request's latency.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    latencies: Arc<Mutex<Vec<Duration>>>,
    api_key: Option<String>,
    in_flight: Option<Arc<Semaphore>>,
}

impl Client {
    /// A client for the server at `base`; system proxies are ignored (the server is local).
    pub fn new(base: impl Into<String>) -> Result<Self, ServerError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|source| ServerError::Http { context: "building the HTTP client".into(), source })?;
        Ok(Self { http, base: base.into().trim_end_matches('/').to_string(), latencies: Arc::default(), api_key: None, in_flight: None })
    }

    /// Sends at most `n` requests at once (each needs a socket on both ends: this keeps a load
    /// test of many live sessions under the usual limit of 1,024 open files).
    #[must_use]
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.in_flight = Some(Arc::new(Semaphore::new(n.max(1))));
        self
    }

    /// Sends `Authorization: Bearer <key>` with every request.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    async fn send<T: DeserializeOwned>(&self, what: &str, req: reqwest::RequestBuilder) -> Result<T, ServerError> {
        let req = match &self.api_key {
            Some(k) => req.bearer_auth(k),
            None => req,
        };
        let _permit = match &self.in_flight {
            Some(s) => s.acquire().await.ok(),
            None => None,
        };
        let start = Instant::now();
        let res = req.send().await.map_err(|source| ServerError::Http { context: what.into(), source })?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|source| ServerError::Http { context: what.into(), source })?;
        self.latencies.lock().await.push(start.elapsed());
        if !status.is_success() {
            let error = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ServerError::Status { context: what.into(), status: status.as_u16(), error });
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ServerError::Status { context: what.into(), status: status.as_u16(), error: format!("bad response: {e}") })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ServerError> {
        let body = serde_json::to_vec(body).map_err(|e| ServerError::BadRequest(e.to_string()))?;
        self.send(path, self.http.post(self.url(path)).header("content-type", "application/json").body(body)).await
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<Health, ServerError> {
        self.send("/health", self.http.get(self.url("/health"))).await
    }

    /// `POST /reset`.
    pub async fn reset(&self, req: &ResetRequest) -> Result<ResetResponse, ServerError> {
        self.post("/reset", req).await
    }

    /// `POST /step` with a text action.
    pub async fn step(&self, session_id: &str, action: &str) -> Result<StepResponse, ServerError> {
        self.post("/step", &StepRequest { session_id: session_id.into(), action: Action::Text(action.into()) }).await
    }

    /// `GET /state`.
    pub async fn state(&self, session_id: &str) -> Result<State, ServerError> {
        self.send("/state", self.http.get(self.url("/state")).query(&[("session_id", session_id)])).await
    }

    /// `POST /grade`.
    pub async fn grade(&self, session_id: &str) -> Result<Grade, ServerError> {
        self.post("/grade", &SessionRef { session_id: session_id.into() }).await
    }

    /// `DELETE /session`.
    pub async fn close(&self, session_id: &str) -> Result<Closed, ServerError> {
        self.send("/session", self.http.delete(self.url("/session")).query(&[("session_id", session_id)])).await
    }

    /// Takes the latencies recorded so far.
    pub async fn take_latencies(&self) -> Vec<Duration> {
        std::mem::take(&mut *self.latencies.lock().await)
    }
}

/// A bounded load test: `sessions` concurrent episodes (all reset before any steps), each
/// stepping at most `max_steps` times, then `/state`, `/grade` (when it ended) and close.
///
/// Every session checks that the server's transcript and outcome are exactly what it sent and
/// received; with `replay` (a local copy of the served environment) it also replays its episode
/// locally and checks the prompt, every observation and the outcome against the server's.
#[derive(Clone)]
pub struct LoadTest {
    /// Concurrent sessions.
    pub sessions: usize,
    /// Most steps per session.
    pub max_steps: u32,
    /// Action template; `{session}` and `{step}` are replaced so every action is unique.
    pub action: String,
    /// Split to draw tasks from (session `i` uses seed `seed + i`).
    pub split: Split,
    /// First seed.
    pub seed: u64,
    /// Episode mode, if any.
    pub mode: Option<String>,
    /// A local copy of the served environment to replay every session against.
    pub replay: Option<Arc<dyn Environment>>,
}

impl fmt::Debug for LoadTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadTest")
            .field("sessions", &self.sessions)
            .field("max_steps", &self.max_steps)
            .field("action", &self.action)
            .field("split", &self.split)
            .field("seed", &self.seed)
            .field("mode", &self.mode)
            .field("replay", &self.replay.as_ref().map(|e| e.name()))
            .finish()
    }
}

impl Default for LoadTest {
    fn default() -> Self {
        Self {
            sessions: 200,
            max_steps: 4,
            action: "s{session} step {step}".into(),
            split: Split::Train,
            seed: 0,
            mode: None,
            replay: None,
        }
    }
}

/// What a load test measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Sessions run.
    pub sessions: usize,
    /// Sessions whose episode ended (and was graded).
    pub finished: usize,
    /// HTTP requests sent.
    pub requests: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Sorted request latencies.
    pub latencies: Vec<Duration>,
}

impl LoadReport {
    /// Requests per second.
    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency (`q` in 0..=1), nearest rank.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1]
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "sessions {} (finished {}), requests {}, {:.3} s, {:.0} req/s, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.sessions,
            self.finished,
            self.requests,
            self.elapsed.as_secs_f64(),
            self.requests_per_sec(),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.quantile(1.0)),
        )
    }
}

fn leak(session: usize, what: String) -> ServerError {
    ServerError::LoadCheck { session, what }
}

/// One session: reset, wait for every other session to be live, step, then check what the
/// server kept against what this session sent and received.
async fn one(client: Client, cfg: Arc<LoadTest>, i: usize, barrier: Arc<Barrier>) -> Result<bool, ServerError> {
    let req = ResetRequest {
        split: Some(cfg.split),
        seed: Some(cfg.seed + i as u64),
        mode: cfg.mode.clone(),
        ..ResetRequest::default()
    };
    let reset = client.reset(&req).await;
    barrier.wait().await;
    let reset = reset?;
    let id = reset.session_id.clone();
    let mut local = match &cfg.replay {
        Some(env) => {
            let ep = env.start_with(&reset.task, reset.seed, &reset.options).map_err(ServerError::Env)?;
            if ep.prompt() != reset.observation.messages {
                return Err(leak(i, format!("the prompt differs from a local replay of {}", reset.task)));
            }
            Some(ep)
        }
        None => None,
    };
    let mut expected: Vec<ChatMessage> = reset.observation.messages.clone();
    let mut last = None;
    for k in 0..cfg.max_steps {
        let action = cfg.action.replace("{session}", &i.to_string()).replace("{step}", &k.to_string());
        let r = client.step(&id, &action).await?;
        if r.session_id != id || r.step != k + 1 {
            return Err(leak(i, format!("step {k} answered for session {} at step {}", r.session_id, r.step)));
        }
        if let Some(ep) = local.as_mut() {
            let (same, want) = match ep.step(&action).map_err(ServerError::Env)? {
                Step::Continue { observation } => {
                    (r.observation.as_ref() == Some(&observation) && !r.done, serde_json::to_string(&observation))
                }
                Step::Done(outcome) => (r.outcome.as_ref() == Some(&*outcome) && r.done, serde_json::to_string(&outcome)),
            };
            if !same {
                let got = serde_json::to_string(&r).unwrap_or_default();
                let want = want.unwrap_or_default();
                return Err(leak(i, format!("step {k} differs from a local replay of {}: got {got}, want {want}", reset.task)));
            }
        }
        expected.push(ChatMessage::assistant(action));
        if let Some(o) = &r.observation {
            expected.push(o.clone());
        }
        let done = r.done;
        last = Some(r);
        if done {
            break;
        }
        tokio::task::yield_now().await;
    }
    let state = client.state(&id).await?;
    if state.transcript != expected {
        return Err(leak(i, "the transcript from /state differs from what this session sent and received".into()));
    }
    if state.task != reset.task || state.seed != reset.seed || state.session_id != id {
        return Err(leak(i, format!("/state reports task {} seed {}", state.task, state.seed)));
    }
    let done = last.as_ref().is_some_and(|r| r.done);
    if state.done != done {
        return Err(leak(i, format!("/state says done={} but the last step said done={done}", state.done)));
    }
    if done {
        let grade = client.grade(&id).await?;
        if Some(&grade.outcome) != last.as_ref().and_then(|r| r.outcome.as_ref()) {
            return Err(leak(i, "/grade returned another outcome than the final step".into()));
        }
    }
    client.close(&id).await?;
    Ok(done)
}

/// Runs the load test against `client`'s server.
pub async fn run_load_test(client: &Client, cfg: &LoadTest) -> Result<LoadReport, ServerError> {
    client.take_latencies().await;
    let cfg = Arc::new(cfg.clone());
    let barrier = Arc::new(Barrier::new(cfg.sessions.max(1)));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..cfg.sessions {
        set.spawn(one(client.clone(), Arc::clone(&cfg), i, Arc::clone(&barrier)));
    }
    let mut finished = 0;
    let mut first_error = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(done)) => finished += usize::from(done),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert(ServerError::Panicked("running a load-test session"));
            }
        }
    }
    let elapsed = start.elapsed();
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut latencies = client.take_latencies().await;
    latencies.sort();
    Ok(LoadReport { sessions: cfg.sessions, finished, requests: latencies.len(), elapsed, latencies })
}

/// [`run_load_test`] against the server at `base`, on a runtime of its own (for synchronous
/// callers such as CLI tests).
pub fn run_load_test_blocking(base: &str, cfg: &LoadTest) -> Result<LoadReport, ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| ServerError::Io { context: "starting the async runtime".into(), source })?;
    rt.block_on(async {
        let client = Client::new(base)?;
        run_load_test(&client, cfg).await
    })
}
