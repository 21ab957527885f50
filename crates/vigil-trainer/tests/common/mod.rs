//! Shared fixtures of the trainer's integration tests: a tiny tokenizer and random Qwen3 built
//! from the testkit's multi-turn mock environment, and a trainer config small enough to run a
//! few steps in seconds on two cores.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use vigil_core::Environment;
use vigil_policy::ComputeDtype;
use vigil_policy::SamplingConfig;
use vigil_trainer::scratch::{ScratchConfig, build};
use vigil_trainer::{GenerationSettings, ModelSource, TrainerConfig};

/// The mock environment (two stages, four tasks each, 2–5 turns per episode).
pub fn env() -> vigil_testkit::mock::MockEnv {
    vigil_testkit::mock::MockEnv::new(4)
}

/// Builds a tiny tokenizer + random Qwen3 into `dir`.
pub fn tiny_model(dir: &Path, env: &dyn Environment) {
    let cfg: ScratchConfig = toml::from_str(
        "vocab_size = 300\ncorpus_examples = 8\nhidden_size = 32\nintermediate_size = 64\nnum_hidden_layers = 2\n\
         num_attention_heads = 4\nnum_key_value_heads = 2\nhead_dim = 8",
    )
    .unwrap();
    build(dir, env, &cfg, 3, 8, None).unwrap();
}

/// Where the weights come from.
pub fn source(dir: &Path) -> ModelSource {
    ModelSource { model_dir: dir.to_path_buf(), adapter: None, dtype: ComputeDtype::F32 }
}

/// Short sampled answers.
pub fn generation() -> GenerationSettings {
    GenerationSettings {
        max_new_tokens: 6,
        sampling: SamplingConfig::Sample { temperature: 1.0, top_k: 0, top_p: 1.0 },
        enable_thinking: false,
        batch_size: 16,
    }
}

/// A trainer config from TOML.
pub fn trainer(toml_text: &str) -> TrainerConfig {
    let c: TrainerConfig = toml::from_str(toml_text).unwrap();
    c.validate().unwrap();
    c
}

/// `exp serve` settings for the tiny model in `dir`, served as `tiny` (8 tokens by default).
pub fn serve_config(dir: &Path) -> vigil_policy::openai::serve::ServeConfig {
    vigil_policy::openai::serve::ServeConfig {
        model_dir: dir.to_path_buf(),
        tokenizer_dir: dir.to_path_buf(),
        adapter: None,
        dtype: ComputeDtype::F32,
        served_name: "tiny".into(),
        max_batch: 8,
        default_max_tokens: 8,
        enable_thinking: false,
        api_key: None,
        adapter_root: None,
        limits: vigil_policy::openai::serve::ServeLimits::default(),
    }
}

/// Serves `server` on a free port of 127.0.0.1 from a thread of its own; returns the address.
pub fn serve(server: vigil_policy::openai::serve::Server) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            server.run(l).await.unwrap();
        });
    });
    rx.recv().unwrap()
}
