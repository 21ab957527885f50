//! Parity with PyTorch/transformers/peft on committed tiny checkpoints
//! (made by tools/qwen3_reference/qwen3_reference.py make-all): logits and log-probs ≤ 1e-4,
//! greedy 16 tokens identical with and without KV cache, LoRA gradients ≤ 1e-3 relative L2.
//! The checks live in `support/reference.rs` (shared with the wgpu suite).

#[path = "support/reference.rs"]
mod reference;

use vigil_policy::{CpuAutodiff, CpuBackend};

#[test]
fn tied_matches_transformers() {
    reference::check_case::<CpuBackend>("tied", &Default::default());
}

#[test]
fn untied_bf16_file_matches_transformers() {
    reference::check_case::<CpuBackend>("untied", &Default::default());
}

#[test]
fn tied_lora_gradients_match_autograd() {
    reference::check_grads::<CpuAutodiff>("tied", &Default::default());
}

#[test]
fn untied_lora_gradients_match_autograd() {
    reference::check_grads::<CpuAutodiff>("untied", &Default::default());
}
