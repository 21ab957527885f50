//! Qwen3 (burn, CPU/Flex) throughput.
//!
//! Run: `cargo bench -p vigil-benches --bench qwen3`.
//!
//! The model is a random Qwen3 written by `write_random_checkpoint` into
//! `$TMPDIR/vigil-qwen3-bench` (vocab 4096, hidden 256, 4 layers, 8 heads / 4 kv heads,
//! head_dim 32, intermediate 704, tied), so the PyTorch side can be measured on the very same
//! folder in the same session:
//! `tools/.venv/bin/python tools/qwen3_reference/qwen3_reference.py bench --model $TMPDIR/vigil-qwen3-bench --seq-len 128 --threads 2`.
//!
//! Groups: `qwen3_forward` (prefill of 1×128 tokens, throughput in tokens), `qwen3_decode`
//! (32 greedy tokens after a 16-token prompt with the KV cache), `qwen3_lora_step`
//! (LoRA r=8 on q/k/v/o: forward + backward + AdamW on 1×128 tokens).

use std::collections::HashSet;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_policy::burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use vigil_policy::lora::{LoraConfig, ModuleSelector, init_adapter};
use vigil_policy::{
    ComputeDtype, CpuAutodiff, CpuBackend, GenerateOptions, InitOptions, Qwen3Config, Sampler,
    SamplingConfig, load_qwen3, pg_loss, token_tensor, write_random_checkpoint,
};

fn bench_model() -> PathBuf {
    let dir = std::env::temp_dir().join("vigil-qwen3-bench");
    if !dir.join("model.safetensors").is_file() {
        let config = Qwen3Config::new(4096, 256, 704, 4, 8, 4, 32, true).expect("config");
        let opts = InitOptions {
            config,
            dtype: ComputeDtype::F32,
            seed: 0,
            std: 0.02,
        };
        write_random_checkpoint(&dir, &opts).expect("write bench model");
    }
    dir
}

fn tokens(n: usize) -> Vec<u32> {
    (0..n as u32)
        .map(|i| i.wrapping_mul(2654435761u32.wrapping_add(7)) % 4096)
        .collect()
}

fn forward(c: &mut Criterion) {
    let dir = bench_model();
    let device = Default::default();
    let model = load_qwen3::<CpuBackend>(&dir, ComputeDtype::F32, &device).expect("load");
    let seq = tokens(128);
    let mut g = c.benchmark_group("qwen3_forward");
    g.throughput(Throughput::Elements(seq.len() as u64));
    g.sample_size(20);
    g.bench_function("prefill_1x128_f32", |b| {
        b.iter(|| {
            let t = token_tensor::<CpuBackend>(&[seq.clone()], seq.len(), &[0], 4096, &device)
                .expect("tokens");
            // Reading the result back synchronizes the backend.
            black_box(model.forward(t, &[0], true).into_data())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("qwen3_decode");
    g.throughput(Throughput::Elements(32));
    g.sample_size(10);
    let prompt = tokens(16);
    let opts = GenerateOptions {
        max_new_tokens: 32,
        stop_tokens: HashSet::new(),
        use_cache: true,
        adapters: true,
    };
    g.bench_function("greedy_32_after_16_kv_cache", |b| {
        b.iter(|| {
            let mut s = vec![Sampler::new(SamplingConfig::Greedy, 0).expect("sampler")];
            black_box(
                model
                    .generate(&[prompt.clone()], &mut s, &opts)
                    .expect("generate"),
            )
        })
    });
    g.finish();
}

fn lora_step(c: &mut Criterion) {
    let dir = bench_model();
    let base =
        load_qwen3::<CpuAutodiff>(&dir, ComputeDtype::F32, &Default::default()).expect("load");
    let targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
        .map(String::from)
        .to_vec();
    let cfg = LoraConfig::new(8, 16.0, ModuleSelector::Names(targets)).expect("lora");
    let mut model = Some(init_adapter(base, cfg, ComputeDtype::F32, 0).expect("adapter"));
    let mut optim = AdamWConfig::new().init();
    let seq = tokens(128);
    let mut g = c.benchmark_group("qwen3_lora_step");
    g.throughput(Throughput::Elements(seq.len() as u64));
    g.sample_size(10);
    g.bench_function("fwd_bwd_adamw_1x128_r8_qkvo", |b| {
        b.iter(|| {
            let m = model.take().expect("model");
            let loss = pg_loss(&m, &seq, 1.0).expect("loss");
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            model = Some(optim.step(1e-4, m, grads));
        })
    });
    g.finish();
}

criterion_group!(benches, forward, lora_step);
criterion_main!(benches);
