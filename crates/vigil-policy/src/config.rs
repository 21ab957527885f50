//! Qwen3 `config.json`: parsed from the Hugging Face file, validated once, then trusted.
//!
//! Unknown-but-harmless HF fields (`architectures`, `transformers_version`, `use_cache`, ...) are
//! ignored; options that would change the computation and that we do not implement (sliding
//! windows, RoPE scaling, another activation) are rejected here so the model code can assume a
//! plain Qwen3.

use std::path::{Path, PathBuf};

use burn::tensor::DType;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{ModelError, Result};

/// Floating-point type used for weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ComputeDtype {
    /// 32-bit float (CPU default; what the parity tests use).
    #[default]
    #[serde(alias = "float32")]
    F32,
    /// bfloat16 (GPU default; Qwen3's on-disk type).
    #[serde(alias = "bfloat16")]
    Bf16,
    /// IEEE half.
    #[serde(alias = "float16")]
    F16,
}

impl ComputeDtype {
    /// burn's dtype.
    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::Bf16 => DType::BF16,
            Self::F16 => DType::F16,
        }
    }
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::Bf16 | Self::F16 => 2,
        }
    }
    /// The name transformers writes in `torch_dtype`.
    pub fn torch_name(self) -> &'static str {
        match self {
            Self::F32 => "float32",
            Self::Bf16 => "bfloat16",
            Self::F16 => "float16",
        }
    }
    /// Parses `f32`/`float32`/`bf16`/`bfloat16`/`f16`/`float16`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "f32" | "float32" => Some(Self::F32),
            "bf16" | "bfloat16" => Some(Self::Bf16),
            "f16" | "float16" => Some(Self::F16),
            _ => None,
        }
    }
}

/// The Qwen3 hyper-parameters that matter for the computation.
#[derive(Debug, Clone, PartialEq)]
pub struct Qwen3Config {
    /// Vocabulary size (rows of `embed_tokens`).
    pub vocab_size: usize,
    /// Residual width.
    pub hidden_size: usize,
    /// SwiGLU inner width.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (GQA); divides `num_attention_heads`.
    pub num_key_value_heads: usize,
    /// Per-head width; its own field in Qwen3 (4B: 128 while hidden/heads = 80).
    pub head_dim: usize,
    /// RoPE base.
    pub rope_theta: f64,
    /// RMSNorm epsilon (all norms, including q/k norms).
    pub rms_norm_eps: f64,
    /// `lm_head` shares `embed_tokens`' weight.
    pub tie_word_embeddings: bool,
    /// q/k/v/o projections carry biases.
    pub attention_bias: bool,
    /// Longest context the checkpoint was trained for.
    pub max_position_embeddings: usize,
    /// On-disk dtype declared by the checkpoint (`torch_dtype` or `dtype`), if any.
    pub torch_dtype: Option<ComputeDtype>,
    /// End-of-sequence ids from config.json (stop tokens for generation).
    pub eos_token_ids: Vec<u32>,
    /// Beginning-of-sequence id, if declared.
    pub bos_token_id: Option<u32>,
}

fn in_memory() -> PathBuf {
    PathBuf::from("<config>")
}

