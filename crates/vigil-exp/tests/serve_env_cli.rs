//! `exp serve-env`: the real OpenSOC and OpenSec environments over HTTP on 127.0.0.1. Each test
//! starts the binary on a free port, runs episodes, checks the error shape and 200 concurrent
//! sessions without cross-session leakage, then kills the server.

mod common;
mod serve_env;

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use vigil_core::Split;
use vigil_env_server::{LoadTest, run_load_test_blocking};

use serve_env::ServeEnv;

/// A running `exp serve-env` (killed on drop) and a client for it.
struct Server {
    _server: ServeEnv,
    base: String,
    http: reqwest::blocking::Client,
}

fn start(args: &[&str]) -> Server {
    let server = serve_env::start(args);
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    Server {
        base: server.base.clone(),
        _server: server,
        http,
    }
}

impl Server {
    fn call(&self, req: reqwest::blocking::RequestBuilder) -> (u16, Value) {
        let res = req.send().expect("request");
        let status = res.status().as_u16();
        let text = res.text().expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    fn get(&self, path: &str) -> (u16, Value) {
        self.call(self.http.get(format!("{}{path}", self.base)))
    }
    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(
            self.http
                .post(format!("{}{path}", self.base))
                .body(body.to_string()),
        )
    }
    fn ok(&self, (status, body): (u16, Value)) -> Value {
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn component_names(tasks: &Value) -> Vec<String> {
    let list = tasks["reward_components"].as_array().expect("components");
    list.iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect()
}

fn reward_names(outcome: &Value) -> Vec<String> {
    outcome["rewards"]
        .as_object()
        .expect("rewards")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn opensoc_over_http() {
    let s = start(&["opensoc", "--demo"]);
    let health = s.ok(s.get("/health"));
    assert_eq!(
        (health["status"].as_str(), health["env"].as_str()),
        (Some("healthy"), Some("opensoc"))
    );
    let tasks = s.ok(s.get("/tasks?split=eval&limit=2"));
    assert!(
        tasks["total"].as_u64().unwrap() >= 200,
        "the hold-out: {}",
        tasks["total"]
    );
    assert!(
        tasks["stages"]
            .as_array()
            .unwrap()
            .contains(&json!("stage3_mixed"))
    );

    // The peer's `?task=<stage>&mode=` reset, then one triage turn ends the episode.
    let r = s.ok(s.post(
        "/reset?task=stage3_mixed&mode=defender_only&seed=7",
        json!({}),
    ));
    assert_eq!(r["stage"], "stage3_mixed");
    let id = r["session_id"].as_str().unwrap().to_string();
    assert!(r["observation"]["messages"].as_array().unwrap().len() >= 2);
    let step = s.ok(s.post(
        "/step",
        json!({"session_id": id, "action": "Action: escalate\nCitedLog: L1-1\nRationale: probe"}),
    ));
    assert_eq!(step["done"], true, "{step}");
    assert_eq!(reward_names(&step["outcome"]), component_names(&tasks));
    let state = s.ok(s.get(&format!("/state?session_id={id}")));
    assert_eq!(
        (state["done"].as_bool(), state["step"].as_u64()),
        (Some(true), Some(1))
    );
    let grade = s.ok(s.post("/grade", json!({ "session_id": id })));
    assert_eq!(grade["outcome"], step["outcome"]);

    // Self-play reaches the environment; a bad mode is a 400 naming it.
    let sp = s.ok(s.post("/reset?task=stage1_basic&mode=self_play&seed=1", json!({})));
    assert_eq!(sp["options"]["mode"], "self_play");
    assert_ne!(sp["observation"], r["observation"]);
    let (status, body) = s.post("/reset?mode=attacker_only", json!({}));
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("mode"), "{body}");

    let (status, html) = s.get("/demo");
    assert_eq!(status, 200);
    assert!(
        html.as_str().unwrap().contains("verifier_oracle"),
        "baselines on the demo page"
    );
    // The held-out split never reaches the demo's oracle.
    assert_eq!(s.get("/demo/run?split=eval").0, 403);

    let report = run_load_test_blocking(
        &s.base,
        &LoadTest {
            split: Split::Eval,
            ..LoadTest::default()
        },
    )
    .expect("load test");
    assert_eq!((report.sessions, report.finished), (200, 200), "{report}");
}

#[test]
fn opensec_over_http() {
    let s = start(&["opensec", "--max-sessions", "256"]);
    assert_eq!(s.ok(s.get("/health"))["env"], "opensec");
    assert_eq!(s.get("/demo").0, 404, "no demo without --demo");
    let tasks = s.ok(s.get("/tasks?split=eval&limit=1"));
    let task = tasks["tasks"][0]["id"]
        .as_str()
        .expect("an eval task")
        .to_string();
    let r = s.ok(s.post("/reset", json!({"task": task, "seed": 3})));
    let id = r["session_id"].as_str().unwrap().to_string();

    // A tool call sent as a JSON object; submit_report ends the episode.
    let report = json!({"name": "submit_report", "arguments": {"summary_json": {"patient_zero_host": "unknown"}}});
    let mut last = Value::Null;
    for _ in 0..64 {
        last = s.ok(s.post("/step", json!({"session_id": id, "action": report})));
        if last["done"] == true {
            break;
        }
    }
    assert_eq!(last["done"], true, "episode did not end: {last}");
    assert_eq!(reward_names(&last["outcome"]), component_names(&tasks));
    assert_eq!(
        s.ok(s.post("/grade", json!({ "session_id": id })))["outcome"],
        last["outcome"]
    );
    let (status, body) = s.post("/step", json!({"session_id": id, "action": "again"}));
    assert_eq!(status, 409, "{body}");
    let (status, body) = s.post("/step", json!({"session_id": "missing", "action": "x"}));
    assert!(
        status == 404 && body["error"].as_str().unwrap().contains("missing"),
        "{status} {body}"
    );

    let load = LoadTest {
        split: Split::Eval,
        max_steps: 3,
        ..LoadTest::default()
    };
    let report = run_load_test_blocking(&s.base, &load).expect("load test");
    assert_eq!(report.sessions, 200, "{report}");
    assert_eq!(
        s.ok(s.get("/health"))["sessions"],
        1,
        "load-test sessions closed, the graded one kept"
    );
}

#[test]
fn api_key_guards_the_routes_and_an_exposed_bind_warns() {
    let s = start(&["opensoc", "--api-key", "k3y"]);
    assert_eq!(s.get("/health").0, 200, "liveness stays open");
    let (status, body) = s.get("/tasks");
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("API key"),
        "{body}"
    );
    let authed = s.call(s.http.get(format!("{}/tasks", s.base)).bearer_auth("k3y"));
    assert_eq!(authed.0, 200, "{}", authed.1);

    // Bound beyond loopback without a key: a warning on stderr.
    let mut child = common::exp()
        .args(["serve-env", "opensoc", "--host", "0.0.0.0", "--port", "0"])
        .env_remove("VIGIL_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exp");
    let stderr = child.stderr.take().expect("stderr");
    let warned = common::first_line(stderr, Duration::from_secs(120), |l| {
        l.contains("without an API key")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        warned.is_some(),
        "no warning for a non-loopback bind without a key"
    );
}
