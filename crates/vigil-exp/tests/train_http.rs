//! The HTTP rollout backend completes a short GDPO run against `exp serve` on 127.0.0.1, with
//! the updated LoRA adapter hot-loaded into the server after every step.

mod common;
mod training;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use training::{exp, metrics, ok, tiny_config};

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn openai_rollouts_against_exp_serve() {
    let d = tempfile::tempdir().unwrap();
    // A first tiny run builds the from-scratch model the server will load.
    let base = tiny_config(d.path(), 1, "finetune = { kind = \"full\" }");
    ok(&[
        "run",
        base.to_str().unwrap(),
        "--out",
        d.path().join("build").to_str().unwrap(),
    ]);
    let model = d.path().join("model");

    let mut child = exp()
        .args([
            "serve",
            "--model",
            model.to_str().unwrap(),
            "--port",
            "0",
            "--name",
            "tiny",
            "--no-thinking",
            "--max-tokens",
            "8",
            // The trainer hot-loads each update's adapter from its run folder.
            "--adapter-root",
            d.path().to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Server(child);
    let api = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(
        api.starts_with("http://127.0.0.1:") && api.ends_with("/v1"),
        "{line}"
    );

    // The CLI's server refuses a budget beyond the context with OpenAI's error shape.
    let r = reqwest::blocking::Client::new()
        .post(format!("{api}/chat/completions"))
        .json(
            &serde_json::json!({"model": "tiny", "messages": [{"role": "user", "content": "hi"}],
                                  "max_tokens": 1u64 << 40}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["param"], "max_tokens", "{body}");

    let extra = format!(
        "finetune = {{ kind = \"lora\", r = 4, alpha = 8, target_modules = [\"q_proj\", \"v_proj\"] }}\n\
         rollout = {{ backend = \"openai\", base_url = \"{api}\", model = \"tiny\", concurrency = 4, lora_hot_load = true }}"
    );
    let cfg = tiny_config(d.path(), 3, &extra);
    let run = d.path().join("http");
    ok(&["run", cfg.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    let rl: Vec<_> = metrics(&run)
        .into_iter()
        .filter(|l| l["phase"] == "rl")
        .collect();
    assert_eq!(rl.len(), 3);
    for l in &rl {
        assert!(l["rollout_tokens"].as_u64().unwrap() > 0, "{l}");
        // Sampled by the server with the adapter being trained: the recomputed log-probs agree.
        assert!(l["logprob_gap"].as_f64().unwrap() < 1e-3, "{l}");
    }
    let models: serde_json::Value = reqwest::blocking::get(format!("{api}/models"))
        .unwrap()
        .json()
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["tiny", "vigil-step-3"]);
    drop(server);
}