impl Qwen3Config {
    /// A config for a model built in code (tests, `exp model init`); validated like a file.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vocab_size: usize,
        hidden_size: usize,
        intermediate_size: usize,
        num_hidden_layers: usize,
        num_attention_heads: usize,
        num_key_value_heads: usize,
        head_dim: usize,
        tie_word_embeddings: bool,
    ) -> Result<Self> {
        let c = Self {
            vocab_size,
            hidden_size,
            intermediate_size,
            num_hidden_layers,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            rope_theta: 1_000_000.0,
            rms_norm_eps: 1e-6,
            tie_word_embeddings,
            attention_bias: false,
            max_position_embeddings: 40_960,
            torch_dtype: None,
            eos_token_ids: Vec::new(),
            bos_token_id: None,
        };
        c.validate(&in_memory())?;
        Ok(c)
    }

    /// Reads and validates `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: path.into(),
            source,
        })?;
        Self::from_json(&value, path)
    }

    /// Parses a config.json value; `path` is only used in error messages.
    pub fn from_json(value: &Value, path: &Path) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| {
            ModelError::config(path, "<root>", "config.json must be a JSON object")
        })?;
        let f = Fields { obj, path };
        f.reject_unsupported()?;
        let hidden_size = f.usize("hidden_size", None)?;
        let num_attention_heads = f.usize("num_attention_heads", None)?;
        let head_dim_default = if num_attention_heads > 0 {
            hidden_size / num_attention_heads
        } else {
            0
        };
        let rope_theta = match obj.get("rope_theta") {
            Some(v) if !v.is_null() => f.float_value("rope_theta", v)?,
            _ => match obj.get("rope_parameters") {
                Some(Value::Object(p)) => match p.get("rope_theta") {
                    Some(v) => f.float_value("rope_parameters.rope_theta", v)?,
                    None => 10_000.0,
                },
                _ => 10_000.0,
            },
        };
        let dtype_field = match obj.get("dtype") {
            Some(Value::String(s)) => Some(("dtype", s.as_str())),
            _ => match obj.get("torch_dtype") {
                Some(Value::String(s)) => Some(("torch_dtype", s.as_str())),
                _ => None,
            },
        };
        let torch_dtype = match dtype_field {
            Some((field, s)) => Some(ComputeDtype::parse(s).ok_or_else(|| {
                ModelError::unsupported(
                    path,
                    field,
                    format!("dtype `{s}` (expected bfloat16, float16 or float32)"),
                )
            })?),
            None => None,
        };
        let c = Self {
            vocab_size: f.usize("vocab_size", None)?,
            hidden_size,
            intermediate_size: f.usize("intermediate_size", None)?,
            num_hidden_layers: f.usize("num_hidden_layers", None)?,
            num_attention_heads,
            num_key_value_heads: f.usize("num_key_value_heads", Some(num_attention_heads))?,
            head_dim: f.usize("head_dim", Some(head_dim_default))?,
            rope_theta,
            rms_norm_eps: f.float("rms_norm_eps", 1e-6)?,
            tie_word_embeddings: f.bool("tie_word_embeddings", false)?,
            attention_bias: f.bool("attention_bias", false)?,
            max_position_embeddings: f.usize("max_position_embeddings", Some(32_768))?,
            torch_dtype,
            eos_token_ids: f.ids("eos_token_id")?,
            bos_token_id: f.ids("bos_token_id")?.first().copied(),
        };
        c.validate(path)?;
        Ok(c)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("head_dim", self.head_dim),
        ];
        for (field, v) in positive {
            if v == 0 {
                return Err(ModelError::config(path, field, "must be > 0"));
            }
        }
        if self.num_attention_heads % self.num_key_value_heads != 0 {
            return Err(ModelError::config(
                path,
                "num_key_value_heads",
                format!(
                    "{} does not divide num_attention_heads = {}",
                    self.num_key_value_heads, self.num_attention_heads
                ),
            ));
        }
        if self.head_dim % 2 != 0 {
            return Err(ModelError::config(
                path,
                "head_dim",
                "must be even (rotary embedding)",
            ));
        }
        if !(self.rope_theta.is_finite() && self.rope_theta > 0.0) {
            return Err(ModelError::config(
                path,
                "rope_theta",
                "must be a positive number",
            ));
        }
        if !(self.rms_norm_eps.is_finite() && self.rms_norm_eps > 0.0) {
            return Err(ModelError::config(
                path,
                "rms_norm_eps",
                "must be a positive number",
            ));
        }
        if u32::try_from(self.vocab_size).is_err() {
            return Err(ModelError::config(
                path,
                "vocab_size",
                "does not fit token ids (u32)",
            ));
        }
        Ok(())
    }

    /// Number of parameters (weights the checkpoint must hold).
    pub fn num_params(&self) -> usize {
        crate::names::expected_tensors(self)
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }

    /// The config.json transformers writes for this model (loadable by `AutoModelForCausalLM`).
    pub fn to_hf_json(&self, dtype: ComputeDtype) -> Value {
        let mut v = json!({
            "architectures": ["Qwen3ForCausalLM"],
            "model_type": "qwen3",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "rope_scaling": null,
            "attention_bias": self.attention_bias,
            "attention_dropout": 0.0,
            "use_sliding_window": false,
            "sliding_window": null,
            "max_window_layers": self.num_hidden_layers,
            "tie_word_embeddings": self.tie_word_embeddings,
            "initializer_range": 0.02,
            "use_cache": true,
            "torch_dtype": dtype.torch_name(),
        });
        if let Some(map) = v.as_object_mut() {
            if let Some(b) = self.bos_token_id {
                map.insert("bos_token_id".into(), json!(b));
            }
            match self.eos_token_ids.as_slice() {
                [] => {}
                [one] => {
                    map.insert("eos_token_id".into(), json!(one));
                }
                many => {
                    map.insert("eos_token_id".into(), json!(many));
                }
            }
        }
        v
    }
}

