//! PEFT LoRA adapters: load, attach, create, save.
//!
//! The adapter lives inside the [`Qwen3`] module as factors on the targeted projections
//! (`x·Wᵀ + s·(x·Aᵀ)·Bᵀ`, never `W + s·B·A` while training). The reference policy is the same
//! module run with `adapters = false`, so policy and reference share one copy of the base.

mod config;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rand::Rng;

pub use config::{LoraConfig, ModuleSelector};

use crate::config::ComputeDtype;
use crate::error::{ModelError, Result};
use crate::model::{LoraAdapter, Qwen3};
use crate::safetensors::{FileDtype, SafetensorsReader, to_bytes};
use crate::train::{NamedTensors, lora_tensors};

/// File names of a PEFT adapter folder.
pub const ADAPTER_CONFIG: &str = "adapter_config.json";
/// Weights file of a PEFT adapter folder.
pub const ADAPTER_WEIGHTS: &str = "adapter_model.safetensors";

/// The PEFT tensor name of a factor: `base_model.model.<path>.<lora_A|lora_B>.weight`.
pub fn peft_key(module_path: &str, factor: &str) -> String {
    format!("base_model.model.{module_path}.{factor}.weight")
}

/// An adapter read from disk: its config and factors (f32, PEFT layout).
#[derive(Debug, Clone)]
pub struct Adapter {
    /// `adapter_config.json`.
    pub config: LoraConfig,
    /// Factors by PEFT name.
    pub tensors: NamedTensors,
    /// Where it was read from (for error messages).
    pub dir: PathBuf,
}

impl Adapter {
    /// Reads a PEFT adapter folder.
    pub fn load(dir: &Path) -> Result<Self> {
        let config = LoraConfig::from_file(&dir.join(ADAPTER_CONFIG))?;
        let path = dir.join(ADAPTER_WEIGHTS);
        let mut reader = SafetensorsReader::open(&path)?;
        let mut tensors = BTreeMap::new();
        for info in reader.tensors().to_vec() {
            let values = reader.read_f32(&info)?;
            tensors.insert(info.name.clone(), (info.shape.clone(), values));
        }
        Ok(Self {
            config,
            tensors,
            dir: dir.to_path_buf(),
        })
    }
}

/// HF module paths that exist in a Qwen3 but are not Linear layers (an adapter must not target
/// them; PEFT would refuse or do something we do not implement).
fn non_linear_modules<B: Backend>(m: &Qwen3<B>) -> Vec<String> {
    let mut out = vec![
        "model".to_string(),
        "model.embed_tokens".into(),
        "model.norm".into(),
        "model.rotary_emb".into(),
        "model.layers".into(),
    ];
    for l in 0..m.config.num_hidden_layers {
        let p = format!("model.layers.{l}");
        for s in [
            "",
            ".self_attn",
            ".mlp",
            ".mlp.act_fn",
            ".input_layernorm",
            ".post_attention_layernorm",
            ".self_attn.q_norm",
            ".self_attn.k_norm",
        ] {
            out.push(format!("{p}{s}"));
        }
    }
    out
}

/// Modules `config` targets in `model`, with rank and scale; errors if it targets something we
/// cannot adapt or nothing at all.
fn targeted<B: Backend>(
    model: &Qwen3<B>,
    config: &LoraConfig,
    file: &Path,
) -> Result<Vec<(String, usize, f64)>> {
    for name in non_linear_modules(model) {
        if config.targets(&name, false, false)
            && matches!(
                config.target_modules,
                ModuleSelector::Regex(_) | ModuleSelector::Names(_)
            )
        {
            return Err(ModelError::unsupported(
                file,
                "target_modules",
                format!("matches `{name}`, which is not a Linear layer"),
            ));
        }
    }
    if model.config.tie_word_embeddings && config.targets("lm_head", true, true) {
        return Err(ModelError::unsupported(
            file,
            "target_modules",
            "LoRA on the tied `lm_head` is not supported",
        ));
    }
    let out: Vec<_> = model
        .projections()
        .iter()
        .filter(|(path, _)| config.targets(path, true, path == "lm_head"))
        .map(|(path, _)| {
            let (r, s) = config.rank_and_scale(path);
            (path.clone(), r, s)
        })
        .collect();
    if out.is_empty() {
        return Err(ModelError::config(
            file,
            "target_modules",
            "matches no module of the model",
        ));
    }
    Ok(out)
}

fn factor<B: Backend>(
    values: Vec<f32>,
    shape: [usize; 2],
    dtype: ComputeDtype,
    device: &B::Device,
) -> Param<Tensor<B, 2>> {
    Param::from_tensor(Tensor::from_data(
        TensorData::new(values, shape),
        (device, dtype.dtype()),
    ))
}

