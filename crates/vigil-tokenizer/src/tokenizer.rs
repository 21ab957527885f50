//! [`ChatTokenizer`]: a Hugging Face tokenizer folder loaded once, giving text ↔ ids, chat
//! rendering and the stop tokens a sampler needs.

use std::path::{Path, PathBuf};

use crate::config::{GenerationConfig, TokenizerConfig};
use crate::error::{Result, TokenizerError};
use crate::hub::resolve_model_dir;
use crate::message::Message;
use crate::qwen3::ChatOptions;
use crate::template::ChatTemplate;

/// Token texts that end an assistant turn in Qwen-style vocabularies; always stop tokens when
/// the vocabulary has them, whatever the config files say.
const ALWAYS_STOP: [&str; 2] = ["<|im_end|>", "<|endoftext|>"];

/// A tokenizer folder (`tokenizer.json`, optional `tokenizer_config.json`,
/// `chat_template.jinja` and `generation_config.json`), ready to encode, decode and render chats.
#[derive(Debug, Clone)]
pub struct ChatTokenizer {
    inner: tokenizers::Tokenizer,
    /// The same tokenizer with special tokens split as text (`split_special_tokens=True`), for
    /// untrusted text.
    split: tokenizers::Tokenizer,
    dir: PathBuf,
    config: TokenizerConfig,
    template: Option<ChatTemplate>,
    stop_ids: Vec<u32>,
    eos_id: Option<u32>,
    pad_id: Option<u32>,
}

impl ChatTokenizer {
    /// Loads a folder, or a model id from the local HF cache (see [`resolve_model_dir`]).
    pub fn load(spec: &str) -> Result<Self> {
        Self::from_dir(&resolve_model_dir(spec)?)
    }

