//! The OpenAI-compatible server (`exp serve`'s engine) and the HTTP rollout backend against it on
//! 127.0.0.1: request validation, log-probs and token ids, LoRA hot-loading, and a short GDPO
//! run whose rollouts all come over HTTP.

mod common;

use std::path::Path;

use serde_json::{Value, json};
use vigil_advantage::AdvantageConfig;
use vigil_core::Environment;
use vigil_policy::{CpuAutodiff, CpuBackend};
use vigil_rewards::{RewardSet, RewardsConfig};
use vigil_policy::openai::serve::{ServeConfig, Server};
use vigil_trainer::{NoHooks, TrainSpec, train};

/// Starts a server for the model in `dir` on a free port; returns its API root.
fn start(dir: &Path) -> String {
    let cfg = ServeConfig { adapter_root: Some(dir.parent().unwrap().to_path_buf()), ..common::serve_config(dir) };
    let server = Server::load::<CpuBackend>(cfg, &Default::default()).unwrap();
    format!("http://{}/v1", common::serve(server))
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::blocking::Client::new().post(url).json(body).send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[test]
fn server_validates_requests_and_returns_logprobs() {
    let d = tempfile::tempdir().unwrap();
    common::tiny_model(d.path(), &common::env());
    let api = start(d.path());
    let chat = format!("{api}/chat/completions");
    let body = json!({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "seed": 3,
                      "temperature": 1.0, "logprobs": true, "return_tokens_as_token_ids": true});
    let (s, v) = post(&chat, &body);
    assert_eq!(s, 200, "{v}");
    let lp = v["choices"][0]["logprobs"]["content"].as_array().unwrap();
    assert!(!lp.is_empty() && lp.len() <= 5);
    assert!(
        lp.iter()
            .all(|t| t["token"].as_str().unwrap().starts_with("token_id:") && t["logprob"].as_f64().unwrap() <= 0.0)
    );
    assert_eq!(v["usage"]["completion_tokens"].as_u64().unwrap() as usize, lp.len());
    // Same seed, same answer.
    assert_eq!(post(&chat, &body).1["choices"], v["choices"]);
    // A typo'd field is a 400 naming it; an unknown model a 404; streaming is refused.
    let (s, v) = post(&chat, &json!({"model": "tiny", "messages": [], "max_tokenz": 3}));
    assert_eq!(s, 400);
    assert!(v["error"]["message"].as_str().unwrap().contains("max_tokenz"), "{v}");
    let (s, _) = post(&chat, &json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}));
    assert_eq!(s, 404);
    let (s, v) = post(&chat, &json!({"model": "tiny", "messages": [{"role": "user", "content": "x"}], "stream": true}));
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("stream")));
    let (s, v) = post(&format!("{api}/load_lora_adapter"), &json!({"lora_name": "a", "lora_path": "/does/not/exist"}));
    assert_eq!(s, 400, "{v}");
}

#[test]
fn gdpo_run_with_http_rollouts_and_lora_hot_loading() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    let env = common::env();
    common::tiny_model(&model, &env);
    let api = start(&model);
    let cfg = common::trainer(&format!(
        r#"
        steps = 2
        group_size = 2
        batch_prompts = 2
        lr = 1e-2
        max_turns = 8
        finetune = {{ kind = "lora", r = 2, alpha = 4, target_modules = ["q_proj", "v_proj"] }}
        [rollout]
        backend = "openai"
        base_url = "{api}"
        model = "tiny"
        concurrency = 3
        timeout_s = 60
        lora_hot_load = true
        "#
    ));
    let rewards = RewardSet::new(&RewardsConfig::default(), &env.reward_components()).unwrap();
    let est = AdvantageConfig::default();
    let run = d.path().join("run");
    let spec = TrainSpec {
        env: &env,
        rewards: &rewards,
        estimator: &est,
        config: &cfg,
        source: common::source(&model),
        tokenizer_dir: model.clone(),
        generation: common::generation(),
        eval_generation: common::generation(),
        seed: 5,
        run_dir: run.clone(),
        eval_every: 0,
        self_play: None,
        sft_teacher: None,
        sft_cache: None,
    };
    train::<CpuAutodiff>(&spec, &mut NoHooks, &Default::default()).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert!(l["rollout_tokens"].as_u64().unwrap() > 0);
        assert!(l["train_tokens"].as_u64().unwrap() > 0);
        // The server sampled with the weights being trained: its log-probs match burn's.
        assert!(l["logprob_gap"].as_f64().unwrap() < 1e-3, "{l}");
    }
    // After the last update the server serves the newest adapter (and only it).
    let models: Value = reqwest::blocking::get(format!("{api}/models")).unwrap().json().unwrap();
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["tiny", "vigil-step-2"]);
}
