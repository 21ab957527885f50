//! `exp serve` against hostile and unlucky clients, on 127.0.0.1 with the tiny model: every bad
//! request gets its status and OpenAI's error shape, and a normal request succeeds right after;
//! a full queue is a 429, a slow request a 504, a vanished client stops costing work, a
//! panicking request fails alone, short requests are answered while the longest allowed one
//! runs, and `/health` turns 503 once the worker is gone.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vigil_policy::CpuBackend;
use vigil_policy::openai::serve::{ServeConfig, ServeLimits, Server, ServerControl};

const CONTEXT: usize = 256;

struct Api {
    root: String,
    control: ServerControl,
    http: reqwest::blocking::Client,
}

fn start(dir: &Path, adapter_root: Option<&Path>, api_key: Option<&str>, limits: ServeLimits) -> Api {
    let cfg = ServeConfig {
        api_key: api_key.map(String::from),
        adapter_root: adapter_root.map(Path::to_path_buf),
        limits,
        ..common::serve_config(dir)
    };
    let server = Server::load::<CpuBackend>(cfg, &Default::default()).unwrap();
    assert_eq!(server.max_model_len(), CONTEXT);
    let control = server.control();
    let http = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    Api { root: format!("http://{}", common::serve(server)), control, http }
}

fn limits() -> ServeLimits {
    ServeLimits { max_model_len: Some(CONTEXT), max_body_bytes: 64 << 10, ..ServeLimits::default() }
}

fn chat(max_tokens: u64) -> Value {
    json!({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens, "temperature": 0.0})
}

