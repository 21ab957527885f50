//! The parts of `tokenizer_config.json`, `chat_template.jinja` and `generation_config.json` that
//! rendering and stopping need.
//!
//! These are third-party files with many keys that vary between models and transformers
//! versions, so unknown keys are ignored here (unlike our own configs); the keys we do read are
//! checked and a bad value is an error naming the file and field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Result, TokenizerError};

/// What we use from `tokenizer_config.json` (plus `chat_template.jinja` when present).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenizerConfig {
    /// The Jinja chat template source, if the folder has one.
    pub chat_template: Option<String>,
    /// The file the template was read from (for error messages).
    pub chat_template_path: Option<PathBuf>,
    /// `eos_token` (string form).
    pub eos_token: Option<String>,
    /// `pad_token` (string form).
    pub pad_token: Option<String>,
    /// `bos_token` (string form).
    pub bos_token: Option<String>,
    /// `added_tokens_decoder`: id → token text, checked against `tokenizer.json` on load.
    pub added_tokens: BTreeMap<u32, String>,
}

/// What we use from `generation_config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerationConfig {
    /// `eos_token_id`, a number or a list in the file; always a list here.
    pub eos_token_ids: Vec<u32>,
    /// `pad_token_id`.
    pub pad_token_id: Option<u32>,
    /// `bos_token_id`.
    pub bos_token_id: Option<u32>,
}

#[derive(Deserialize)]
struct RawTokenizerConfig {
    #[serde(default)]
    chat_template: Option<Value>,
    #[serde(default)]
    eos_token: Option<Value>,
    #[serde(default)]
    pad_token: Option<Value>,
    #[serde(default)]
    bos_token: Option<Value>,
    #[serde(default)]
    added_tokens_decoder: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RawGenerationConfig {
    #[serde(default)]
    eos_token_id: Option<Value>,
    #[serde(default)]
    pad_token_id: Option<Value>,
    #[serde(default)]
    bos_token_id: Option<Value>,
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| TokenizerError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| TokenizerError::json(path, e))
}

impl TokenizerConfig {
    /// Reads `dir/tokenizer_config.json` (absent: an empty config) and `dir/chat_template.jinja`
    /// (which, as in transformers, takes precedence over the JSON's `chat_template`).
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer_config.json");
        let mut config = if path.is_file() {
            Self::parse(&path, read_json(&path)?)?
        } else {
            Self::default()
        };
        let jinja = dir.join("chat_template.jinja");
        if jinja.is_file() {
            let text =
                std::fs::read_to_string(&jinja).map_err(|e| TokenizerError::io(&jinja, e))?;
            config.chat_template = Some(text);
            config.chat_template_path = Some(jinja);
        }
        Ok(config)
    }

    fn parse(path: &Path, raw: RawTokenizerConfig) -> Result<Self> {
        let chat_template = match raw.chat_template {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            // Several named templates: transformers uses the one named "default".
            Some(Value::Array(items)) => Some(default_named_template(path, &items)?),
            Some(_) => {
                return Err(TokenizerError::field(
                    path,
                    "chat_template",
                    "expected a string or a list",
                ));
            }
        };
        let mut added_tokens = BTreeMap::new();
        for (id, entry) in raw.added_tokens_decoder {
            let field = format!("added_tokens_decoder.{id}");
            let id: u32 = id
                .parse()
                .map_err(|_| TokenizerError::field(path, &field, "key is not a token id"))?;
            let content = entry
                .get("content")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    TokenizerError::field(
                        path,
                        format!("{field}.content"),
                        "missing or not a string",
                    )
                })?;
            added_tokens.insert(id, content.to_string());
        }
        Ok(Self {
            chat_template_path: chat_template.as_ref().map(|_| path.to_path_buf()),
            chat_template,
            eos_token: token_text(path, "eos_token", raw.eos_token)?,
            pad_token: token_text(path, "pad_token", raw.pad_token)?,
            bos_token: token_text(path, "bos_token", raw.bos_token)?,
            added_tokens,
        })
    }
}

