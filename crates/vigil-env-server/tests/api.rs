//! Every endpoint's happy path over real HTTP on 127.0.0.1, against the testkit's mock.

mod common;

use common::{Raw, mock};
use serde_json::{Value, json};
use vigil_core::{ChatMessage, Environment, Step, TaskId};
use vigil_env_server::{Grade, ResetResponse, ServerConfig, State, StepResponse};
use vigil_testkit::mock::MockEnv;

fn parse<T: serde::de::DeserializeOwned>(resp: (u16, Value)) -> T {
    assert_eq!(resp.0, 200, "body: {}", resp.1);
    serde_json::from_value(resp.1).expect("response shape")
}

#[tokio::test]
async fn health_and_tasks() {
    let c = mock(ServerConfig::default()).await;
    let h = c.get("/health").await;
    assert_eq!(h.0, 200);
    assert_eq!(h.1["status"], "healthy", "OpenEnv's HealthStatus value");
    assert_eq!(h.1["env"], "mock");
    assert_eq!(h.1["sessions"], 0);

    let t = c.get("/tasks").await;
    assert_eq!(t.0, 200);
    assert_eq!(t.1["split"], "train");
    assert_eq!(t.1["total"], 8);
    assert_eq!(t.1["stages"], json!(["easy", "hard"]));
    assert_eq!(t.1["reward_components"][0]["name"], "ok_rate");
    assert_eq!(t.1["reward_components"][1]["max"], 1.0);
    assert_eq!(t.1["tasks"][0], json!({"id": "easy-0", "stage": "easy"}));

    let t = c.get("/tasks?split=eval&stage=hard&offset=1&limit=2").await;
    assert_eq!(t.0, 200);
    assert_eq!(t.1["total"], 4);
    assert_eq!(t.1["offset"], 1);
    assert_eq!(t.1["tasks"], json!([{"id": "hard-e1", "stage": "hard"}, {"id": "hard-e2", "stage": "hard"}]));
}

#[tokio::test]
async fn a_whole_episode_over_http() {
    let c = mock(ServerConfig::default()).await;
    let env = MockEnv::new(4);
    let task = TaskId::new("easy-1");
    let r: ResetResponse = parse(c.post_json("/reset", json!({"task": "easy-1", "seed": 5})).await);
    assert_eq!((r.task.as_str(), r.seed, r.step, r.done), ("easy-1", 5, 0, false));
    assert_eq!(r.stage.as_deref(), Some("easy"));
    let local = env.start(&task, 5).unwrap();
    assert_eq!(r.observation.messages, local.prompt());
    let id = r.session_id;
    assert_eq!(c.get("/health").await.1["sessions"], 1);

    // Not finished yet: /grade is a conflict, /state shows no ground truth.
    let g = c.post_json("/grade", json!({ "session_id": id })).await;
    assert!(Raw::error(&g, 409).contains("has not ended yet"));

    let s1: StepResponse = parse(c.post_json("/step", json!({"session_id": id, "action": "ok"})).await);
    assert_eq!((s1.step, s1.done), (1, false));
    assert_eq!(s1.observation.as_ref().unwrap().content, MockEnv::observation(&task, 5, 1, "ok", false));
    let st = c.get(&format!("/state?session_id={id}")).await;
    assert!(!st.1.to_string().contains("secret-gold"), "ground truth leaked: {}", st.1);
    let st: State = parse(st);
    assert_eq!((st.step, st.done), (1, false));
    let mut expected = local.prompt();
    expected.push(ChatMessage::assistant("ok"));
    expected.push(s1.observation.clone().unwrap());
    assert_eq!(st.transcript, expected);

    // A JSON action reaches the environment as compact JSON text.
    let s2: StepResponse = parse(c.post_json("/step", json!({"session_id": id, "action": {"tool": "x"}})).await);
    assert!(s2.observation.unwrap().content.contains(r#"you said "{\"tool\":\"x\"}""#));
    let s3: StepResponse = parse(c.post_json("/step", json!({"session_id": id, "action": "ok"})).await);
    assert!(s3.done && s3.observation.is_none());
    let outcome = s3.outcome.unwrap();
    let mut replay = env.start(&task, 5).unwrap();
    replay.step("ok").unwrap();
    replay.step(r#"{"tool":"x"}"#).unwrap();
    let Step::Done(want) = replay.step("ok").unwrap() else { panic!("replay did not end") };
    assert_eq!(outcome, *want);

    let g: Grade = parse(c.post(&format!("/grade?session_id={id}"), "").await);
    assert_eq!(g.outcome, outcome);
    assert_eq!(g.outcome.prediction.unwrap().gold, MockEnv::secret(&task));
    let st: State = parse(c.get(&format!("/state?session_id={id}")).await);
    assert!(st.done);
    assert_eq!(st.transcript.len(), 2 + 3 + 2);

    let closed = c.delete(&format!("/session?session_id={id}")).await;
    assert_eq!(closed.0, 200);
    assert_eq!(closed.1, json!({"session_id": id, "closed": true}));
    assert!(Raw::error(&c.get(&format!("/state?session_id={id}")).await, 404).contains(&id));
    assert_eq!(c.get("/health").await.1["sessions"], 0);
}

#[tokio::test]
async fn reset_chooses_tasks_seeds_and_modes() {
    let c = mock(ServerConfig::default()).await;
    // OpenSOC style: a stage name as `task`, from the query string.
    let r: ResetResponse = parse(c.post("/reset?task=hard&seed=3", "").await);
    assert!(r.task.as_str().starts_with("hard-") && !r.task.as_str().contains('e'), "{}", r.task);
    assert_eq!(r.seed, 3);
    // The same seed picks the same task; the eval split has its own tasks.
    let again: ResetResponse = parse(c.post("/reset?task=hard&seed=3", "").await);
    assert_eq!(again.task, r.task);
    let e: ResetResponse = parse(c.post_json("/reset", json!({"split": "eval", "stage": "easy", "seed": 1})).await);
    assert!(e.task.as_str().starts_with("easy-e"), "{}", e.task);

    // Without a seed the server derives distinct ones, and replaying one gives the same episode.
    let a: ResetResponse = parse(c.post("/reset", "").await);
    let b: ResetResponse = parse(c.post("/reset", "  ").await);
    assert_ne!(a.seed, b.seed);
    let replay: ResetResponse = parse(c.post(&format!("/reset?seed={}", a.seed), "").await);
    assert_eq!((replay.task, replay.observation), (a.task, a.observation));

    // `mode` from the query or `options.mode` from the body reaches the environment.
    let m: ResetResponse = parse(c.post("/reset?task=easy-0&mode=shouty&seed=1", "").await);
    assert_eq!(m.options["mode"], "shouty");
    let s: StepResponse = parse(c.post_json("/step", json!({"session_id": m.session_id, "action": "ok"})).await);
    assert!(s.observation.unwrap().content.starts_with("TURN 1"));
    let m: ResetResponse = parse(c.post_json("/reset", json!({"task": "easy-0", "options": {"mode": "plain"}})).await);
    assert_eq!(m.options["mode"], "plain");
    assert_eq!(c.get("/health").await.1["sessions"], 8);
}
