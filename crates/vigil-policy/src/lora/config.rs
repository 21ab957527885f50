//! PEFT `adapter_config.json` for LoRA: parsed, validated, and matched against module paths
//! with PEFT's own rules.
//!
//! Options that change the math are honoured (`r`, `lora_alpha`, `use_rslora`, `rank_pattern`,
//! `alpha_pattern`, `target_modules` as list / regex / `"all-linear"`, `exclude_modules`) or
//! rejected with a clear error (`fan_in_fan_out`, `bias != "none"`, `modules_to_save`,
//! `use_dora`, `layers_to_transform`, ...). Informational keys are ignored; an unknown key is
//! accepted only while it holds a "nothing" value (null, false, 0, "", [], {}).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::error::{ModelError, Result};

/// Which modules an adapter targets (PEFT `target_modules` / `exclude_modules`).
#[derive(Debug, Clone)]
pub enum ModuleSelector {
    /// Names matched exactly or as a `.`-separated suffix (`"q_proj"` matches `…self_attn.q_proj`).
    Names(Vec<String>),
    /// A regex that must match the whole module path.
    Regex(Regex),
    /// Every Linear except the output head (`"all-linear"`).
    AllLinear,
}

impl ModuleSelector {
    fn parse(v: &Value, path: &Path, field: &str) -> Result<Option<Self>> {
        Ok(match v {
            Value::Null => None,
            Value::String(s) if s == "all-linear" => Some(Self::AllLinear),
            Value::String(s) => Some(Self::Regex(
                Regex::new(&format!("^(?:{s})$"))
                    .map_err(|e| ModelError::config(path, field, format!("bad regex: {e}")))?,
            )),
            Value::Array(items) => Some(Self::Names(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or_else(|| ModelError::config(path, field, "expected a list of strings"))?,
            )),
            other => {
                return Err(ModelError::config(
                    path,
                    field,
                    format!("expected a list or a regex string, got {other}"),
                ));
            }
        })
    }

    /// True when `module` (an HF module path) is selected. `is_linear` says whether the module
    /// is a Linear layer, `is_head` whether it is the output head.
    pub fn matches(&self, module: &str, is_linear: bool, is_head: bool) -> bool {
        match self {
            Self::Names(names) => names
                .iter()
                .any(|n| module == n || module.ends_with(&format!(".{n}"))),
            Self::Regex(re) => re.is_match(module),
            Self::AllLinear => is_linear && !is_head,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Names(n) => json!(n),
            Self::Regex(re) => {
                let s = re.as_str();
                json!(
                    s.strip_prefix("^(?:")
                        .and_then(|s| s.strip_suffix(")$"))
                        .unwrap_or(s)
                )
            }
            Self::AllLinear => json!("all-linear"),
        }
    }
}

/// A validated LoRA adapter config.
#[derive(Debug, Clone)]
pub struct LoraConfig {
    /// Default rank.
    pub r: usize,
    /// Default alpha.
    pub lora_alpha: f64,
    /// Scale by `alpha/√r` instead of `alpha/r`.
    pub use_rslora: bool,
    /// Targeted modules.
    pub target_modules: ModuleSelector,
    /// Modules excluded even if targeted.
    pub exclude_modules: Option<ModuleSelector>,
    /// Per-module ranks (PEFT key pattern → r).
    pub rank_pattern: BTreeMap<String, usize>,
    /// Per-module alphas (PEFT key pattern → alpha).
    pub alpha_pattern: BTreeMap<String, f64>,
    /// Dropout on the LoRA input during training (not applied by this implementation).
    pub lora_dropout: f64,
    /// The JSON this config was read from, written back unchanged on save.
    pub raw: Option<Map<String, Value>>,
}

/// Keys that do not affect the forward pass of a loaded adapter.
const INFORMATIONAL: [&str; 12] = [
    "base_model_name_or_path",
    "revision",
    "task_type",
    "inference_mode",
    "auto_mapping",
    "init_lora_weights",
    "lora_dropout",
    "megatron_config",
    "megatron_core",
    "peft_version",
    "runtime_config",
    "qalora_group_size",
];

/// Keys that must hold a "nothing" value: each is a feature we do not implement.
const REJECTED_UNLESS_EMPTY: [&str; 12] = [
    "fan_in_fan_out",
    "modules_to_save",
    "use_dora",
    "layers_to_transform",
    "layers_pattern",
    "layer_replication",
    "lora_bias",
    "target_parameters",
    "trainable_token_indices",
    "use_qalora",
    "alora_invocation_tokens",
    "loftq_config",
];

