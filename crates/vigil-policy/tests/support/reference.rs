//! The parity checks against the committed PyTorch references, generic over the burn backend:
//! `tests/parity.rs` runs them on the CPU backend, `crates/vigil-wgpu-tests` on wgpu (it
//! includes this file with `#[path]`). Tolerances: logits and log-probs ≤ 1e-4, greedy tokens
//! identical with and without the KV cache, LoRA gradients ≤ 1e-3 relative L2.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vigil_policy::burn::tensor::backend::{AutodiffBackend, Backend};
use vigil_policy::lora::{Adapter, apply_adapter};
use vigil_policy::{
    ComputeDtype, GenerateOptions, NamedTensors, Qwen3, Sampler, SamplingConfig, load_qwen3,
    lora_gradients, pg_loss,
};

/// Logits and log-probs.
pub const TOL: f32 = 1e-4;
/// LoRA gradients, relative L2.
pub const GRAD_TOL: f32 = 1e-3;

/// The committed case `name` (folder with the checkpoint, adapter and `reference.json`).
pub fn case(name: &str) -> (PathBuf, Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-policy/tests/data")
        .join(name);
    let text = std::fs::read_to_string(dir.join("reference.json")).unwrap();
    (dir, serde_json::from_str(&text).unwrap())
}

pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

pub fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// A `[rows][cols]` JSON matrix, flattened.
pub fn matrix(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().flat_map(floats).collect()
}

pub fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// `‖a − b‖ / ‖b‖`.
pub fn rel_l2(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let num: f32 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt();
    let den: f32 = b.iter().map(|y| y * y).sum::<f32>().sqrt();
    assert!(den > 0.0, "reference is zero");
    num / den
}

/// `n` greedy tokens after `prompt`.
pub fn greedy<B: Backend>(
    model: &Qwen3<B>,
    prompt: &[u32],
    n: usize,
    use_cache: bool,
    adapters: bool,
) -> Vec<u32> {
    let opts = GenerateOptions {
        max_new_tokens: n,
        stop_tokens: HashSet::new(),
        use_cache,
        adapters,
    };
    let mut s = vec![Sampler::new(SamplingConfig::Greedy, 0).unwrap()];
    model
        .generate(&[prompt.to_vec()], &mut s, &opts)
        .unwrap()
        .remove(0)
        .tokens
}

/// One section (`base` or `adapter`) of the reference: logits, log-probs, greedy ± cache.
pub fn check_section<B: Backend>(model: &Qwen3<B>, r: &Value, section: &str, adapters: bool) {
    let tokens = ids(&r["tokens"]);
    let prompt = ids(&r["prompt"]);
    let sec = &r[section];
    let logits: Vec<f32> = model.logits_of(&tokens, adapters).unwrap().concat();
    let d = max_abs(&logits, &matrix(&sec["logits"]));
    assert!(d <= TOL, "{section}: logits differ by {d}");
    let lp = model.logprobs_of(&tokens, adapters).unwrap();
    let d = max_abs(&lp, &floats(&sec["logprobs"]));
    assert!(d <= TOL, "{section}: log-probs differ by {d}");
    let want = ids(&sec["greedy"]);
    assert_eq!(
        greedy(model, &prompt, want.len(), true, adapters),
        want,
        "{section}: greedy with cache"
    );
    assert_eq!(
        greedy(model, &prompt, want.len(), false, adapters),
        want,
        "{section}: greedy without cache"
    );
}

/// The whole case on `B`: base, adapter, adapters off (the reference policy), merged.
pub fn check_case<B: Backend>(name: &str, device: &B::Device) {
    let (dir, r) = case(name);
    let base = load_qwen3::<B>(&dir, ComputeDtype::F32, device).unwrap();
    check_section(&base, &r, "base", false);
    let adapter = Adapter::load(&dir.join("adapter")).unwrap();
    let model = apply_adapter(base, &adapter, ComputeDtype::F32).unwrap();
    check_section(&model, &r, "adapter", true);
    // The reference policy is the same module with adapters off.
    check_section(&model, &r, "base", false);
    // Merged weights give the adapter's outputs.
    let merged = model.merge_adapters();
    assert!(!merged.has_adapters());
    let d = max_abs(
        &merged.logprobs_of(&ids(&r["tokens"]), true).unwrap(),
        &floats(&r["adapter"]["logprobs"]),
    );
    assert!(d <= TOL, "merged log-probs differ by {d}");
}

/// The policy-gradient loss and LoRA gradients of the case on `B`, checked against autograd's;
/// returned for cross-backend comparisons.
pub fn check_grads<B: AutodiffBackend>(name: &str, device: &B::Device) -> (f32, NamedTensors) {
    let (dir, r) = case(name);
    let base = load_qwen3::<B>(&dir, ComputeDtype::F32, device).unwrap();
    let adapter = Adapter::load(&dir.join("adapter")).unwrap();
    let model = apply_adapter(base, &adapter, ComputeDtype::F32).unwrap();
    let adv = r["adapter"]["advantage"].as_f64().unwrap() as f32;
    let loss = pg_loss(&model, &ids(&r["tokens"]), adv).unwrap();
    let l = loss
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap()[0];
    let want_loss = r["adapter"]["loss"].as_f64().unwrap() as f32;
    assert!((l - want_loss).abs() < TOL, "loss {l} vs {want_loss}");
    let grads = loss.backward();
    let got = lora_gradients::<B>(&model, &grads);
    let want = r["adapter"]["grads"].as_object().unwrap();
    let mut want_names: Vec<&String> = want.keys().collect();
    want_names.sort();
    assert_eq!(got.keys().collect::<Vec<_>>(), want_names);
    for (k, (_, g)) in &got {
        let e = rel_l2(g, &matrix(&want[k]));
        assert!(e <= GRAD_TOL, "{k}: relative L2 error {e}");
    }
    // Base weights are frozen: no gradient reaches them.
    assert!(model.model.embed_tokens.val().grad(&grads).is_none());
    (l, got)
}