impl Api {
    fn send(&self, req: reqwest::blocking::RequestBuilder) -> (u16, Value) {
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
    fn post(&self, path: &str, body: impl Into<reqwest::blocking::Body>) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.root)).header("content-type", "application/json").body(body))
    }
    fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.root)))
    }
    fn normal_works(&self) {
        let (s, v) = self.post("/v1/chat/completions", chat(4).to_string());
        assert_eq!(s, 200, "a normal request right after: {v}");
        assert!(v["usage"]["completion_tokens"].as_u64().unwrap() <= 4);
    }
    fn wait(&self, what: &str, ok: impl Fn(&ServerControl) -> bool) {
        let t = Instant::now();
        while !ok(&self.control) {
            assert!(t.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// OpenAI's error shape; returns the message.
fn openai_error(resp: &(u16, Value), status: u16, param: Option<&str>) -> String {
    assert_eq!(resp.0, status, "{}", resp.1);
    let e = &resp.1["error"];
    assert!(e["message"].is_string() && e["type"].is_string(), "not OpenAI's error shape: {}", resp.1);
    if let Some(p) = param {
        assert_eq!(e["param"].as_str(), Some(p), "{}", resp.1);
    }
    e["message"].as_str().unwrap().to_string()
}

#[test]
fn every_bad_request_is_refused_and_the_next_one_is_served() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    common::tiny_model(&model, &common::env());
    let adapters = d.path().join("adapters");
    std::fs::create_dir(&adapters).unwrap();
    let api = start(&model, Some(&adapters), None, limits());
    let long_prompt = json!({"model": "tiny", "messages": [{"role": "user", "content": "word ".repeat(2000)}]});
    let cases: Vec<(String, u16, Option<&str>, &str)> = vec![
        (chat(1 << 40).to_string(), 400, Some("max_tokens"), "at most"),
        (chat(u64::MAX).to_string(), 400, Some("max_tokens"), "at most"),
        (chat(100_000).to_string(), 400, Some("max_tokens"), "max_model_len is 256"),
        (chat(0).to_string(), 400, Some("max_tokens"), "≥ 1"),
        (long_prompt.to_string(), 400, Some("messages"), "the prompt has"),
        (
            json!({"model": "tiny", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 999})
                .to_string(),
            400,
            Some("max_completion_tokens"),
            "at most",
        ),
        ("{".into(), 400, None, "EOF"),
        (
            json!({"model": "tiny", "messages": [], "max_tokenz": 3}).to_string(),
            400,
            Some("max_tokenz"),
            "unknown field",
        ),
        (json!({"model": "tiny", "messages": []}).to_string(), 400, Some("messages"), "must not be empty"),
        (
            json!({"model": "tiny", "messages": [{"role": "user", "content": "x"}], "stream": true}).to_string(),
            400,
            Some("stream"),
            "streaming",
        ),
        (
            json!({"model": "tiny", "messages": [{"role": "user", "content": "x"}], "temperature": -1}).to_string(),
            400,
            Some("temperature"),
            "≥ 0",
        ),
        (
            json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}).to_string(),
            404,
            Some("model"),
            "does not exist",
        ),
        (
            json!({"model": "tiny", "messages": [{"role": "user", "content": "x".repeat(70 << 10)}]}).to_string(),
            413,
            None,
            "larger than",
        ),
    ];
    for (body, status, param, needle) in &cases {
        let msg = openai_error(&api.post("/v1/chat/completions", body.clone()), *status, *param);
        assert!(msg.contains(needle), "{}…: `{msg}` lacks `{needle}`", &body[..body.len().min(80)]);
        api.normal_works();
    }
    openai_error(&api.get("/v1/nowhere"), 404, None);
    openai_error(&api.get("/v1/chat/completions"), 405, None);
    api.normal_works();

    // Adapter paths: outside the root, missing, or not a folder all read alike.
    std::fs::write(adapters.join("file"), "x").unwrap();
    let mut seen = Vec::new();
    for path in ["/etc", "/does/not/exist", "../model", "file", "missing"] {
        let r = api.post("/v1/load_lora_adapter", json!({"lora_name": "a", "lora_path": path}).to_string());
        seen.push(openai_error(&r, 400, Some("lora_path")).replace(path, "<p>"));
        api.normal_works();
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "refusals must not tell paths apart: {seen:?}");

    // A request that panics fails alone; the worker keeps serving.
    api.control.panic_next_step();
    let msg = openai_error(&api.post("/v1/chat/completions", chat(4).to_string()), 500, None);
    assert!(msg.contains("panicked"), "{msg}");
    assert_eq!(api.get("/health").0, 200);
    api.normal_works();

    // A full queue is a 429 (OpenAI's rate-limit shape), and clears.
    let small = start(&model, None, None, ServeLimits { max_queue: 2, ..limits() });
    small.control.pause(true);
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let (root, http) = (small.root.clone(), small.http.clone());
            std::thread::spawn(move || {
                http.post(format!("{root}/v1/chat/completions")).json(&chat(4)).send().unwrap().status().as_u16()
            })
        })
        .collect();
    small.wait("two queued requests", |c| c.in_flight() == 2);
    let r = small.post("/v1/chat/completions", chat(4).to_string());
    assert!(openai_error(&r, 429, None).contains("busy"));
    assert_eq!(r.1["error"]["type"], "rate_limit_error");
    let r = small.post("/v1/load_lora_adapter", json!({"lora_name": "a", "lora_path": "x"}).to_string());
    assert!(openai_error(&r, 403, None).contains("--adapter-root"), "run-time loading needs a root");
    small.control.pause(false);
    assert!(waiting.into_iter().all(|h| h.join().unwrap() == 200));
    small.normal_works();
}

