//! Hostile clients: every bad request gets its status and a JSON `{"error": "..."}` body, and a
//! normal episode succeeds right after each one. Oversized actions, floods of large actions,
//! session hoarding and missing API keys are refused without the server growing.

mod common;

use std::sync::Arc;

use common::{Raw, spawn};
use serde_json::{Value, json};
use vigil_env_server::{EnvServer, ServerConfig};
use vigil_testkit::mock::{MockEnv, PANIC_ACTION};

/// Resident and peak memory of this process in KiB (server and client share it).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn server(config: ServerConfig, env: MockEnv, key: Option<&str>) -> Raw {
    let mut s = EnvServer::new(Arc::new(env), config).expect("server");
    if let Some(k) = key {
        s = s.with_api_key(k).expect("key");
    }
    Raw::new(spawn(s).await)
}

/// A whole normal episode: reset, steps until done, grade, close.
async fn normal_episode_works(c: &Raw) {
    let r = c.post_json("/reset", json!({"task": "easy-0", "seed": 3})).await;
    assert_eq!(r.0, 200, "reset after abuse: {}", r.1);
    let id = r.1["session_id"].as_str().expect("id").to_string();
    for _ in 0..64 {
        let s = c.post_json("/step", json!({"session_id": id, "action": "ok"})).await;
        assert_eq!(s.0, 200, "step after abuse: {}", s.1);
        if s.1["done"] == true {
            break;
        }
    }
    assert_eq!(c.post_json("/grade", json!({ "session_id": id })).await.0, 200);
    assert_eq!(c.delete(&format!("/session?session_id={id}")).await.0, 200);
}