fn is_nothing(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

impl LoraConfig {
    /// A fresh config (for training a new adapter).
    pub fn new(r: usize, lora_alpha: f64, target_modules: ModuleSelector) -> Result<Self> {
        let c = Self {
            r,
            lora_alpha,
            use_rslora: false,
            target_modules,
            exclude_modules: None,
            rank_pattern: BTreeMap::new(),
            alpha_pattern: BTreeMap::new(),
            lora_dropout: 0.0,
            raw: None,
        };
        if r == 0 {
            return Err(ModelError::config("<lora>", "r", "must be > 0"));
        }
        Ok(c)
    }

    /// Reads `adapter_config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: path.into(),
            source,
        })?;
        Self::from_json(&v, path)
    }

    /// Parses an adapter config value; `path` names the file in errors.
    pub fn from_json(v: &Value, path: &Path) -> Result<Self> {
        let obj = v
            .as_object()
            .ok_or_else(|| ModelError::config(path, "<root>", "must be a JSON object"))?;
        let get = |k: &str| obj.get(k).unwrap_or(&Value::Null);
        let p: PathBuf = path.into();
        if let Some(t) = obj.get("peft_type").filter(|t| !t.is_null()) {
            if t.as_str() != Some("LORA") {
                return Err(ModelError::unsupported(
                    &p,
                    "peft_type",
                    format!("{t} (only LORA)"),
                ));
            }
        }
        if let Some(b) = obj.get("bias").filter(|b| !b.is_null()) {
            if b.as_str() != Some("none") {
                return Err(ModelError::unsupported(
                    &p,
                    "bias",
                    format!("{b} (only \"none\")"),
                ));
            }
        }
        for k in REJECTED_UNLESS_EMPTY {
            if let Some(v) = obj.get(k).filter(|v| !is_nothing(v)) {
                return Err(ModelError::unsupported(
                    &p,
                    k,
                    format!("{v} is not supported"),
                ));
            }
        }
        let known = [
            "peft_type",
            "bias",
            "r",
            "lora_alpha",
            "use_rslora",
            "target_modules",
            "exclude_modules",
            "rank_pattern",
            "alpha_pattern",
        ];
        for (k, v) in obj {
            let listed = known.contains(&k.as_str())
                || INFORMATIONAL.contains(&k.as_str())
                || REJECTED_UNLESS_EMPTY.contains(&k.as_str());
            if !listed && !is_nothing(v) {
                return Err(ModelError::unsupported(
                    &p,
                    k,
                    format!("unknown adapter option with value {v}"),
                ));
            }
        }
        let uint = |k: &str, d: usize| -> Result<usize> {
            match get(k) {
                Value::Null => Ok(d),
                v => v
                    .as_u64()
                    .filter(|&x| x > 0)
                    .map(|x| x as usize)
                    .ok_or_else(|| {
                        ModelError::config(&p, k, format!("expected a positive integer, got {v}"))
                    }),
            }
        };
        let num = |k: &str, d: f64| -> Result<f64> {
            match get(k) {
                Value::Null => Ok(d),
                v => v.as_f64().ok_or_else(|| {
                    ModelError::config(&p, k, format!("expected a number, got {v}"))
                }),
            }
        };
        let target_modules = ModuleSelector::parse(get("target_modules"), &p, "target_modules")?
            .ok_or_else(|| ModelError::config(&p, "target_modules", "missing (required)"))?;
        let exclude_modules = ModuleSelector::parse(get("exclude_modules"), &p, "exclude_modules")?;
        let mut rank_pattern = BTreeMap::new();
        if let Value::Object(m) = get("rank_pattern") {
            for (k, v) in m {
                let r = v.as_u64().filter(|&x| x > 0).ok_or_else(|| {
                    ModelError::config(
                        &p,
                        &format!("rank_pattern.{k}"),
                        "expected a positive integer",
                    )
                })?;
                rank_pattern.insert(k.clone(), r as usize);
            }
        }
        let mut alpha_pattern = BTreeMap::new();
        if let Value::Object(m) = get("alpha_pattern") {
            for (k, v) in m {
                let a = v.as_f64().ok_or_else(|| {
                    ModelError::config(&p, &format!("alpha_pattern.{k}"), "expected a number")
                })?;
                alpha_pattern.insert(k.clone(), a);
            }
        }
        let use_rslora = match get("use_rslora") {
            Value::Null => false,
            Value::Bool(b) => *b,
            v => {
                return Err(ModelError::config(
                    &p,
                    "use_rslora",
                    format!("expected true/false, got {v}"),
                ));
            }
        };
        let lora_dropout = num("lora_dropout", 0.0)?;
        if lora_dropout > 0.0 {
            tracing::warn!(file = %p.display(), lora_dropout, "LoRA dropout is not applied by vigil-policy");
        }
        Ok(Self {
            r: uint("r", 8)?,
            lora_alpha: num("lora_alpha", 8.0)?,
            use_rslora,
            target_modules,
            exclude_modules,
            rank_pattern,
            alpha_pattern,
            lora_dropout,
            raw: Some(obj.clone()),
        })
    }

    /// True when the adapter applies to `module`.
    pub fn targets(&self, module: &str, is_linear: bool, is_head: bool) -> bool {
        self.target_modules.matches(module, is_linear, is_head)
            && !self
                .exclude_modules
                .as_ref()
                .is_some_and(|e| e.matches(module, is_linear, is_head))
    }

    /// Rank and scale for `module`, honouring the patterns and rsLoRA.
    pub fn rank_and_scale(&self, module: &str) -> (usize, f64) {
        let r = pattern_lookup(&self.rank_pattern, module)
            .copied()
            .unwrap_or(self.r);
        let alpha = pattern_lookup(&self.alpha_pattern, module)
            .copied()
            .unwrap_or(self.lora_alpha);
        let scale = if self.use_rslora {
            alpha / (r as f64).sqrt()
        } else {
            alpha / r as f64
        };
        (r, scale)
    }

    /// The JSON to write as `adapter_config.json`.
    pub fn to_json(&self) -> Value {
        if let Some(raw) = &self.raw {
            return Value::Object(raw.clone());
        }
        json!({
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "r": self.r,
            "lora_alpha": self.lora_alpha,
            "lora_dropout": self.lora_dropout,
            "use_rslora": self.use_rslora,
            "target_modules": self.target_modules.to_json(),
            "exclude_modules": self.exclude_modules.as_ref().map(ModuleSelector::to_json),
            "rank_pattern": self.rank_pattern,
            "alpha_pattern": self.alpha_pattern,
            "bias": "none",
            "fan_in_fan_out": false,
            "modules_to_save": null,
            "use_dora": false,
            "layers_to_transform": null,
            "layers_pattern": null,
            "init_lora_weights": true,
            "inference_mode": true,
        })
    }
}