    /// Loads the tokenizer files in `dir`; a missing `tokenizer.json`, malformed config or a
    /// special token absent from the vocabulary is an error naming the file and field.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(TokenizerError::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no tokenizer.json in this folder",
                ),
            ));
        }
        let inner =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| TokenizerError::TokenizerFile {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let config = TokenizerConfig::load(dir)?;
        let generation = GenerationConfig::load(dir)?;
        let config_path = dir.join("tokenizer_config.json");

        for (&id, content) in &config.added_tokens {
            if inner.token_to_id(content) != Some(id) {
                return Err(TokenizerError::field(
                    &config_path,
                    format!("added_tokens_decoder.{id}"),
                    format!("`{content}` has a different id in tokenizer.json"),
                ));
            }
        }
        let lookup = |field: &str, token: &Option<String>| -> Result<Option<u32>> {
            match token {
                None => Ok(None),
                Some(t) => inner.token_to_id(t).map(Some).ok_or_else(|| {
                    TokenizerError::field(
                        &config_path,
                        field,
                        format!("`{t}` is not in the vocabulary"),
                    )
                }),
            }
        };
        let eos_id = lookup("eos_token", &config.eos_token)?;
        let pad_id = lookup("pad_token", &config.pad_token)?;
        lookup("bos_token", &config.bos_token)?;

        let vocab = inner.get_vocab_size(true);
        let mut stop_ids: Vec<u32> = ALWAYS_STOP
            .iter()
            .filter_map(|t| inner.token_to_id(t))
            .collect();
        stop_ids.extend(eos_id);
        if let Some(g) = &generation {
            for (i, &id) in g.eos_token_ids.iter().enumerate() {
                if id as usize >= vocab && inner.id_to_token(id).is_none() {
                    return Err(TokenizerError::field(
                        dir.join("generation_config.json"),
                        format!("eos_token_id[{i}]"),
                        format!("id {id} is outside the vocabulary ({vocab} tokens)"),
                    ));
                }
                stop_ids.push(id);
            }
        }
        let mut seen = std::collections::HashSet::new();
        stop_ids.retain(|id| seen.insert(*id));
        if stop_ids.is_empty() {
            tracing::warn!(dir = %dir.display(), "tokenizer has no stop token; generation will only stop on length");
        }

        let template = match (&config.chat_template, &config.chat_template_path) {
            (Some(source), Some(path)) => Some(ChatTemplate::detect(source, path)?),
            _ => None,
        };
        let mut split = inner.clone();
        split.set_encode_special_tokens(true);
        Ok(Self {
            inner,
            split,
            dir: dir.to_path_buf(),
            config,
            template,
            stop_ids,
            eos_id,
            pad_id,
        })
    }

    /// Text → ids. `add_special_tokens` applies the tokenizer's post-processor (what
    /// `tokenizer(text)` does in transformers; Qwen adds nothing). Special-token text such as
    /// `<|im_end|>` becomes the special token, as transformers' default does: use
    /// [`encode_untrusted`](Self::encode_untrusted) for text from users or environments.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        Self::encode_with(&self.inner, text, add_special_tokens)
    }

    /// Untrusted text → ids: special-token text is encoded as ordinary characters, never as the
    /// special token (transformers' `split_special_tokens=True`). Non-special added tokens such
    /// as `<think>` are still matched, as there.
    pub fn encode_untrusted(&self, text: &str) -> Result<Vec<u32>> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        Self::encode_with(&self.split, text, false)
    }

    fn encode_with(
        t: &tokenizers::Tokenizer,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Vec<u32>> {
        t.encode_fast(text, add_special_tokens)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| TokenizerError::Codec {
                op: "encode",
                message: e.to_string(),
            })
    }

    /// Ids → text; `skip_special_tokens` drops tokens flagged special (e.g. `<|im_end|>`).
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| TokenizerError::Codec {
                op: "decode",
                message: e.to_string(),
            })
    }

    /// Renders a conversation as transformers' `apply_chat_template(tokenize=False)` does.
    pub fn render_chat(&self, messages: &[Message], options: &ChatOptions) -> Result<String> {
        self.chat_template()?.render(messages, options)
    }

    /// Renders and encodes a conversation. Only the markers the template writes become special
    /// tokens; special-token text inside messages, tool results or tool schemas stays text (see
    /// [`Rendered`](crate::Rendered)). Without such text the ids equal `apply_chat_template(tokenize=True)`'s;
    /// with it they equal what transformers gives with `split_special_tokens=True`.
    pub fn encode_chat(&self, messages: &[Message], options: &ChatOptions) -> Result<Vec<u32>> {
        let rendered = self.chat_template()?.render_marked(messages, options)?;
        let mut ids = Vec::new();
        for (text, marker) in rendered.pieces() {
            ids.extend(self.encode_untrusted(text)?);
            if let Some(m) = marker {
                ids.push(self.token_to_id(m).ok_or_else(|| TokenizerError::Codec {
                    op: "encode",
                    message: format!("the chat template's marker `{m}` is not in the vocabulary"),
                })?);
            }
        }
        Ok(ids)
    }

    /// The folder's chat template, or an error saying why there is none.
    pub fn chat_template(&self) -> Result<&ChatTemplate> {
        self.template
            .as_ref()
            .ok_or_else(|| TokenizerError::ChatTemplate {
                path: self.dir.join("tokenizer_config.json"),
                reason: "no `chat_template` (and no chat_template.jinja beside it)".into(),
            })
    }

    /// Ids that end generation: `<|im_end|>` and `<|endoftext|>` when in the vocabulary, then
    /// `eos_token` and `generation_config.json`'s `eos_token_id`s, without repeats.
    pub fn stop_token_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    /// Whether `id` ends generation.
    pub fn is_stop(&self, id: u32) -> bool {
        self.stop_ids.contains(&id)
    }

    /// `eos_token`'s id, when the config names one.
    pub fn eos_token_id(&self) -> Option<u32> {
        self.eos_id
    }

    /// `pad_token`'s id (used for left padding), when the config names one.
    pub fn pad_token_id(&self) -> Option<u32> {
        self.pad_id
    }

    /// Id of a token text (including added tokens such as `<|im_start|>`).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Text of a token id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Number of ids the tokenizer can produce (base vocabulary plus added tokens): the smallest
    /// embedding table a model for it may have.
    pub fn len(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Never true for a loaded tokenizer; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The folder it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed `tokenizer_config.json`.
    pub fn config(&self) -> &TokenizerConfig {
        &self.config
    }

    /// The underlying `tokenizers` object, for anything not wrapped here.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}
