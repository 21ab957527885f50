//! The GPU code path on burn's wgpu backend (cubecl kernels, the ones `cuda` shares) against
//! the CPU backend and the committed PyTorch references, on whatever Vulkan adapter exists:
//! Mesa lavapipe in CI. Without an adapter every test prints `*** SKIPPED: … ***` and passes, unless the
//! environment variable `CI` is set (then a missing adapter fails).

#![cfg(feature = "wgpu")]
#![allow(clippy::print_stderr)]

mod bench;
mod common;
mod parity;
#[path = "../../../vigil-policy/tests/support/reference.rs"]
mod reference;
mod train;
