//! Error paths: every client mistake is a 4xx with a JSON message naming the problem; limits,
//! expiry and a panicking environment are contained.

mod common;

use std::time::Duration;

use common::{Raw, mock};
use serde_json::json;
use vigil_env_server::ServerConfig;
use vigil_testkit::mock::PANIC_ACTION;

async fn session(c: &Raw, task: &str) -> String {
    let r = c.post_json("/reset", json!({ "task": task, "seed": 1 })).await;
    assert_eq!(r.0, 200, "{}", r.1);
    r.1["session_id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn bad_reset_requests() {
    let c = mock(ServerConfig::default()).await;
    let cases: &[(&str, &str, u16, &str)] = &[
        ("/reset?task=easy-9", "", 404, "unknown task `easy-9`"),
        ("/reset?stage=medium", "", 400, "unknown stage `medium`"),
        ("/reset?task=hard&stage=easy", "", 400, "`task` names the stage `hard`"),
        ("/reset?task=easy-0&split=eval", "", 400, "cannot be combined with a task id"),
        ("/reset?seed=-1", "", 400, "seed"),
        ("/reset?split=test", "", 400, "split"),
        ("/reset?colour=red", "", 400, "colour"),
        ("/reset?mode=loud&task=easy-0", "", 400, "invalid episode option `mode`"),
        ("/reset", r#"{"options": {"colour": 1}}"#, 400, "invalid episode option `colour`"),
        ("/reset?mode=shouty", r#"{"options": {"mode": "plain"}}"#, 400, "`mode` is given both"),
        ("/reset?seed=1", r#"{"seed": 2}"#, 400, "`seed` is given both in the query string and in the JSON body"),
        ("/reset", "{", 400, "invalid JSON body"),
        ("/reset", "[]", 400, "invalid JSON body"),
        ("/reset", r#"{"tsak": "easy-0"}"#, 400, "unknown field `tsak`"),
        ("/reset", r#"{"seed": "seven"}"#, 400, "invalid type"),
    ];
    for (path, body, status, needle) in cases {
        let msg = Raw::error(&c.post(path, body).await, *status);
        assert!(msg.contains(needle), "{path} {body}: `{msg}` lacks `{needle}`");
    }
    assert_eq!(c.get("/health").await.1["sessions"], 0, "a rejected reset must not hold a slot");
}

#[tokio::test]
async fn bad_step_state_grade_and_close_requests() {
    let c = mock(ServerConfig { max_body_bytes: 1024, ..ServerConfig::default() }).await;
    let id = session(&c, "easy-0").await;
    let cases: Vec<(String, u16, &str)> = vec![
        (json!({"session_id": "nope", "action": "ok"}).to_string(), 404, "unknown session `nope`"),
        ("not json".into(), 400, "invalid JSON body"),
        (String::new(), 400, "the request body is empty"),
        (json!({ "session_id": id }).to_string(), 400, "missing field `action`"),
        (json!({"session_id": id, "action": 3}).to_string(), 400, "must be a string or a JSON object"),
        (json!({"session_id": id, "action": "ok", "extra": 1}).to_string(), 400, "unknown field `extra`"),
        (json!({"session_id": id, "action": "x".repeat(2000)}).to_string(), 413, "larger than the limit of 1024 bytes"),
    ];
    for (body, status, needle) in &cases {
        let msg = Raw::error(&c.post("/step", body).await, *status);
        assert!(msg.contains(needle), "{body:.60}: `{msg}` lacks `{needle}`");
    }
    // None of those touched the episode.
    assert_eq!(c.get(&format!("/state?session_id={id}")).await.1["step"], 0);

    // Without `session_id`, `/state` is OpenEnv's: the latest reset's episode.
    assert_eq!(c.get("/state").await.1["episode_id"], id.as_str());
    assert!(Raw::error(&c.get("/state?episode_id=zzz").await, 400).contains("unknown episode_id `zzz`"));
    assert!(Raw::error(&c.get("/state?session_id=zzz").await, 404).contains("unknown session `zzz`"));
    assert!(Raw::error(&c.post("/grade", "").await, 400).contains("missing `session_id`"));
    assert!(Raw::error(&c.post_json("/grade", json!({"session_id": "zzz"})).await, 404).contains("zzz"));
    assert!(Raw::error(&c.delete("/session?session_id=zzz").await, 404).contains("zzz"));
    assert!(Raw::error(&c.get("/nowhere").await, 404).contains("no route GET /nowhere"));
    assert!(Raw::error(&c.get("/step").await, 405).contains("method GET is not allowed on /step"));
    assert!(Raw::error(&c.get("/tasks?stage=x").await, 400).contains("unknown stage `x`"));
    assert!(Raw::error(&c.get("/tasks?limit=-3").await, 400).contains("limit"));
}

#[tokio::test]
async fn steps_after_the_end_and_past_the_step_limit_conflict() {
    let c = mock(ServerConfig { max_steps: 3, ..ServerConfig::default() }).await;
    let id = session(&c, "easy-0").await; // 2 turns
    for _ in 0..2 {
        assert_eq!(c.post_json("/step", json!({"session_id": id, "action": "ok"})).await.0, 200);
    }
    let again = c.post_json("/step", json!({"session_id": id, "action": "ok"})).await;
    assert!(Raw::error(&again, 409).contains("has already ended; POST /grade"));

    let long = session(&c, "hard-2").await; // 5 turns, more than max_steps
    for _ in 0..3 {
        assert_eq!(c.post_json("/step", json!({"session_id": long, "action": "ok"})).await.0, 200);
    }
    let over = c.post_json("/step", json!({"session_id": long, "action": "ok"})).await;
    assert!(Raw::error(&over, 409).contains("limit of 3 steps"));
}

#[tokio::test]
async fn sessions_are_bounded() {
    let c = mock(ServerConfig { max_sessions: 3, ..ServerConfig::default() }).await;
    let ids = [session(&c, "easy-0").await, session(&c, "easy-1").await, session(&c, "easy-2").await];
    let full = c.post("/reset", "").await;
    assert!(Raw::error(&full, 429).contains("all 3 slots are in use"));
    assert_eq!(c.delete(&format!("/session?session_id={}", ids[0])).await.0, 200);
    session(&c, "easy-3").await;
}

#[tokio::test]
async fn idle_sessions_expire() {
    let c = mock(ServerConfig { idle_timeout_secs: 1, ..ServerConfig::default() }).await;
    let idle = session(&c, "easy-0").await;
    let busy = session(&c, "hard-2").await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(c.post_json("/step", json!({"session_id": busy, "action": "ok"})).await.0, 200);
    }
    // 1.6 s later the idle one is gone (swept every 250 ms), the busy one is not.
    assert_eq!(c.get("/health").await.1["sessions"], 1);
    assert!(Raw::error(&c.get(&format!("/state?session_id={idle}")).await, 404).contains("expired"));
    assert_eq!(c.get(&format!("/state?session_id={busy}")).await.0, 200);
}

#[tokio::test]
async fn a_panicking_episode_closes_its_session_only() {
    let c = mock(ServerConfig::default()).await;
    let bad = session(&c, "easy-0").await;
    let good = session(&c, "easy-1").await;
    let r = c.post_json("/step", json!({"session_id": bad, "action": PANIC_ACTION})).await;
    assert!(Raw::error(&r, 500).contains("the environment panicked while stepping the episode"));
    assert!(Raw::error(&c.get(&format!("/state?session_id={bad}")).await, 404).contains(&bad));
    assert_eq!(c.post_json("/step", json!({"session_id": good, "action": "ok"})).await.0, 200);
    assert_eq!(c.get("/health").await.1["sessions"], 1);
}
