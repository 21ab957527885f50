//! Model behaviour on random checkpoints: batching and padding, sharding, dtypes, the HF
//! cache, sampling determinism, and the training API (LoRA and full fine-tuning).

mod common;

use std::collections::HashSet;

use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use vigil_policy::lora::{LoraConfig, ModuleSelector, init_adapter, save_adapter};
use vigil_policy::{
    ComputeDtype, CpuAutodiff, CpuBackend, GenerateOptions, Sampler, SamplingConfig, Trainable,
    load_qwen3, pg_loss, resolve_model_dir_in, set_trainable,
};

fn opts(n: usize) -> GenerateOptions {
    GenerateOptions {
        max_new_tokens: n,
        stop_tokens: HashSet::new(),
        use_cache: true,
        adapters: true,
    }
}

#[test]
fn left_padded_batch_equals_one_by_one() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(d.path(), false, ComputeDtype::F32, 7);
    let m = load_qwen3::<CpuBackend>(&dir, ComputeDtype::F32, &Default::default()).unwrap();
    let prompts = vec![
        vec![3, 9, 27, 4, 5, 6, 1],
        vec![11, 2],
        vec![40, 41, 42, 43],
    ];
    let cfg = SamplingConfig::Sample {
        temperature: 0.9,
        top_k: 20,
        top_p: 0.95,
    };
    let mut batch_samplers: Vec<Sampler> = (0..3)
        .map(|i| Sampler::new(cfg, 100 + i).unwrap())
        .collect();
    let batched = m
        .generate(&prompts, &mut batch_samplers, &opts(10))
        .unwrap();
    for (i, p) in prompts.iter().enumerate() {
        let mut s = vec![Sampler::new(cfg, 100 + i as u64).unwrap()];
        let single = m
            .generate(std::slice::from_ref(p), &mut s, &opts(10))
            .unwrap()
            .remove(0);
        assert_eq!(single.tokens, batched[i].tokens, "prompt {i}");
        for (a, b) in single.model_logprobs.iter().zip(&batched[i].model_logprobs) {
            assert!((a - b).abs() < 1e-4, "prompt {i}: {a} vs {b}");
        }
        // The model log-prob of each sampled token matches teacher forcing.
        let mut full = p.clone();
        full.extend(&single.tokens);
        let tf = m.logprobs_of(&full, true).unwrap();
        for (t, lp) in single.model_logprobs.iter().enumerate() {
            assert!((tf[p.len() - 1 + t] - lp).abs() < 1e-4);
        }
        assert!(single.sample_logprobs.iter().all(|&x| x <= 1e-6));
    }
    // Stop tokens end a sequence and are kept.
    let first = batched[1].tokens[2];
    let mut o = opts(10);
    o.stop_tokens.insert(first);
    let mut s = vec![Sampler::new(cfg, 101).unwrap()];
    let stopped = m.generate(&prompts[1..2], &mut s, &o).unwrap().remove(0);
    assert_eq!(stopped.finish, vigil_core::FinishReason::Stop);
    assert_eq!(*stopped.tokens.last().unwrap(), first);
}