/// PEFT's pattern lookup: an exact key first, then a key that matches a `.`-suffix as a regex.
fn pattern_lookup<'a, T>(patterns: &'a BTreeMap<String, T>, module: &str) -> Option<&'a T> {
    if let Some(v) = patterns.get(module) {
        return Some(v);
    }
    patterns.iter().find_map(|(k, v)| {
        Regex::new(&format!("^(?:.*\\.)?(?:{k})$"))
            .ok()
            .filter(|re| re.is_match(module))
            .map(|_| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<LoraConfig> {
        LoraConfig::from_json(&v, Path::new("adapter_config.json"))
    }

    #[test]
    fn targets_follow_peft_rules() {
        let c =
            parse(json!({"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "mlp.up_proj"]}))
                .unwrap();
        assert!(c.targets("model.layers.0.self_attn.q_proj", true, false));
        assert!(c.targets("model.layers.3.mlp.up_proj", true, false));
        assert!(!c.targets("model.layers.0.self_attn.k_proj", true, false));
        let re = parse(json!({"r": 4, "target_modules": r".*\.(k|v)_proj"})).unwrap();
        assert!(re.targets("model.layers.1.self_attn.v_proj", true, false));
        assert!(!re.targets("model.layers.1.self_attn.q_proj", true, false));
        let all = parse(
            json!({"r": 4, "target_modules": "all-linear", "exclude_modules": ["down_proj"]}),
        )
        .unwrap();
        assert!(all.targets("model.layers.1.mlp.gate_proj", true, false));
        assert!(!all.targets("model.layers.1.mlp.down_proj", true, false));
        assert!(!all.targets("lm_head", true, true));
    }

    #[test]
    fn patterns_and_rslora_set_rank_and_scale() {
        let c = parse(
            json!({"r": 4, "lora_alpha": 8, "target_modules": ["q_proj"],
            "rank_pattern": {"layers.1.self_attn.q_proj": 2}, "alpha_pattern": {"q_proj": 6}}),
        )
        .unwrap();
        assert_eq!(
            c.rank_and_scale("model.layers.0.self_attn.q_proj"),
            (4, 1.5)
        );
        assert_eq!(
            c.rank_and_scale("model.layers.1.self_attn.q_proj"),
            (2, 3.0)
        );
        let rs = parse(
            json!({"r": 4, "lora_alpha": 8, "use_rslora": true, "target_modules": ["q_proj"]}),
        )
        .unwrap();
        assert_eq!(rs.rank_and_scale("x.q_proj"), (4, 4.0));
    }

    #[test]
    fn unsupported_options_are_named() {
        for (k, v) in [
            ("fan_in_fan_out", json!(true)),
            ("bias", json!("all")),
            ("modules_to_save", json!(["lm_head"])),
            ("use_dora", json!(true)),
            ("peft_type", json!("IA3")),
            ("mystery_option", json!(3)),
        ] {
            let mut m = json!({"r": 4, "target_modules": ["q_proj"]});
            m.as_object_mut().unwrap().insert(k.into(), v);
            let e = parse(m).unwrap_err().to_string();
            assert!(e.contains(k), "{e}");
        }
        assert!(
            parse(json!({"r": 4}))
                .unwrap_err()
                .to_string()
                .contains("target_modules")
        );
        assert!(parse(json!({"r": 4, "target_modules": ["q_proj"], "mystery": null})).is_ok());
    }
}
