//! Parity with PyTorch/transformers/peft on committed tiny checkpoints
//! (made by tools/qwen3_reference/qwen3_reference.py make-all): logits and log-probs ≤ 1e-4,
//! greedy 16 tokens identical with and without KV cache, LoRA gradients ≤ 1e-3 relative L2.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::Value;
use vigil_policy::lora::{Adapter, apply_adapter};
use vigil_policy::{
    ComputeDtype, CpuAutodiff, CpuBackend, GenerateOptions, Qwen3, Sampler, SamplingConfig,
    load_qwen3, lora_gradients, pg_loss,
};

fn case(name: &str) -> (PathBuf, Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let text = std::fs::read_to_string(dir.join("reference.json")).unwrap();
    (dir, serde_json::from_str(&text).unwrap())
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}
fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}
fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn greedy(
    model: &Qwen3<CpuBackend>,
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

fn check_section(model: &Qwen3<CpuBackend>, r: &Value, section: &str, adapters: bool) {
    let tokens = ids(&r["tokens"]);
    let prompt = ids(&r["prompt"]);
    let sec = &r[section];
    let logits: Vec<f32> = model.logits_of(&tokens, adapters).unwrap().concat();
    let want: Vec<f32> = sec["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    let d = max_abs(&logits, &want);
    assert!(d <= 1e-4, "{section}: logits differ by {d}");
    let lp = model.logprobs_of(&tokens, adapters).unwrap();
    let d = max_abs(&lp, &floats(&sec["logprobs"]));
    assert!(d <= 1e-4, "{section}: log-probs differ by {d}");
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

fn check_case(name: &str) {
    let (dir, r) = case(name);
    let device = Default::default();
    let base = load_qwen3::<CpuBackend>(&dir, ComputeDtype::F32, &device).unwrap();
    check_section(&base, &r, "base", false);
    let adapter = Adapter::load(&dir.join("adapter")).unwrap();
    let model = apply_adapter(base, &adapter, ComputeDtype::F32).unwrap();
    check_section(&model, &r, "adapter", true);
    // The reference policy is the same module with adapters off.
    check_section(&model, &r, "base", false);
    // Merged weights give the adapter's outputs.
    let merged = model.merge_adapters();
    assert!(!merged.has_adapters());
    let tokens = ids(&r["tokens"]);
    let d = max_abs(
        &merged.logprobs_of(&tokens, true).unwrap(),
        &floats(&r["adapter"]["logprobs"]),
    );
    assert!(d <= 1e-4, "merged log-probs differ by {d}");
}

fn check_grads(name: &str) {
    let (dir, r) = case(name);
    let device = Default::default();
    let base = load_qwen3::<CpuAutodiff>(&dir, ComputeDtype::F32, &device).unwrap();
    let model = apply_adapter(
        base,
        &Adapter::load(&dir.join("adapter")).unwrap(),
        ComputeDtype::F32,
    )
    .unwrap();
    let adv = r["adapter"]["advantage"].as_f64().unwrap() as f32;
    let loss = pg_loss(&model, &ids(&r["tokens"]), adv).unwrap();
    let l = loss.clone().into_data().to_vec::<f32>().unwrap()[0];
    assert!((l - r["adapter"]["loss"].as_f64().unwrap() as f32).abs() < 1e-4);
    let grads = loss.backward();
    let got = lora_gradients::<CpuAutodiff>(&model, &grads);
    let want = r["adapter"]["grads"].as_object().unwrap();
    let got_names: Vec<&String> = got.keys().collect();
    let mut want_names: Vec<&String> = want.keys().collect();
    want_names.sort();
    assert_eq!(got_names, want_names);
    for (k, (_, g)) in &got {
        let w: Vec<f32> = want[k]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(floats)
            .collect();
        let num: f32 = g
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt();
        let den: f32 = w.iter().map(|b| b * b).sum::<f32>().sqrt();
        assert!(den > 0.0, "{k}: reference gradient is zero");
        assert!(num / den <= 1e-3, "{k}: relative L2 error {}", num / den);
    }
    // Base weights are frozen: no gradient reaches them.
    assert!(model.model.embed_tokens.val().grad(&grads).is_none());
}

#[test]
fn tied_matches_transformers() {
    check_case("tied");
}

#[test]
fn untied_bf16_file_matches_transformers() {
    check_case("untied");
}

#[test]
fn tied_lora_gradients_match_autograd() {
    check_grads("tied");
}

#[test]
fn untied_lora_gradients_match_autograd() {
    check_grads("untied");
}