#[test]
fn sharded_bf16_and_cache_lookup_load_the_same_model() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(&d.path().join("single"), true, ComputeDtype::Bf16, 8);
    let tokens = [5u32, 7, 9, 11, 13, 2];
    let m = load_qwen3::<CpuBackend>(&dir, ComputeDtype::F32, &Default::default()).unwrap();
    let want = m.logprobs_of(&tokens, true).unwrap();

    // Shard: split the single file into two, with an index.
    let sharded = d.path().join("sharded");
    std::fs::create_dir_all(&sharded).unwrap();
    std::fs::copy(dir.join("config.json"), sharded.join("config.json")).unwrap();
    let mut r = vigil_policy::SafetensorsReader::open(&dir.join("model.safetensors")).unwrap();
    let infos = r.tensors().to_vec();
    let (a, b) = infos.split_at(infos.len() / 2);
    let mut weight_map = serde_json::Map::new();
    for (k, part) in [(1, a), (2, b)] {
        let name = format!("model-0000{k}-of-00002.safetensors");
        let data: Vec<Vec<f32>> = part.iter().map(|i| r.read_f32(i).unwrap()).collect();
        let specs: Vec<_> = part
            .iter()
            .map(|i| vigil_policy::TensorSpec {
                name: i.name.clone(),
                dtype: i.dtype,
                shape: i.shape.clone(),
            })
            .collect();
        vigil_policy::write_streaming(&sharded.join(&name), &specs, |j| data[j].clone()).unwrap();
        for i in part {
            weight_map.insert(i.name.clone(), serde_json::Value::String(name.clone()));
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(
        sharded.join("model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    let ms = load_qwen3::<CpuBackend>(&sharded, ComputeDtype::F32, &Default::default()).unwrap();
    assert_eq!(ms.logprobs_of(&tokens, true).unwrap(), want);

    // bf16 compute stays close to f32 on a bf16 file.
    let mb = load_qwen3::<CpuBackend>(&dir, ComputeDtype::Bf16, &Default::default()).unwrap();
    let lb = mb.logprobs_of(&tokens, true).unwrap();
    for (x, y) in lb.iter().zip(&want) {
        assert!((x - y).abs() < 0.1, "bf16 {x} vs f32 {y}");
    }

    // HF cache layout, resolved with HF_HUB_CACHE (no network).
    let cache = d.path().join("hub");
    let snap = cache.join("models--Org--Tiny/snapshots/abc123");
    std::fs::create_dir_all(&snap).unwrap();
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(dir.join(f), snap.join(f)).unwrap();
    }
    std::fs::create_dir_all(cache.join("models--Org--Tiny/refs")).unwrap();
    std::fs::write(cache.join("models--Org--Tiny/refs/main"), "abc123").unwrap();
    assert_eq!(
        resolve_model_dir_in("Org/Tiny", Some(&cache)).unwrap(),
        snap
    );
    assert!(resolve_model_dir_in("Org/Missing", Some(&cache)).is_err());
    let m = load_qwen3::<CpuBackend>(
        &resolve_model_dir_in("Org/Tiny", Some(&cache)).unwrap(),
        ComputeDtype::F32,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(m.logprobs_of(&tokens, true).unwrap(), want);
}

#[test]
fn lora_training_step_lowers_the_loss_and_round_trips() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(d.path(), true, ComputeDtype::F32, 9);
    let base = load_qwen3::<CpuAutodiff>(&dir, ComputeDtype::F32, &Default::default()).unwrap();
    let cfg = LoraConfig::new(
        4,
        8.0,
        ModuleSelector::Names(vec!["q_proj".into(), "v_proj".into(), "up_proj".into()]),
    )
    .unwrap();
    let mut model = init_adapter(base, cfg, ComputeDtype::F32, 1).unwrap();
    let tokens = [1u32, 5, 9, 2, 33, 17, 8, 60];
    // Fresh adapter (B = 0): policy equals reference.
    let lp_ref = model.valid().logprobs_of(&tokens, false).unwrap();
    assert_eq!(model.valid().logprobs_of(&tokens, true).unwrap(), lp_ref);
    let mut optim = AdamWConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..5 {
        let loss = pg_loss(&model, &tokens, 1.0).unwrap();
        losses.push(loss.clone().into_data().to_vec::<f32>().unwrap()[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        assert_eq!(
            grads.len(),
            model.lora_param_ids().len(),
            "only adapter params get gradients"
        );
        model = optim.step(1e-2, model, grads);
    }
    assert!(losses[4] < losses[0] - 1e-3, "{losses:?}");
    // Reference (adapters off) unchanged by training; policy changed.
    let inner = model.valid();
    assert_eq!(inner.logprobs_of(&tokens, false).unwrap(), lp_ref);
    let trained = inner.logprobs_of(&tokens, true).unwrap();
    assert_ne!(trained, lp_ref);
    // Save as PEFT and load back into a fresh base.
    let out = d.path().join("adapter");
    save_adapter(&inner, &out).unwrap();
    let fresh = load_qwen3::<CpuBackend>(&dir, ComputeDtype::F32, &Default::default()).unwrap();
    let adapter = vigil_policy::lora::Adapter::load(&out).unwrap();
    let reloaded = vigil_policy::lora::apply_adapter(fresh, &adapter, ComputeDtype::F32).unwrap();
    let again = reloaded.logprobs_of(&tokens, true).unwrap();
    for (a, b) in again.iter().zip(&trained) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn full_fine_tuning_updates_every_parameter() {
    let d = tempfile::tempdir().unwrap();
    let dir = common::write_tiny(d.path(), false, ComputeDtype::F32, 10);
    let base = load_qwen3::<CpuAutodiff>(&dir, ComputeDtype::F32, &Default::default()).unwrap();
    let mut model = set_trainable(base, Trainable::All);
    let tokens = [4u32, 8, 15, 16, 23, 42];
    let mut optim = AdamWConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..4 {
        let loss = pg_loss(&model, &tokens, 1.0).unwrap();
        losses.push(loss.clone().into_data().to_vec::<f32>().unwrap()[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        // 1 embed + 2 layers × (4 norms + 7 projections) + final norm + lm_head.
        assert_eq!(grads.len(), 1 + 2 * 11 + 1 + 1);
        model = optim.step(1e-2, model, grads);
    }
    assert!(losses[3] < losses[0] - 1e-3, "{losses:?}");
}
