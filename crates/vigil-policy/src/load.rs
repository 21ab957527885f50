//! Loading a Hugging Face Qwen3 folder into a [`Qwen3`] module.
//!
//! Shards are streamed one tensor at a time and converted to the compute dtype while reading;
//! the module is then assembled from the converted tensors, so peak memory is the model in its
//! compute dtype plus one read buffer. Every tensor is checked against the table in
//! [`crate::names`]: unknown, duplicate, mis-shaped or missing tensors are errors.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use serde_json::Value;

use crate::config::{ComputeDtype, Qwen3Config};
use crate::error::{ModelError, Result};
use crate::model::{Attention, DecoderLayer, Mlp, Proj, Qwen3, Qwen3Body, RmsNorm};
use crate::names::{expected_tensors, is_projection_weight};
use crate::safetensors::SafetensorsReader;

/// The safetensors files of a checkpoint folder: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json`.
pub fn checkpoint_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    if index.is_file() {
        let text = std::fs::read_to_string(&index).map_err(|e| ModelError::io(&index, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: index.clone(),
            source,
        })?;
        let map = v
            .get("weight_map")
            .and_then(Value::as_object)
            .ok_or_else(|| ModelError::config(&index, "weight_map", "missing or not an object"))?;
        let mut files = BTreeSet::new();
        for (tensor, file) in map {
            let f = file
                .as_str()
                .filter(|f| !f.contains('/') && !f.contains('\\') && *f != ".." && !f.is_empty())
                .ok_or_else(|| {
                    ModelError::config(
                        &index,
                        &format!("weight_map.{tensor}"),
                        "must be a file name",
                    )
                })?;
            files.insert(f.to_string());
        }
        let paths: Vec<PathBuf> = files.into_iter().map(|f| dir.join(f)).collect();
        if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
            return Err(ModelError::io(
                missing,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "shard listed in the index is missing",
                ),
            ));
        }
        return Ok(paths);
    }
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    Err(ModelError::NotFound {
        spec: dir.display().to_string(),
        message: "no model.safetensors or model.safetensors.index.json in the folder".into(),
    })
}

enum Loaded<B: Backend> {
    D1(Tensor<B, 1>),
    D2(Tensor<B, 2>),
}

struct Store<B: Backend> {
    dir: PathBuf,
    tensors: HashMap<String, Loaded<B>>,
}

impl<B: Backend> Store<B> {
    fn missing(&self, name: &str) -> ModelError {
        ModelError::MissingTensor {
            path: self.dir.clone(),
            tensor: name.into(),
        }
    }
    fn d1(&mut self, name: &str) -> Result<Tensor<B, 1>> {
        match self.tensors.remove(name) {
            Some(Loaded::D1(t)) => Ok(t),
            _ => Err(self.missing(name)),
        }
    }
    fn d2(&mut self, name: &str) -> Result<Tensor<B, 2>> {
        match self.tensors.remove(name) {
            Some(Loaded::D2(t)) => Ok(t),
            _ => Err(self.missing(name)),
        }
    }
    fn proj(&mut self, prefix: &str, bias: bool) -> Result<Proj<B>> {
        let w = self.d2(&format!("{prefix}.weight"))?;
        let b = if bias {
            Some(self.d1(&format!("{prefix}.bias"))?)
        } else {
            None
        };
        Ok(Proj::new(w, b))
    }
    fn norm(&mut self, prefix: &str, eps: f64) -> Result<RmsNorm<B>> {
        Ok(RmsNorm::new(self.d1(&format!("{prefix}.weight"))?, eps))
    }
}