fn default_named_template(path: &Path, items: &[Value]) -> Result<String> {
    for item in items {
        if item.get("name").and_then(Value::as_str) == Some("default")
            && let Some(t) = item.get("template").and_then(Value::as_str)
        {
            return Ok(t.to_string());
        }
    }
    Err(TokenizerError::field(
        path,
        "chat_template",
        "a list of templates without one named \"default\"",
    ))
}

/// A special token is written either as a string or as `{"content": ..., ...}` (AddedToken).
fn token_text(path: &Path, field: &str, value: Option<Value>) -> Result<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Object(map)) => match map.get("content") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(TokenizerError::field(
                path,
                format!("{field}.content"),
                "missing or not a string",
            )),
        },
        Some(_) => Err(TokenizerError::field(
            path,
            field,
            "expected a string or an object with `content`",
        )),
    }
}

impl GenerationConfig {
    /// Reads `dir/generation_config.json`; `None` when the folder has none.
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join("generation_config.json");
        if !path.is_file() {
            return Ok(None);
        }
        let raw: RawGenerationConfig = read_json(&path)?;
        let eos_token_ids = match raw.eos_token_id {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| token_id(&path, &format!("eos_token_id[{i}]"), v))
                .collect::<Result<_>>()?,
            Some(v) => vec![token_id(&path, "eos_token_id", &v)?],
        };
        let optional = |field: &str, v: Option<Value>| match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => token_id(&path, field, &v).map(Some),
        };
        Ok(Some(Self {
            eos_token_ids,
            pad_token_id: optional("pad_token_id", raw.pad_token_id)?,
            bos_token_id: optional("bos_token_id", raw.bos_token_id)?,
        }))
    }
}

fn token_id(path: &Path, field: &str, v: &Value) -> Result<u32> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            TokenizerError::field(path, field, format!("expected a token id, found {v}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn reads_string_and_object_tokens_and_named_templates() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "tokenizer_config.json",
            r#"{"eos_token": {"content": "<e>", "lstrip": false}, "pad_token": "<p>", "bos_token": null,
                "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
                "added_tokens_decoder": {"7": {"content": "<e>", "special": true}}, "other": 1}"#,
        );
        let c = TokenizerConfig::load(dir.path()).unwrap();
        assert_eq!(c.eos_token.as_deref(), Some("<e>"));
        assert_eq!(c.pad_token.as_deref(), Some("<p>"));
        assert_eq!(c.bos_token, None);
        assert_eq!(c.chat_template.as_deref(), Some("D"));
        assert_eq!(c.added_tokens.get(&7).map(String::as_str), Some("<e>"));
        // chat_template.jinja wins.
        write(dir.path(), "chat_template.jinja", "J");
        let c = TokenizerConfig::load(dir.path()).unwrap();
        assert_eq!(c.chat_template.as_deref(), Some("J"));
        assert!(
            c.chat_template_path
                .unwrap()
                .ends_with("chat_template.jinja")
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "tokenizer_config.json", r#"{"eos_token": 5}"#);
        let err = TokenizerConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("eos_token"),
            "{err}"
        );
        write(dir.path(), "tokenizer_config.json", r#"{"eos_token": "#);
        let err = TokenizerConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("line 1"),
            "{err}"
        );
        write(
            dir.path(),
            "generation_config.json",
            r#"{"eos_token_id": [1, "x"]}"#,
        );
        let err = GenerationConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("generation_config.json") && err.contains("eos_token_id[1]"),
            "{err}"
        );
    }

    #[test]
    fn eos_id_may_be_a_number_or_a_list() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(GenerationConfig::load(dir.path()).unwrap(), None);
        write(
            dir.path(),
            "generation_config.json",
            r#"{"eos_token_id": 3, "pad_token_id": 0}"#,
        );
        let g = GenerationConfig::load(dir.path()).unwrap().unwrap();
        assert_eq!((g.eos_token_ids, g.pad_token_id), (vec![3], Some(0)));
        write(
            dir.path(),
            "generation_config.json",
            r#"{"eos_token_id": [5, 4]}"#,
        );
        assert_eq!(
            GenerationConfig::load(dir.path())
                .unwrap()
                .unwrap()
                .eos_token_ids,
            vec![5, 4]
        );
    }
}