/// Typed access to config.json fields with errors that name the field.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    path: &'a Path,
}

impl Fields<'_> {
    fn usize(&self, field: &str, default: Option<usize>) -> Result<usize> {
        match self.obj.get(field) {
            Some(Value::Number(n)) => {
                n.as_u64()
                    .and_then(|v| usize::try_from(v).ok())
                    .ok_or_else(|| {
                        ModelError::config(
                            self.path,
                            field,
                            format!("expected a non-negative integer, got {n}"),
                        )
                    })
            }
            None | Some(Value::Null) => {
                default.ok_or_else(|| ModelError::config(self.path, field, "missing (required)"))
            }
            Some(other) => Err(ModelError::config(
                self.path,
                field,
                format!("expected an integer, got {other}"),
            )),
        }
    }
    fn float_value(&self, field: &str, v: &Value) -> Result<f64> {
        v.as_f64().ok_or_else(|| {
            ModelError::config(self.path, field, format!("expected a number, got {v}"))
        })
    }
    fn float(&self, field: &str, default: f64) -> Result<f64> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => self.float_value(field, v),
        }
    }
    fn bool(&self, field: &str, default: bool) -> Result<bool> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(ModelError::config(
                self.path,
                field,
                format!("expected true/false, got {other}"),
            )),
        }
    }
    fn ids(&self, field: &str) -> Result<Vec<u32>> {
        let one = |v: &Value| {
            v.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(|| {
                    ModelError::config(self.path, field, format!("expected a token id, got {v}"))
                })
        };
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(one).collect(),
            Some(v) => Ok(vec![one(v)?]),
        }
    }

    /// Options that change the math and are not implemented: rejected, never ignored.
    fn reject_unsupported(&self) -> Result<()> {
        let path = self.path;
        if let Some(Value::String(t)) = self.obj.get("model_type") {
            if t != "qwen3" {
                return Err(ModelError::unsupported(
                    path,
                    "model_type",
                    format!("`{t}` (only `qwen3` is implemented)"),
                ));
            }
        }
        if let Some(v) = self.obj.get("hidden_act") {
            if v.as_str() != Some("silu") {
                return Err(ModelError::unsupported(
                    path,
                    "hidden_act",
                    format!("{v} (only `silu`)"),
                ));
            }
        }
        if self.bool("use_sliding_window", false)? {
            return Err(ModelError::unsupported(
                path,
                "use_sliding_window",
                "sliding-window attention is not implemented",
            ));
        }
        if let Some(Value::Array(types)) = self.obj.get("layer_types") {
            if let Some(t) = types.iter().find(|t| t.as_str() != Some("full_attention")) {
                return Err(ModelError::unsupported(
                    path,
                    "layer_types",
                    format!("layer type {t} (only full_attention)"),
                ));
            }
        }
        if let Some(v) = self.obj.get("rope_scaling") {
            if !v.is_null() {
                return Err(ModelError::unsupported(
                    path,
                    "rope_scaling",
                    format!("{v} (only plain RoPE)"),
                ));
            }
        }
        if let Some(Value::Object(p)) = self.obj.get("rope_parameters") {
            if let Some(t) = p.get("rope_type") {
                if t.as_str() != Some("default") {
                    return Err(ModelError::unsupported(
                        path,
                        "rope_parameters.rope_type",
                        format!("{t} (only `default`)"),
                    ));
                }
            }
            if let Some(k) = p
                .keys()
                .find(|k| !matches!(k.as_str(), "rope_type" | "rope_theta"))
            {
                return Err(ModelError::unsupported(
                    path,
                    &format!("rope_parameters.{k}"),
                    "RoPE scaling is not implemented",
                ));
            }
        }
        Ok(())
    }
}