/// Loads the checkpoint in `dir` (see [`crate::resolve_model_dir`] for ids) in `dtype`.
///
/// All base weights are frozen (`require_grad = false`); see [`crate::Trainable`] to choose what
/// an autodiff backend trains.
pub fn load_qwen3<B: Backend>(
    dir: &Path,
    dtype: ComputeDtype,
    device: &B::Device,
) -> Result<Qwen3<B>> {
    let config = Qwen3Config::from_file(&dir.join("config.json"))?;
    // A GPU backend without the dtype would panic in its kernel compiler at the first op
    // (cubecl's WGSL compiler has no bf16); refuse it here with a typed error instead.
    if dtype != ComputeDtype::F32 && !B::supports_dtype(device, dtype.dtype()) {
        return Err(ModelError::DeviceDtype {
            dtype: dtype.torch_name().into(),
        });
    }
    let expected: HashMap<String, Vec<usize>> = expected_tensors(&config).into_iter().collect();
    let mut store = Store::<B> {
        dir: dir.to_path_buf(),
        tensors: HashMap::with_capacity(expected.len()),
    };
    for file in checkpoint_files(dir)? {
        let mut reader = SafetensorsReader::open(&file)?;
        let infos = reader.tensors().to_vec();
        for info in infos {
            let Some(shape) = expected.get(&info.name) else {
                if info.name == "lm_head.weight" && config.tie_word_embeddings {
                    tracing::debug!(file = %file.display(), "ignoring lm_head.weight of a tied checkpoint");
                    continue;
                }
                return Err(ModelError::UnexpectedTensor {
                    path: file,
                    tensor: info.name,
                });
            };
            if store.tensors.contains_key(&info.name) {
                return Err(ModelError::Tensor {
                    path: file,
                    tensor: info.name,
                    message: "appears twice in the checkpoint".into(),
                });
            }
            if &info.shape != shape {
                return Err(ModelError::Shape {
                    path: file,
                    tensor: info.name,
                    found: info.shape,
                    expected: shape.clone(),
                });
            }
            let data: TensorData = if is_projection_weight(&info.name) {
                reader.read_transposed(&info, dtype)?
            } else {
                reader.read(&info, dtype)?
            };
            let t = match shape.len() {
                1 => Loaded::D1(Tensor::from_data(data, (device, dtype.dtype()))),
                _ => Loaded::D2(Tensor::from_data(data, (device, dtype.dtype()))),
            };
            store.tensors.insert(info.name, t);
        }
        tracing::debug!(file = %file.display(), "loaded shard");
    }
    let mut names: Vec<&String> = expected
        .keys()
        .filter(|k| !store.tensors.contains_key(*k))
        .collect();
    names.sort();
    if let Some(first) = names.first() {
        return Err(store.missing(first));
    }
    assemble(config, dtype, store)
}

fn assemble<B: Backend>(
    config: Qwen3Config,
    dtype: ComputeDtype,
    mut s: Store<B>,
) -> Result<Qwen3<B>> {
    let eps = config.rms_norm_eps;
    let bias = config.attention_bias;
    let mut layers = Vec::with_capacity(config.num_hidden_layers);
    for l in 0..config.num_hidden_layers {
        let p = format!("model.layers.{l}");
        let self_attn = Attention {
            q_proj: s.proj(&format!("{p}.self_attn.q_proj"), bias)?,
            k_proj: s.proj(&format!("{p}.self_attn.k_proj"), bias)?,
            v_proj: s.proj(&format!("{p}.self_attn.v_proj"), bias)?,
            o_proj: s.proj(&format!("{p}.self_attn.o_proj"), bias)?,
            q_norm: s.norm(&format!("{p}.self_attn.q_norm"), eps)?,
            k_norm: s.norm(&format!("{p}.self_attn.k_norm"), eps)?,
            heads: config.num_attention_heads,
            kv_heads: config.num_key_value_heads,
            head_dim: config.head_dim,
        };
        let mlp = Mlp {
            gate_proj: s.proj(&format!("{p}.mlp.gate_proj"), false)?,
            up_proj: s.proj(&format!("{p}.mlp.up_proj"), false)?,
            down_proj: s.proj(&format!("{p}.mlp.down_proj"), false)?,
        };
        layers.push(DecoderLayer {
            input_layernorm: s.norm(&format!("{p}.input_layernorm"), eps)?,
            self_attn,
            post_attention_layernorm: s.norm(&format!("{p}.post_attention_layernorm"), eps)?,
            mlp,
        });
    }
    let model = Qwen3Body {
        embed_tokens: Param::from_tensor(s.d2("model.embed_tokens.weight")?),
        layers,
        norm: s.norm("model.norm", eps)?,
    };
    let lm_head = if config.tie_word_embeddings {
        None
    } else {
        Some(s.proj("lm_head", false)?)
    };
    let m = Qwen3 {
        model,
        lm_head,
        config,
        dtype: dtype.dtype(),
        lora: None,
    };
    Ok(crate::train::set_trainable(
        m,
        crate::train::Trainable::Nothing,
    ))
}
