//! Parity with transformers on the real Qwen3 tokenizer.
//!
//! `tests/data/qwen3_reference.json` was written by `tools/tokenizer_reference/make_reference.py`
//! (transformers' `tokenizer(text)`, `decode`, `apply_chat_template`). The tokenizer files are not
//! in the repo: `tools/fetch-qwen-tokenizer.sh DIR` fetches them, and `VIGIL_QWEN_TOKENIZER=DIR`
//! points these tests at them. Without the variable the comparisons are skipped with a loud
//! notice, except under CI (`CI` set), where a missing tokenizer fails the run.

#![allow(clippy::print_stderr)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;
use vigil_tokenizer::{ChatOptions, ChatTokenizer, Message};

#[derive(Deserialize)]
struct Reference {
    eos_token_id: u32,
    pad_token_id: u32,
    len: usize,
    special_ids: std::collections::BTreeMap<String, u32>,
    encode: Vec<EncodeCase>,
    chat: Vec<ChatCase>,
}

#[derive(Deserialize)]
struct EncodeCase {
    name: String,
    text: String,
    ids: Vec<u32>,
    decoded: String,
    decoded_skip_special: String,
}

#[derive(Deserialize)]
struct ChatCase {
    name: String,
    messages: Vec<Message>,
    tools: Option<Vec<Value>>,
    add_generation_prompt: bool,
    enable_thinking: Option<bool>,
    text: String,
    ids: Vec<u32>,
}

fn reference() -> Reference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/qwen3_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The Qwen3 tokenizer folder, or `None` (with a notice) when not configured outside CI.
fn qwen_dir() -> Option<PathBuf> {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    match std::env::var_os("VIGIL_QWEN_TOKENIZER").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None if in_ci => panic!(
            "CI is set but VIGIL_QWEN_TOKENIZER is not: run tools/fetch-qwen-tokenizer.sh DIR and export \
             VIGIL_QWEN_TOKENIZER=DIR before the tests"
        ),
        None => {
            eprintln!(
                "\n*** SKIPPED: Qwen3 tokenizer parity not checked. VIGIL_QWEN_TOKENIZER is unset; run \
                 tools/fetch-qwen-tokenizer.sh /tmp/qwen-tok && export VIGIL_QWEN_TOKENIZER=/tmp/qwen-tok ***\n"
            );
            None
        }
    }
}

/// Loaded once per test binary: parsing the 11 MB tokenizer.json dominates these tests.
fn load() -> Option<&'static ChatTokenizer> {
    static TOKENIZER: OnceLock<ChatTokenizer> = OnceLock::new();
    let dir = qwen_dir()?;
    Some(TOKENIZER.get_or_init(|| {
        ChatTokenizer::from_dir(&dir).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
    }))
}

#[test]
fn ci_has_the_qwen_tokenizer() {
    // Fails under CI when the tokenizer was not fetched, so the parity tests cannot pass vacuously.
    if let Some(dir) = qwen_dir() {
        assert!(
            dir.join("tokenizer.json").is_file(),
            "{}: no tokenizer.json",
            dir.display()
        );
    }
}

#[test]
fn im_start_user_hi_encodes_to_known_ids() {
    let Some(tok) = load() else { return };
    let ids = tok.encode("<|im_start|>user\nhi<|im_end|>", true).unwrap();
    assert_eq!(ids, [151644, 872, 198, 6023, 151645]);
}

#[test]
fn special_ids_and_stop_tokens_match_transformers() {
    let Some(tok) = load() else { return };
    let r = reference();
    assert_eq!(tok.len(), r.len);
    assert_eq!(tok.eos_token_id(), Some(r.eos_token_id));
    assert_eq!(tok.pad_token_id(), Some(r.pad_token_id));
    for (text, id) in &r.special_ids {
        assert_eq!(tok.token_to_id(text), Some(*id), "{text}");
    }
    assert_eq!(tok.stop_token_ids(), [151645, 151643]);
    assert!(
        tok.chat_template().unwrap().exact,
        "the shipped template should be the one mirrored"
    );
}

#[test]
fn encode_and_decode_match_transformers() {
    let Some(tok) = load() else { return };
    let r = reference();
    assert!(r.encode.len() >= 15);
    for case in &r.encode {
        let ids = tok.encode(&case.text, true).unwrap();
        assert_eq!(ids, case.ids, "encode `{}`", case.name);
        assert_eq!(
            tok.decode(&case.ids, false).unwrap(),
            case.decoded,
            "decode `{}`",
            case.name
        );
        assert_eq!(
            tok.decode(&case.ids, true).unwrap(),
            case.decoded_skip_special,
            "decode(skip_special) `{}`",
            case.name
        );
    }
}

#[test]
fn chat_template_matches_transformers() {
    let Some(tok) = load() else { return };
    let r = reference();
    assert!(r.chat.len() >= 40);
    for case in &r.chat {
        let options = ChatOptions {
            add_generation_prompt: case.add_generation_prompt,
            enable_thinking: case.enable_thinking.unwrap_or(true),
            tools: case.tools.clone().unwrap_or_default(),
        };
        let text = tok.render_chat(&case.messages, &options).unwrap();
        assert_eq!(text, case.text, "render `{}`", case.name);
        let ids = tok.encode_chat(&case.messages, &options).unwrap();
        assert_eq!(ids, case.ids, "ids `{}`", case.name);
    }
}
