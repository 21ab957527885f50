//! What `exp bench model --device wgpu` runs (`vigil_policy::ops::bench`): prefill, KV-cached
//! decode and a LoRA training step on the wgpu device. Lavapipe's speed means nothing; that
//! every phase runs and reports does.

use vigil_policy::bench::{BenchOptions, TrainMode};
use vigil_policy::ops::{ModelSpec, bench};
use vigil_policy::{ComputeDtype, DeviceKind};

use crate::common::device;
use crate::reference::case;

#[test]
fn bench_model_runs_on_wgpu() {
    if device("bench_model_runs_on_wgpu").is_none() {
        return;
    }
    let (dir, _) = case("tied");
    let spec = ModelSpec {
        model: dir.to_str().unwrap().into(),
        adapter: None,
        dtype: ComputeDtype::F32,
        device: DeviceKind::Wgpu,
    };
    let opts = BenchOptions {
        batch: 2,
        prompt: 6,
        new: 3,
        iters: 1,
        train: Some(TrainMode::Lora),
    };
    let r = bench(&spec, &opts).unwrap();
    for (k, v) in [
        ("prefill", r.prefill_tok_s),
        ("decode", r.decode_tok_s),
        ("train", r.train_step_s.unwrap()),
    ] {
        assert!(v.is_finite() && v > 0.0, "{k}: {r:?}");
    }
    assert!(r.weight_bytes > 0 && r.kv_cache_bytes > 0, "{r:?}");
}