#[test]
#[allow(clippy::print_stderr)]
fn deadlines_disconnects_concurrency_auth_and_a_dead_worker() {
    let d = tempfile::tempdir().unwrap();
    common::tiny_model(d.path(), &common::env());
    let api =
        start(d.path(), None, Some("s3cret"), ServeLimits { request_timeout: Duration::from_secs(1), ..limits() });
    let authed = |b: reqwest::blocking::RequestBuilder| b.bearer_auth("s3cret");

    // Auth: /health is open, /v1 needs the key.
    assert_eq!(api.get("/health").0, 200);
    openai_error(&api.get("/v1/models"), 401, None);
    openai_error(&api.post("/v1/chat/completions", chat(4).to_string()), 401, None);
    let ok = |b: Value| api.send(authed(api.http.post(format!("{}/v1/chat/completions", api.root)).json(&b)));
    assert_eq!(ok(chat(4)).0, 200);

    // A request past its deadline gets 504, and the worker drops it.
    api.control.pause(true);
    let r = ok(chat(8));
    assert!(openai_error(&r, 504, None).contains("did not finish"));
    api.control.pause(false);
    api.wait("the expired request to be dropped", |c| c.held() == 0 && c.in_flight() == 0);

    // A client that goes away: its request stops being held.
    api.control.pause(true);
    let impatient =
        reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_millis(200)).build().unwrap();
    let gone = authed(impatient.post(format!("{}/v1/chat/completions", api.root))).json(&chat(8)).send();
    assert!(gone.is_err(), "the client timed out");
    api.wait("the abandoned request to leave the queue", |c| c.in_flight() == 0);
    api.control.pause(false);
    api.wait("the worker to forget it", |c| c.held() == 0);

    // 8 short requests are answered while one with the largest allowed budget runs.
    let prompt_len = ok(chat(1)).1["usage"]["prompt_tokens"].as_u64().unwrap();
    let largest = CONTEXT as u64 - prompt_len;
    assert_eq!(ok(chat(largest + 1)).0, 400, "one more token than fits is refused");
    let open = start(d.path(), None, None, limits());
    open.control.pause(true);
    let spawn = |body: Value| {
        let (root, http) = (open.root.clone(), open.http.clone());
        std::thread::spawn(move || {
            let v: Value = http.post(format!("{root}/v1/chat/completions")).json(&body).send().unwrap().json().unwrap();
            (Instant::now(), v)
        })
    };
    let long = spawn(chat(largest));
    open.wait("the long request", |c| c.held() == 1);
    let short: Vec<_> = (0..8)
        .map(|i| {
            spawn(json!({"model": "tiny", "messages": [{"role": "user", "content": format!("q{i}")}], "max_tokens": 3}))
        })
        .collect();
    open.wait("all nine requests", |c| c.held() == 9);
    open.control.pause(false);
    let short: Vec<(Instant, Value)> = short.into_iter().map(|h| h.join().unwrap()).collect();
    let (long_done, long_v) = long.join().unwrap();
    assert!(short.iter().all(|(_, v)| v["choices"][0]["message"].is_object()), "every short request answered");
    let long_tokens = long_v["usage"]["completion_tokens"].as_u64().unwrap();
    assert!(long_v["usage"]["total_tokens"].as_u64().unwrap() <= CONTEXT as u64);
    // Greedy on the tiny model never stops early: the long request uses its whole budget, so the
    // short ones finishing first shows they were interleaved with it.
    assert_eq!(long_tokens, largest, "{long_v}");
    assert!(short.iter().all(|(t, _)| *t < long_done), "short requests waited for the long one");

    eprintln!("the longest allowed greedy request decoded {long_tokens} tokens");

    // A client that goes away mid-decoding: its request is dropped at the next token.
    open.control.pause(true);
    let impatient =
        reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_millis(500)).build().unwrap();
    let root = open.root.clone();
    let gone = std::thread::spawn(move || {
        impatient.post(format!("{root}/v1/chat/completions")).json(&chat(largest)).send().is_err()
    });
    open.wait("the request to be queued", |c| c.held() == 1);
    open.control.run_rounds(3);
    open.wait("three tokens decoded", ServerControl::is_paused);
    assert_eq!(open.control.held(), 1, "still decoding");
    assert!(gone.join().unwrap(), "the client gave up");
    open.wait("the handler to notice", |c| c.in_flight() == 0);
    open.control.run_rounds(1);
    open.wait("one more round", ServerControl::is_paused);
    assert_eq!(open.control.held(), 0, "dropped after one more token instead of {long_tokens}");
    open.control.pause(false);
    open.normal_works();

    // The worker stops: /health and requests say 503.
    open.control.stop_worker();
    open.wait("the worker to stop", |c| !c.worker_alive());
    openai_error(&open.get("/health"), 503, None);
    openai_error(&open.post("/v1/chat/completions", chat(4).to_string()), 503, None);
}
