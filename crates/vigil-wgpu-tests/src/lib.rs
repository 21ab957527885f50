//! Test-only crate: its `tests/` run the Qwen3 and the trainer on burn's wgpu backend (the
//! cubecl kernels the `cuda` backend shares) and compare them with the CPU backend. Build with
//! `--features wgpu`; without it the tests compile to nothing.
