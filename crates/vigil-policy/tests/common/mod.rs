//! Helpers shared by the integration tests: tiny random checkpoints written by our own `init`.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use vigil_policy::{ComputeDtype, InitOptions, Qwen3Config, write_random_checkpoint};

/// A tiny GQA model with head_dim ≠ hidden/heads.
pub fn tiny_config(tied: bool) -> Qwen3Config {
    Qwen3Config::new(64, 24, 40, 2, 4, 2, 8, tied).unwrap()
}

/// Writes a random checkpoint into `dir`.
pub fn write_tiny(dir: &Path, tied: bool, dtype: ComputeDtype, seed: u64) -> PathBuf {
    let opts = InitOptions {
        config: tiny_config(tied),
        dtype,
        seed,
        std: 0.2,
    };
    write_random_checkpoint(dir, &opts).unwrap();
    dir.to_path_buf()
}

/// Writes a PEFT adapter folder with the given config JSON and random factors for `targets`
/// (module paths) of `config`.
pub fn write_adapter(dir: &Path, config: &serde_json::Value, tensors: &vigil_policy::NamedTensors) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("adapter_config.json"),
        serde_json::to_string(config).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("adapter_model.safetensors"),
        vigil_policy::safetensors_bytes(tensors, vigil_policy::FileDtype::F32),
    )
    .unwrap();
}
