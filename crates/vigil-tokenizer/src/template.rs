//! Which chat-template logic a tokenizer folder gets.
//!
//! Templates are rendered by Rust code, not by a Jinja engine, so a folder's template source is
//! only used to pick the implementation. A template we do not implement is an error when a chat
//! is rendered, rather than a prompt in the wrong format.

use std::path::{Path, PathBuf};

use crate::error::{Result, TokenizerError};
use crate::message::Message;
use crate::qwen3::{self, ChatOptions, QWEN3_CHAT_TEMPLATE};
use crate::rendered::Rendered;

/// A chat-template implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTemplateKind {
    /// Qwen3 (`<|im_start|>` turns, `<think>` reasoning, `enable_thinking`, tool calls).
    Qwen3,
}

/// The template of a loaded folder: its implementation and whether its source is exactly the one
/// the implementation was verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTemplate {
    /// Which implementation renders it.
    pub kind: ChatTemplateKind,
    /// True when the source equals the template text the implementation mirrors; false for a
    /// recognized variant (for instance a later revision of the Qwen3 template).
    pub exact: bool,
    /// The file the source came from.
    pub path: PathBuf,
}

impl ChatTemplate {
    /// Picks the implementation for `source` read from `path`.
    pub fn detect(source: &str, path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        if source.trim_end() == QWEN3_CHAT_TEMPLATE.trim_end() {
            return Ok(Self {
                kind: ChatTemplateKind::Qwen3,
                exact: true,
                path,
            });
        }
        let qwen3_like = [
            "<|im_start|>",
            "last_query_index",
            "enable_thinking",
            "<think>",
        ]
        .iter()
        .all(|marker| source.contains(marker));
        if qwen3_like {
            tracing::warn!(
                file = %path.display(),
                "chat template differs from the Qwen3 template vigil-tokenizer mirrors; rendering it \
                 with the Qwen3 logic (check prompts against transformers)"
            );
            return Ok(Self {
                kind: ChatTemplateKind::Qwen3,
                exact: false,
                path,
            });
        }
        Err(TokenizerError::ChatTemplate {
            path,
            reason: "unsupported chat template: only the Qwen3 template is implemented".into(),
        })
    }

    /// Renders a conversation (transformers' `apply_chat_template(..., tokenize=False)`).
    pub fn render(&self, messages: &[Message], options: &ChatOptions) -> Result<String> {
        Ok(self.render_marked(messages, options)?.text)
    }

    /// Renders a conversation and records where the template (not the content) wrote
    /// special-token markers; see [`Rendered`].
    pub fn render_marked(&self, messages: &[Message], options: &ChatOptions) -> Result<Rendered> {
        match self.kind {
            ChatTemplateKind::Qwen3 => qwen3::render(messages, options),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_qwen3_exactly_and_rejects_others() {
        let p = Path::new("tokenizer_config.json");
        let t = ChatTemplate::detect(QWEN3_CHAT_TEMPLATE, p).unwrap();
        assert_eq!((t.kind, t.exact), (ChatTemplateKind::Qwen3, true));
        let variant = QWEN3_CHAT_TEMPLATE.replace("{%- endfor %}", "{%- endfor -%}");
        assert!(!ChatTemplate::detect(&variant, p).unwrap().exact);
        let llama = "{% for m in messages %}<|start_header_id|>{{ m.role }}{% endfor %}";
        let err = ChatTemplate::detect(llama, p).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("unsupported"),
            "{err}"
        );
    }
}