fn is_error_shape(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.len() == 1 && o.get("error").is_some_and(Value::is_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_refused_and_the_next_normal_one_succeeds() {
    let config = ServerConfig {
        max_body_bytes: 64 << 10,
        max_action_bytes: 4096,
        max_session_bytes: 16 << 10,
        max_sessions_per_client: 6,
        ..ServerConfig::default()
    };
    let c = server(config, MockEnv::new(4), None).await;
    let r = c.post_json("/reset", json!({"task": "hard-0", "seed": 1})).await;
    let id = r.1["session_id"].as_str().expect("id").to_string();
    let big_action = json!({"session_id": id, "action": "x".repeat(4097)}).to_string();
    let big_body = json!({"session_id": id, "action": "x".repeat(70 << 10)}).to_string();
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", "/step", "{".into(), 400, "invalid JSON body"),
        ("POST", "/step", json!({"session_id": "nope", "action": "ok"}).to_string(), 404, "unknown session"),
        ("POST", "/step", big_action, 413, "at most 4096"),
        ("POST", "/step", big_body, 413, "larger than the limit"),
        ("POST", "/step", json!({"session_id": id, "action": PANIC_ACTION}).to_string(), 500, "panicked"),
        ("POST", "/reset?seed=-1", String::new(), 400, "seed"),
        ("POST", "/reset?task=easy-99", String::new(), 404, "unknown task"),
        ("GET", "/demo", String::new(), 404, "no route"),
        ("GET", "/demo/run?split=eval", String::new(), 404, "no route"),
        ("GET", "/nowhere", String::new(), 404, "no route"),
        ("DELETE", "/step", String::new(), 405, "not allowed"),
        ("GET", "/state?session_id=../../etc/passwd", String::new(), 404, "unknown session"),
    ];
    for (method, path, body, status, needle) in &cases {
        let resp = match *method {
            "POST" => c.post(path, body).await,
            "GET" => c.get(path).await,
            _ => c.delete(path).await,
        };
        assert_eq!(resp.0, *status, "{method} {path}: {}", resp.1);
        assert!(is_error_shape(&resp.1), "{method} {path}: not an error object: {}", resp.1);
        let msg = resp.1["error"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{method} {path}: `{msg}` lacks `{needle}`");
        normal_episode_works(&c).await;
    }

    // One client cannot take every slot: its 7th live session is refused, others' are not.
    let mut ids = Vec::new();
    for _ in 0..6 {
        let r = c.post("/reset", "").await;
        assert_eq!(r.0, 200, "{}", r.1);
        ids.push(r.1["session_id"].as_str().expect("id").to_string());
    }
    let refused = c.post("/reset", "").await;
    assert!(Raw::error(&refused, 429).contains("from your address"), "{}", refused.1);
    c.delete(&format!("/session?session_id={}", ids[0])).await;
    normal_episode_works(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_guards_every_route_but_health() {
    let c = server(ServerConfig::default(), MockEnv::new(2), Some("s3cret")).await;
    assert_eq!(c.get("/health").await.0, 200, "liveness stays open");
    let http = reqwest::Client::builder().no_proxy().build().expect("client");
    for auth in [None, Some("Bearer wrong"), Some("s3cret"), Some("Bearer s3cre")] {
        for (path, post) in [("/tasks", false), ("/reset", true), ("/nowhere", false)] {
            let url = format!("{}{path}", c.base);
            let mut req = if post { http.post(url) } else { http.get(url) };
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let res = req.send().await.expect("send");
            assert_eq!(res.status().as_u16(), 401, "{path} with {auth:?}");
            let body: Value = res.json().await.expect("json");
            assert!(is_error_shape(&body) && body["error"].as_str().unwrap_or_default().contains("API key"), "{body}");
        }
    }
    let ok = http.post(format!("{}/reset", c.base)).bearer_auth("s3cret").send().await.expect("send");
    assert_eq!(ok.status().as_u16(), 200);
    let client = vigil_env_server::Client::new(c.base.clone()).expect("client").with_api_key("s3cret");
    assert!(client.reset(&vigil_env_server::ResetRequest::default()).await.is_ok());
}

/// Floods of large actions: no session holds more than its quota, the server no more than its
/// budget, and memory stays near that budget while the flood asks for far more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)]
async fn a_flood_of_large_actions_stays_within_the_quotas() {
    let (action, session_quota, total) = (64usize << 10, 512u64 << 10, 16u64 << 20);
    let config = ServerConfig {
        max_action_bytes: action,
        max_session_bytes: session_quota,
        max_total_bytes: total,
        max_sessions: 200,
        max_sessions_per_client: 200,
        max_steps: 10_000,
        ..ServerConfig::default()
    };
    let c = server(config, MockEnv::new(4).with_extra_turns(10_000), None).await;
    let (rss_before, _) = rss_kib();

    // One session: accepted actions stop at the quota; oversized ones never count.
    let r = c.post_json("/reset", json!({"task": "easy-0", "seed": 1})).await;
    let id = r.1["session_id"].as_str().expect("id").to_string();
    let chunk = "a".repeat(action);
    let mut accepted = 0u64;
    for k in 0..40 {
        let body = if k % 2 == 0 { chunk.clone() } else { "b".repeat(action + 1) };
        let s = c.post_json("/step", json!({"session_id": id, "action": body})).await;
        match s.0 {
            200 => accepted += 1,
            413 => assert_eq!(k % 2, 1, "only oversized actions get 413"),
            429 => assert!(s.1["error"].as_str().unwrap_or_default().contains("quota"), "{}", s.1),
            other => panic!("step {k}: {other} {}", s.1),
        }
    }
    assert!(
        accepted >= 1 && accepted * action as u64 <= session_quota,
        "{accepted} actions of {action} bytes were stored"
    );

    // 200 sessions each trying to store 20 large actions (250 MiB asked): the budget holds.
    let mut stored = accepted;
    let mut refused = 0;
    for _ in 0..199 {
        let r = c.post("/reset", "").await;
        let Some(id) = r.1["session_id"].as_str().map(str::to_string) else {
            assert!(Raw::error(&r, 429).contains("bytes of session text"), "{}", r.1);
            refused += 1;
            continue;
        };
        for _ in 0..20 {
            match c.post_json("/step", json!({"session_id": id, "action": chunk})).await.0 {
                200 => stored += 1,
                429 => break,
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert!(stored * (action as u64) <= total, "{stored} actions stored");
    assert!(refused > 0, "the server budget refused new sessions once used up");
    let (rss_after, _) = rss_kib();
    let grown_mib = rss_after.saturating_sub(rss_before) / 1024;
    // Stored text is bounded by the 16 MiB budget (the transcript's and the episode's copies of
    // each action, and the observation echoing it): run alone the process grows by ~27 MiB.
    // The bound is loose because the other tests of this binary share the process; without
    // quotas the flood's 4,000 actions would take ~750 MiB.
    eprintln!("flood: {stored} actions of {action} bytes stored, {refused} resets refused, RSS +{grown_mib} MiB");
    assert!(grown_mib < 320, "the flood grew the process by {grown_mib} MiB");
}
