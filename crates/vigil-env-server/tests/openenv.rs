//! The OpenEnv protocol on the mock environment: `/ws` messages and errors, the HTTP shapes,
//! `/schema` and `/metadata`, and 500 concurrent WebSocket sessions × 10 steps, every reply
//! checked against a local replay of that session's own episode (no cross-session state).

mod common;

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use vigil_core::TaskId;
use vigil_env_server::{EnvServer, ServerConfig};
use vigil_testkit::mock::MockEnv;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn server(config: ServerConfig) -> String {
    common::spawn(EnvServer::new(Arc::new(MockEnv::new(50)), config).unwrap()).await
}

async fn connect(base: &str) -> Ws {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    tokio_tungstenite::connect_async(url).await.expect("ws connect").0
}

/// Sends one message and returns the reply.
async fn call(ws: &mut Ws, msg: Value) -> Value {
    ws.send(Message::text(msg.to_string())).await.expect("send");
    loop {
        match ws.next().await.expect("reply").expect("ws") {
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON reply"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["type"], "error", "{reply}");
    reply["data"]["code"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_messages_replies_and_errors_have_openenv_shapes() {
    let base = server(ServerConfig::default()).await;
    let mut ws = connect(&base).await;
    assert_eq!(error_code(&call(&mut ws, json!({"type": "step", "data": {"text": "ok"}})).await), "EXECUTION_ERROR");
    let s = call(&mut ws, json!({"type": "state"})).await;
    assert_eq!(s, json!({"type": "state", "data": {"episode_id": null, "step_count": 0}}));

    let r = call(&mut ws, json!({"type": "reset", "data": {"seed": 42, "episode_id": "e1", "task": "easy-1"}})).await;
    assert_eq!(r["type"], "observation");
    let d = &r["data"];
    assert_eq!((d["reward"].clone(), d["done"].clone()), (Value::Null, json!(false)));
    assert_eq!(d["observation"]["task_id"], "easy-1");
    assert!(d["observation"]["messages"][1]["content"].as_str().unwrap().contains("(seed 42)"));

    // easy-1 lasts 3 turns.
    let task = TaskId::new("easy-1");
    for turn in 1..=2 {
        let r = call(&mut ws, json!({"type": "step", "data": {"text": "ok"}})).await;
        assert_eq!(r["data"]["reward"], 0.0);
        assert_eq!(r["data"]["done"], false);
        let obs = &r["data"]["observation"];
        assert_eq!(obs["step"], turn);
        assert_eq!(obs["messages"][0]["content"], MockEnv::observation(&task, 42, turn, "ok", false));
    }
    let s = call(&mut ws, json!({"type": "state"})).await;
    assert_eq!((s["data"]["episode_id"].clone(), s["data"]["step_count"].clone()), (json!("e1"), json!(2)));
    let end = call(&mut ws, json!({"type": "step", "data": {"text": "ok", "metadata": {}}})).await;
    assert_eq!(end["data"]["done"], true);
    assert_eq!(end["data"]["reward"], 2.0, "ok_rate 1 + format 1");
    assert_eq!(end["data"]["observation"]["outcome"]["rewards"], json!({"ok_rate": 1.0, "format": 1.0}));

    assert_eq!(error_code(&call(&mut ws, json!({"type": "step", "data": {"text": "ok"}})).await), "EXECUTION_ERROR");
    assert_eq!(error_code(&call(&mut ws, json!({"type": "step", "data": {"txt": "ok"}})).await), "VALIDATION_ERROR");
    assert_eq!(error_code(&call(&mut ws, json!({"type": "dance"})).await), "UNKNOWN_TYPE");
    ws.send(Message::text("{not json")).await.unwrap();
    let Message::Text(t) = ws.next().await.unwrap().unwrap() else { panic!() };
    assert_eq!(error_code(&serde_json::from_str(&t).unwrap()), "INVALID_JSON");
    let r = call(&mut ws, json!({"type": "reset", "data": {"task": "easy-1", "sede": 1}})).await;
    assert_eq!(error_code(&r), "VALIDATION_ERROR");
    assert!(r["data"]["message"].as_str().unwrap().contains("sede"));

    // A close message ends the connection and its session.
    ws.send(Message::text(json!({"type": "close"}).to_string())).await.unwrap();
    while let Some(Ok(m)) = ws.next().await {
        assert!(matches!(m, Message::Close(_)), "{m:?}");
    }
    let raw = common::Raw::new(base);
    assert_eq!(raw.get("/health").await.1["sessions"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_shapes_schema_and_metadata() {
    let raw = common::Raw::new(server(ServerConfig::default()).await);
    let (st, r) = raw.post_json("/reset", json!({"seed": 42, "episode_id": "e1", "task": "easy-0"})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!((r["reward"].clone(), r["done"].clone()), (Value::Null, json!(false)));
    assert_eq!(r.as_object().unwrap().len(), 3, "exactly observation, reward, done: {r}");
    let (st, r) = raw.post_json("/reset", json!({"seed": 7, "episode_id": "e2", "task": "easy-1"})).await;
    assert_eq!(st, 200, "{r}");
    // e1 by name, e2 as the latest.
    let (st, r) = raw.post_json("/step", json!({"action": {"text": "ok"}, "episode_id": "e1"})).await;
    assert_eq!((st, r["observation"]["task_id"].clone()), (200, json!("easy-0")), "{r}");
    let (_, r) = raw.post_json("/step", json!({"action": {"text": "ok"}, "timeout_s": 5.0})).await;
    assert_eq!(r["observation"]["task_id"], "easy-1");
    assert_eq!(raw.get("/state").await.1["episode_id"], "e2");
    let (_, s) = raw.get("/state?episode_id=e1").await;
    assert_eq!(
        (s["episode_id"].clone(), s["step_count"].clone(), s["seed"].clone()),
        (json!("e1"), json!(1), json!(42))
    );
    // easy-0 lasts 2 turns: the second step ends it with the reward.
    let (_, r) = raw.post_json("/step", json!({"action": {"text": "no"}, "episode_id": "e1"})).await;
    assert_eq!((r["done"].clone(), r["reward"].clone()), (json!(true), json!(1.5)), "{r}");

    // Vigil's own API is unchanged next to it.
    let (st, v) = raw.post_json("/reset", json!({"task": "easy-2", "seed": 1})).await;
    assert_eq!(st, 200);
    let id = v["session_id"].as_str().unwrap().to_string();
    let (st, v) = raw.post_json("/step", json!({"session_id": id, "action": "ok"})).await;
    assert_eq!((st, v["step"].clone()), (200, json!(1)));
    assert_eq!(raw.get(&format!("/state?session_id={id}")).await.1["transcript"].as_array().unwrap().len(), 4);

    let e =
        common::Raw::error(&raw.post_json("/step", json!({"action": {"text": "ok"}, "episode_id": "nope"})).await, 400);
    assert!(e.contains("unknown episode_id `nope`"), "{e}");
    let e = common::Raw::error(&raw.post_json("/step", json!({"action": {"text": "ok"}, "extra": 1})).await, 400);
    assert!(e.contains("extra"), "{e}");

    let (st, s) = raw.get("/schema").await;
    assert_eq!(st, 200);
    assert_eq!(s["action"]["required"], json!(["text"]));
    for k in ["task_id", "stage", "step", "messages", "outcome"] {
        assert!(s["observation"]["properties"].get(k).is_some(), "{k} in {}", s["observation"]);
    }
    assert!(s["state"]["properties"].get("episode_id").is_some());
    let (st, m) = raw.get("/metadata").await;
    assert_eq!((st, m["name"].clone()), (200, json!("mock")));
    assert!(m["description"].as_str().unwrap().contains("ok_rate"));
}

/// One session: 10 steps over as many episodes as they take, each reply checked.
async fn session(base: String, i: usize) -> Result<usize, String> {
    let mut ws = connect(&base).await;
    let mut steps = 0;
    let mut episode = 0;
    while steps < 10 {
        let seed = (i * 100 + episode) as u64;
        let task = TaskId::new(format!("hard-{}", (i + episode) % 50));
        let r = call(&mut ws, json!({"type": "reset", "data": {"seed": seed, "task": task.as_str(), "episode_id": format!("s{i}-{episode}")}})).await;
        if r["data"]["observation"]["task_id"] != task.as_str() {
            return Err(format!("session {i}: reset answered {r}"));
        }
        let mut actions = Vec::new();
        loop {
            let action = format!("a{i}-{steps}");
            let r = call(&mut ws, json!({"type": "step", "data": {"text": action}})).await;
            steps += 1;
            actions.push(action.clone());
            let d = &r["data"];
            if d["done"] == true {
                let got = d["observation"]["outcome"]["metrics"]["action_checksum"].as_f64();
                if got != Some(MockEnv::checksum(&actions)) || actions.len() as u32 != MockEnv::turns(&task) {
                    return Err(format!("session {i}: outcome {d} is not its own"));
                }
                break;
            }
            let want = MockEnv::observation(&task, seed, actions.len() as u32, &action, false);
            if d["observation"]["messages"][0]["content"] != want.as_str() {
                return Err(format!("session {i}: got {d}, want {want}"));
            }
            let s = call(&mut ws, json!({"type": "state"})).await;
            if s["data"]["episode_id"] != format!("s{i}-{episode}").as_str() || s["data"]["seed"] != seed {
                return Err(format!("session {i}: state {s} is not its own"));
            }
            if steps == 10 {
                break;
            }
        }
        episode += 1;
    }
    ws.send(Message::text(json!({"type": "close"}).to_string())).await.map_err(|e| e.to_string())?;
    Ok(steps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_websocket_sessions_of_ten_steps_keep_to_themselves() {
    // All 500 clients share 127.0.0.1, so the per-client cap (256 by default) is raised with the total.
    let base = server(ServerConfig { max_sessions: 500, max_sessions_per_client: 500, ..ServerConfig::default() }).await;
    let tasks: Vec<_> = (0..500).map(|i| tokio::spawn(session(base.clone(), i))).collect();
    let mut errors = Vec::new();
    for t in tasks {
        match t.await.expect("session task") {
            Ok(steps) => assert_eq!(steps, 10),
            Err(e) => errors.push(e),
        }
    }
    assert!(errors.is_empty(), "{} sessions failed, first: {:?}", errors.len(), errors.first());
    // Closed connections free their sessions (the close is processed asynchronously).
    let raw = common::Raw::new(base);
    for _ in 0..100 {
        if raw.get("/health").await.1["sessions"] == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("sessions left open: {}", raw.get("/health").await.1);
}
