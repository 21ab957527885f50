//! Qwen3 parity on wgpu at the CPU suite's tolerances, with the CPU suite's own checks
//! (vigil-policy/tests/support/reference.rs): logits and log-probs ≤ 1e-4 from PyTorch's,
//! greedy tokens identical with and without the KV cache, LoRA gradients ≤ 1e-3 relative L2
//! from autograd's; plus the same numbers ≤ those tolerances from burn's CPU backend run on the
//! same weights.

use vigil_policy::burn::prelude::Backend;
use vigil_policy::lora::{Adapter, apply_adapter};
use vigil_policy::{ComputeDtype, CpuAutodiff, CpuBackend, WgpuAutodiff, WgpuBackend, load_qwen3};

use crate::common::device;
use crate::reference::{
    GRAD_TOL, TOL, case, check_case, check_grads, floats, ids, max_abs, rel_l2,
};

/// The reference checks on wgpu, then wgpu's logits and log-probs against the CPU backend's.
fn check_f32(name: &str) {
    let Some(dev) = device(name) else { return };
    check_case::<WgpuBackend>(name, &dev);
    let (dir, r) = case(name);
    let tokens = ids(&r["tokens"]);
    let adapter = Adapter::load(&dir.join("adapter")).unwrap();
    let cpu = load_qwen3::<CpuBackend>(&dir, ComputeDtype::F32, &Default::default()).unwrap();
    let cpu = apply_adapter(cpu, &adapter, ComputeDtype::F32).unwrap();
    let gpu = load_qwen3::<WgpuBackend>(&dir, ComputeDtype::F32, &dev).unwrap();
    let gpu = apply_adapter(gpu, &adapter, ComputeDtype::F32).unwrap();
    for adapters in [false, true] {
        let d = max_abs(
            &gpu.logits_of(&tokens, adapters).unwrap().concat(),
            &cpu.logits_of(&tokens, adapters).unwrap().concat(),
        );
        assert!(
            d <= TOL,
            "{name} (adapters {adapters}): logits differ from the CPU backend's by {d}"
        );
        let d = max_abs(
            &gpu.logprobs_of(&tokens, adapters).unwrap(),
            &cpu.logprobs_of(&tokens, adapters).unwrap(),
        );
        assert!(
            d <= TOL,
            "{name} (adapters {adapters}): log-probs differ from the CPU backend's by {d}"
        );
    }
}

/// The gradient checks on wgpu and on the CPU, then the two against each other.
fn check_grads_vs_cpu(name: &str) {
    let Some(dev) = device(name) else { return };
    let (loss, got) = check_grads::<WgpuAutodiff>(name, &dev);
    let (cpu_loss, cpu) = check_grads::<CpuAutodiff>(name, &Default::default());
    assert!(
        (loss - cpu_loss).abs() < TOL,
        "loss {loss} vs CPU {cpu_loss}"
    );
    for (k, (_, g)) in &got {
        let e = rel_l2(g, &cpu[k].1);
        assert!(
            e <= GRAD_TOL,
            "{k}: relative L2 error {e} from the CPU backend"
        );
    }
}

#[test]
fn tied_f32_matches_transformers_and_cpu() {
    check_f32("tied");
}

#[test]
fn untied_bf16_file_f32_compute_matches_transformers_and_cpu() {
    check_f32("untied");
}

#[test]
fn tied_lora_gradients_match_autograd_and_cpu() {
    check_grads_vs_cpu("tied");
}

#[test]
fn untied_lora_gradients_match_autograd_and_cpu() {
    check_grads_vs_cpu("untied");
}

/// Unit roundoff of a half-precision compute dtype: bf16 keeps 8 significand bits (u = 2⁻⁸),
/// f16 keeps 11 (u = 2⁻¹¹).
fn unit_roundoff(dtype: ComputeDtype) -> f32 {
    match dtype {
        ComputeDtype::Bf16 => 2f32.powi(-8),
        ComputeDtype::F16 => 2f32.powi(-11),
        ComputeDtype::F32 => f32::EPSILON / 2.0,
    }
}

/// Half-precision weights and compute (the GPU default, bf16) on wgpu vs the CPU backend in the
/// same dtype, both measured against PyTorch's f32 logits.
///
/// Tolerance: every stored weight and activation is rounded to the dtype (relative error ≤ u),
/// and the two backends round at different points (a GPU matmul accumulates a tile in f32 and
/// rounds once; the CPU rounds per op), so neither is "the" half-precision answer. What both
/// must show is the size of error rounding explains: each of the L layers adds a few roundings
/// of the residual stream (attention and MLP outputs, two norms), so the logits' error from f32
/// is O(L·u) of the logit scale. We allow 8·L·u·max(1, max|logit|) — bf16 with L = 2:
/// 0.0625 of the scale — and require wgpu's error to be within twice the CPU's plus u of the
/// scale, i.e. wgpu is no worse than the CPU backend's own rounding in that dtype.
/// A device that cannot compute in the dtype (lavapipe and every WGSL device have no bf16)
/// must refuse it with `ModelError::DeviceDtype` rather than panic in the kernel compiler.
fn check_half(name: &str, dtype: ComputeDtype) {
    let label = format!("{name} {dtype:?}");
    let Some(dev) = device(&label) else { return };
    let (dir, r) = case(name);
    if !WgpuBackend::supports_dtype(&dev, dtype.dtype()) {
        let e = load_qwen3::<WgpuBackend>(&dir, dtype, &dev).unwrap_err();
        assert!(
            matches!(e, vigil_policy::ModelError::DeviceDtype { .. }),
            "{e}"
        );
        eprintln!(
            "*** SKIPPED: {label}: this wgpu device has no general {dtype:?} arithmetic; load refuses it: {e} ***"
        );
        return;
    }
    let tokens = ids(&r["tokens"]);
    let want: Vec<f32> = r["base"]["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    let scale = want.iter().fold(1f32, |m, x| m.max(x.abs()));
    let layers = 2.0;
    let u = unit_roundoff(dtype);
    let cpu = load_qwen3::<CpuBackend>(&dir, dtype, &Default::default()).unwrap();
    let gpu = load_qwen3::<WgpuBackend>(&dir, dtype, &dev).unwrap();
    let e_cpu = max_abs(&cpu.logits_of(&tokens, false).unwrap().concat(), &want);
    let e_gpu = max_abs(&gpu.logits_of(&tokens, false).unwrap().concat(), &want);
    eprintln!(
        "{label}: max |logit − f32 reference|: cpu {e_cpu:e}, wgpu {e_gpu:e} (scale {scale})"
    );
    assert!(
        e_gpu <= 8.0 * layers * u * scale,
        "{label}: wgpu error {e_gpu} beyond rounding"
    );
    assert!(
        e_gpu <= 2.0 * e_cpu + u * scale,
        "{label}: wgpu error {e_gpu} vs the CPU's {e_cpu}"
    );
    let lp = gpu.logprobs_of(&tokens, false).unwrap();
    let d = max_abs(&lp, &floats(&r["base"]["logprobs"]));
    assert!(
        d <= 8.0 * layers * u * scale,
        "{label}: log-probs differ by {d}"
    );
}

#[test]
fn tied_bf16_compute_matches_cpu_within_rounding() {
    check_half("tied", ComputeDtype::Bf16);
}

#[test]
fn untied_bf16_compute_matches_cpu_within_rounding() {
    check_half("untied", ComputeDtype::Bf16);
}

#[test]
fn tied_f16_compute_matches_cpu_within_rounding() {
    check_half("tied", ComputeDtype::F16);
}