/// Attaches `adapter` to `model` (factors in `dtype`); every factor must be present with the
/// shape the config implies, and the file may hold nothing else.
pub fn apply_adapter<B: Backend>(
    mut model: Qwen3<B>,
    adapter: &Adapter,
    dtype: ComputeDtype,
) -> Result<Qwen3<B>> {
    let file = adapter.dir.join(ADAPTER_WEIGHTS);
    let cfg_file = adapter.dir.join(ADAPTER_CONFIG);
    let targets = targeted(&model, &adapter.config, &cfg_file)?;
    let device = model.model.embed_tokens.val().device();
    let mut tensors = adapter.tensors.clone();
    let mut plan = BTreeMap::new();
    for (path, r, scale) in targets {
        let proj = model
            .projections()
            .into_iter()
            .find(|(p, _)| *p == path)
            .map(|(_, p)| p.out_in());
        let Some([out, inp]) = proj else { continue };
        let mut take = |kind: &str, expected: [usize; 2]| -> Result<Vec<f32>> {
            let key = peft_key(&path, kind);
            let (shape, values) =
                tensors
                    .remove(&key)
                    .ok_or_else(|| ModelError::MissingTensor {
                        path: file.clone(),
                        tensor: key.clone(),
                    })?;
            if shape != expected {
                return Err(ModelError::Shape {
                    path: file.clone(),
                    tensor: key,
                    found: shape,
                    expected: expected.to_vec(),
                });
            }
            Ok(values)
        };
        let a = take("lora_A", [r, inp])?;
        let b = take("lora_B", [out, r])?;
        plan.insert(path, (a, [r, inp], b, [out, r], scale));
    }
    check_saved_base_layers(&model, &mut tensors, &file)?;
    if let Some(extra) = tensors.keys().next() {
        return Err(ModelError::UnexpectedTensor {
            path: file,
            tensor: extra.clone(),
        });
    }
    for (path, p) in model.projections_mut() {
        if let Some((a, sa, b, sb, scale)) = plan.remove(&path) {
            p.lora = Some(LoraAdapter {
                lora_a: factor(a, sa, dtype, &device),
                lora_b: factor(b, sb, dtype, &device),
                scale,
            });
        }
    }
    model.lora = Some(adapter.config.clone());
    Ok(crate::train::set_trainable(
        model,
        crate::train::Trainable::Adapters,
    ))
}

/// PEFT saves the base weight of an adapted `lm_head`/embedding as
/// `base_model.model.<path>.base_layer.weight` (`save_embedding_layers`). We accept such a tensor
/// only when it equals the base weight (the usual case); a different one would replace base
/// weights, which an adapter-only load does not do, so it is rejected by name.
fn check_saved_base_layers<B: Backend>(
    model: &Qwen3<B>,
    tensors: &mut NamedTensors,
    file: &Path,
) -> Result<()> {
    let saved: Vec<String> = tensors
        .keys()
        .filter(|k| k.ends_with(".base_layer.weight"))
        .cloned()
        .collect();
    for key in saved {
        let path = key
            .trim_start_matches("base_model.model.")
            .trim_end_matches(".base_layer.weight");
        let Some((_, proj)) = model.projections().into_iter().find(|(p, _)| p == path) else {
            continue;
        };
        let Some((shape, values)) = tensors.remove(&key) else {
            continue;
        };
        let w = proj.hf_weight();
        let dims = w.dims().to_vec();
        if shape != dims {
            return Err(ModelError::Shape {
                path: file.into(),
                tensor: key,
                found: shape,
                expected: dims,
            });
        }
        let base = w
            .cast(burn::tensor::DType::F32)
            .into_data()
            .to_vec::<f32>()
            .unwrap_or_default();
        let tol = if model.dtype == burn::tensor::DType::F32 {
            1e-6
        } else {
            1e-2
        };
        if base
            .iter()
            .zip(&values)
            .any(|(a, b)| (a - b).abs() > tol * (1.0 + a.abs()))
        {
            return Err(ModelError::unsupported(
                file,
                &key,
                "the adapter carries a different base weight for this module (PEFT save_embedding_layers); not supported",
            ));
        }
    }
    Ok(())
}

/// Attaches a fresh adapter initialised like PEFT (`A ~ U(±1/√in)`, `B = 0`, so the policy
/// starts equal to the base), seeded.
pub fn init_adapter<B: Backend>(
    mut model: Qwen3<B>,
    config: LoraConfig,
    dtype: ComputeDtype,
    seed: u64,
) -> Result<Qwen3<B>> {
    let targets = targeted(&model, &config, Path::new("<lora config>"))?;
    let device = model.model.embed_tokens.val().device();
    let mut rng = vigil_core::rng_from_seed(seed);
    let plan: BTreeMap<String, (usize, f64)> =
        targets.into_iter().map(|(p, r, s)| (p, (r, s))).collect();
    for (path, p) in model.projections_mut() {
        if let Some(&(r, scale)) = plan.get(&path) {
            let [out, inp] = p.out_in();
            let bound = 1.0 / (inp as f32).sqrt();
            let a: Vec<f32> = (0..r * inp)
                .map(|_| rng.random_range(-bound..bound))
                .collect();
            p.lora = Some(LoraAdapter {
                lora_a: factor(a, [r, inp], dtype, &device),
                lora_b: factor(vec![0.0; out * r], [out, r], dtype, &device),
                scale,
            });
        }
    }
    model.lora = Some(config);
    Ok(crate::train::set_trainable(
        model,
        crate::train::Trainable::Adapters,
    ))
}

/// Writes the model's adapter as a PEFT folder (`adapter_config.json` +
/// `adapter_model.safetensors`, f32), each file atomically.
pub fn save_adapter<B: Backend>(model: &Qwen3<B>, dir: &Path) -> Result<()> {
    let config = model
        .lora
        .as_ref()
        .ok_or_else(|| ModelError::Input("the model has no adapter to save".into()))?;
    let tensors = lora_tensors(model);
    let bytes = to_bytes(&tensors, FileDtype::F32);
    let weights = dir.join(ADAPTER_WEIGHTS);
    vigil_core::write_atomic(&weights, &bytes).map_err(|e| ModelError::io(&weights, e))?;
    let cfg = dir.join(ADAPTER_CONFIG);
    vigil_core::write_json_atomic(&cfg, &config.to_json()).map_err(|e| ModelError::io(&cfg, e))?;
    Ok(())
}
