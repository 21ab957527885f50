//! OpenSec compat over OpenEnv's HTTP shapes, on Vigil's committed seeds: observations and state
//! carry exactly the peer opensec-env's fields, and the episode's reward arrives with its outcome.
//! (The Python test in vigil-exp checks the same through openenv-core's own client.)

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use vigil_env_opensec::{OpenSecConfig, OpenSecEnv, ScoringMode};
use vigil_env_server::{EnvServer, OpenEnvShape, ServerConfig};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> =
        v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

const OBSERVATION: [&str; 10] = [
    "attacker_state",
    "containment",
    "evidence_content_ids",
    "evidence_seen_ids",
    "hint",
    "last_action_result",
    "new_alerts",
    "new_emails",
    "scenario_id",
    "step_index",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compat_observations_and_state_have_exactly_the_peer_fields() {
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensec/manifest.json");
    let env =
        OpenSecEnv::new(&OpenSecConfig { seeds, scoring: ScoringMode::Compat, ..OpenSecConfig::default() }).unwrap();
    let server =
        EnvServer::new(Arc::new(env), ServerConfig::default()).unwrap().with_openenv_shape(OpenEnvShape::OpenSecPeer);
    let raw = common::Raw::new(common::spawn(server).await);

    let (st, r) = raw.post_json("/reset", json!({"seed": 3, "episode_id": "p1", "split": "eval"})).await;
    assert_eq!(st, 200, "{r}");
    let o = &r["observation"];
    assert_eq!(keys(o), OBSERVATION);
    assert_eq!((o["step_index"].clone(), o["hint"].clone()), (json!(0), json!("Environment ready")));
    assert_eq!(o["last_action_result"], json!({"ok": true, "message": "reset", "data": {}}));
    assert_eq!(keys(&o["containment"]), ["blocked_domains", "isolated_hosts", "reset_users"]);
    assert!(o["attacker_state"].as_str().is_some_and(|s| !s.is_empty()), "compat shows the attacker state");

    // The peer's own action form, flat, as its plain HTTP client posts it.
    let (st, r) = raw.post_json("/step", json!({"action_type": "query_logs", "params": {"table": "alerts"}})).await;
    assert_eq!(st, 200, "{r}");
    let o = &r["observation"];
    assert_eq!(keys(o), OBSERVATION);
    assert_eq!((o["step_index"].clone(), o["hint"].clone(), r["reward"].clone()), (json!(1), Value::Null, json!(0.0)));
    assert_eq!(o["last_action_result"]["message"], "query_logs");
    assert!(o["last_action_result"]["data"]["rows"].is_array(), "{o}");

    let (_, s) = raw.get("/state?episode_id=p1").await;
    assert_eq!(keys(&s), ["episode_id", "max_steps", "scenario_id", "step_count", "terminated", "truncated"]);
    assert_eq!((s["step_count"].clone(), s["terminated"].clone()), (json!(1), json!(false)));
    assert_eq!(s["scenario_id"], r["observation"]["scenario_id"]);

    let report = json!({"name": "submit_report", "arguments": {"summary_json": {"initial_vector": "phish"}}});
    let (_, r) = raw.post_json("/step", json!({"action": report, "episode_id": "p1"})).await;
    assert_eq!(r["done"], true, "{r}");
    let o = &r["observation"];
    assert_eq!(keys(o), OBSERVATION);
    assert_eq!(
        (o["step_index"].clone(), o["last_action_result"]["message"].clone()),
        (json!(2), json!("submit_report"))
    );
    let rewards = o["last_action_result"]["data"]["outcome"]["rewards"].as_object().unwrap();
    assert_eq!(rewards.keys().collect::<Vec<_>>(), ["attribution", "containment", "injection", "efficiency"]);
    assert_eq!(r["reward"].as_f64().unwrap(), rewards.values().map(|v| v.as_f64().unwrap()).sum::<f64>());
    assert_eq!(raw.get("/state?episode_id=p1").await.1["terminated"], true);

    let (_, schema) = raw.get("/schema").await;
    let mut props: Vec<&str> =
        schema["observation"]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    props.sort_unstable();
    assert_eq!(props, OBSERVATION);
}
