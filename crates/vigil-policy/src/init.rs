//! `exp model init`: a random Qwen3 of any shape written as a real Hugging Face folder
//! (config.json + model.safetensors), for tests, benches and the quickstart.
//!
//! Tensors are generated and written one at a time (a multi-GB checkpoint needs only one
//! tensor in memory), each from its own seed derived from the run seed and the tensor name.

use std::path::Path;

use rand::Rng;

use crate::config::{ComputeDtype, Qwen3Config};
use crate::error::{ModelError, Result};
use crate::names::expected_tensors;
use crate::safetensors::{TensorSpec, write_streaming};

/// What to generate.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Shape and options of the model.
    pub config: Qwen3Config,
    /// On-disk dtype.
    pub dtype: ComputeDtype,
    /// Seed for every tensor.
    pub seed: u64,
    /// Std of the normal init of weight matrices (transformers uses 0.02).
    pub std: f32,
}

fn normal(rng: &mut impl Rng) -> f32 {
    // Box–Muller; avoids a distribution crate for one formula.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Values of one tensor: matrices ~ N(0, std²); norm weights ~ 1 + N(0, 0.1²) (perturbed
/// from transformers' all-ones so that a misapplied norm weight shows up in parity tests);
/// biases ~ N(0, std²).
pub fn init_values(name: &str, numel: usize, seed: u64, std: f32) -> Vec<f32> {
    let mut rng = vigil_core::rng_from_seed(vigil_core::derive_seed(seed, name, 0));
    if name.ends_with("norm.weight") {
        (0..numel).map(|_| 1.0 + 0.1 * normal(&mut rng)).collect()
    } else {
        (0..numel).map(|_| std * normal(&mut rng)).collect()
    }
}

/// Writes `config.json` and `model.safetensors` into `dir` (created if needed).
pub fn write_random_checkpoint(dir: &Path, opts: &InitOptions) -> Result<()> {
    if !(opts.std.is_finite() && opts.std > 0.0) {
        return Err(ModelError::Input(format!(
            "init std must be > 0, got {}",
            opts.std
        )));
    }
    let tensors = expected_tensors(&opts.config);
    let specs: Vec<TensorSpec> = tensors
        .iter()
        .map(|(name, shape)| TensorSpec {
            name: name.clone(),
            dtype: opts.dtype.into(),
            shape: shape.clone(),
        })
        .collect();
    write_streaming(&dir.join("model.safetensors"), &specs, |i| {
        let (name, shape) = &tensors[i];
        init_values(name, shape.iter().product(), opts.seed, opts.std)
    })?;
    let cfg = dir.join("config.json");
    vigil_core::write_json_atomic(&cfg, &opts.config.to_hf_json(opts.dtype))
        .map_err(|e| ModelError::io(&cfg, e))?;
    Ok(())
}
