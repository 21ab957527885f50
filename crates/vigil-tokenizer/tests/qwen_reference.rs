//! Parity with transformers on the real Qwen3 tokenizer.
//!
//! `tests/data/qwen3_reference.json` was written by `tools/tokenizer_reference/make_reference.py`
//! (transformers' `tokenizer(text)`, `decode`, `apply_chat_template`). The tokenizer files are not
//! in the repo: `tools/fetch-qwen-tokenizer.sh DIR` fetches them, and `VIGIL_QWEN_TOKENIZER=DIR`
//! points these tests at them. Without the variable the comparisons are skipped with a loud
//! notice, except under CI (`CI` set), where a missing tokenizer fails the run.

use std::path::PathBuf;
use std::sync::OnceLock;

use vigil_tokenizer::ChatTokenizer;

mod common;

const REFERENCE: &str = "qwen3_reference.json";

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
            notice(
                "\n*** SKIPPED: Qwen3 tokenizer parity not checked. VIGIL_QWEN_TOKENIZER is unset; run \
                 tools/fetch-qwen-tokenizer.sh /tmp/qwen-tok && export VIGIL_QWEN_TOKENIZER=/tmp/qwen-tok ***\n",
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
    common::check_vocabulary(tok, &common::reference(REFERENCE));
    assert_eq!(tok.stop_token_ids(), [151645, 151643]);
    assert!(
        tok.chat_template().unwrap().exact,
        "the shipped template should be the one mirrored"
    );
}

#[test]
fn encode_and_decode_match_transformers() {
    let Some(tok) = load() else { return };
    common::check_encode(tok, &common::reference(REFERENCE));
}

#[test]
fn chat_template_matches_transformers() {
    let Some(tok) = load() else { return };
    common::check_chat(tok, &common::reference(REFERENCE));
}

/// Writes straight to the process's stderr: libtest captures `eprintln!` of passing tests, and
/// a skipped parity check must be visible in a normal `cargo test` run.
fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}
