//! A tiny Qwen-style tokenizer trained from a text corpus, for tests and the CPU quickstart.
//!
//! It has the same shape as Qwen3's: NFC normalizer, Qwen's split regex, byte-level BPE (so any
//! text encodes), Qwen's special tokens appended after the BPE vocabulary with the same
//! special/non-special flags, and a `tokenizer_config.json` carrying the Qwen3 chat template, so
//! a tiny model goes through exactly the code path of a real one. Nothing is downloaded.

use std::path::Path;

use serde_json::{Map, Value, json};
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainer};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use crate::error::{Result, TokenizerError};
use crate::qwen3::QWEN3_CHAT_TEMPLATE;

/// Qwen's chat special tokens in Qwen's id order, with their `special` flag (special tokens are
/// dropped by `decode(skip_special_tokens=true)`; `<think>` and the tool tags are not).
pub const QWEN_SPECIAL_TOKENS: [(&str, bool); 9] = [
    ("<|endoftext|>", true),
    ("<|im_start|>", true),
    ("<|im_end|>", true),
    ("<tool_call>", false),
    ("</tool_call>", false),
    ("<tool_response>", false),
    ("</tool_response>", false),
    ("<think>", false),
    ("</think>", false),
];

/// Qwen2/Qwen3's pre-tokenizer split pattern (contractions, letter runs, single digits,
/// punctuation runs, newlines, whitespace).
const QWEN_SPLIT_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Byte-level BPE needs all 256 byte symbols before any merge.
const BYTE_ALPHABET: usize = 256;

/// A built tokenizer folder's contents.
#[derive(Debug, Clone)]
pub struct TinyTokenizer {
    /// `tokenizer.json` text.
    pub tokenizer_json: String,
    /// `tokenizer_config.json` text.
    pub tokenizer_config_json: String,
    /// Ids the tokenizer can produce (BPE vocabulary plus the special tokens); at most the
    /// requested size, less when the corpus has too few distinct pairs to merge.
    pub vocab_size: usize,
}

impl TinyTokenizer {
    /// Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (created if needed), each
    /// atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        for (name, text) in [
            ("tokenizer.json", &self.tokenizer_json),
            ("tokenizer_config.json", &self.tokenizer_config_json),
        ] {
            let path = dir.join(name);
            vigil_core::write_atomic(&path, text.as_bytes())
                .map_err(|e| TokenizerError::io(&path, e))?;
        }
        Ok(())
    }
}

/// Trains a byte-level BPE on `corpus` with `vocab_size` ids in total (BPE vocabulary plus
/// [`QWEN_SPECIAL_TOKENS`]). Deterministic: the same corpus and size give the same files.
pub fn build_tiny_tokenizer(corpus: &str, vocab_size: usize) -> Result<TinyTokenizer> {
    let min = BYTE_ALPHABET + QWEN_SPECIAL_TOKENS.len();
    if vocab_size < min {
        return Err(TokenizerError::Build(format!(
            "vocab size {vocab_size} is below the minimum {min} (256 byte symbols + {} special tokens)",
            QWEN_SPECIAL_TOKENS.len()
        )));
    }
    if corpus.trim().is_empty() {
        return Err(TokenizerError::Build("the corpus is empty".into()));
    }
    let build_err = |e: tokenizers::Error| TokenizerError::Build(e.to_string());

    let mut tokenizer = Tokenizer::new(BPE::default());
    let split = Split::new(
        SplitPattern::Regex(QWEN_SPLIT_REGEX.into()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(build_err)?;
    let byte_level = ByteLevel::new(false, false, false);
    tokenizer
        .with_normalizer(Some(NFC))
        .with_pre_tokenizer(Some(Sequence::new(vec![split.into(), byte_level.into()])))
        .with_post_processor(Some(byte_level))
        .with_decoder(Some(byte_level));

    let mut trainer: TrainerWrapper = BpeTrainer::builder()
        .vocab_size(vocab_size - QWEN_SPECIAL_TOKENS.len())
        .min_frequency(0)
        .show_progress(false)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    // Lines keep their newline so that newline tokens are learned too.
    tokenizer
        .train(&mut trainer, corpus.split_inclusive('\n'))
        .map_err(build_err)?;

    let base = tokenizer.get_vocab_size(true);
    for (text, special) in QWEN_SPECIAL_TOKENS {
        let token = AddedToken::from(text, special).normalized(false);
        if special {
            tokenizer.add_special_tokens(&[token]);
        } else {
            tokenizer.add_tokens(&[token]);
        }
    }
    let vocab_size = tokenizer.get_vocab_size(true);
    let tokenizer_json = tokenizer.to_string(true).map_err(build_err)?;
    let tokenizer_config_json = tokenizer_config(base as u32)?;
    tracing::debug!(vocab_size, "built tiny tokenizer");
    Ok(TinyTokenizer {
        tokenizer_json,
        tokenizer_config_json,
        vocab_size,
    })
}

/// A `tokenizer_config.json` in Qwen3's layout, loadable by transformers as well.
fn tokenizer_config(first_special_id: u32) -> Result<String> {
    let mut decoder = Map::new();
    for (i, (text, special)) in QWEN_SPECIAL_TOKENS.iter().enumerate() {
        decoder.insert(
            (first_special_id + i as u32).to_string(),
            json!({"content": text, "lstrip": false, "normalized": false, "rstrip": false,
                   "single_word": false, "special": special}),
        );
    }
    let config = json!({
        "add_bos_token": false,
        "add_prefix_space": false,
        "added_tokens_decoder": Value::Object(decoder),
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": null,
        "chat_template": QWEN3_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": false,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 32768,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": false,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": null,
    });
    let mut text =
        serde_json::to_string_pretty(&config).map_err(|e| TokenizerError::Build(e.to_string()))?;
    text.push('\n');
    Ok(text)
}
