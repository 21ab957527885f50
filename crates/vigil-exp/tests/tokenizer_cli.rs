//! `exp tokenize`, `exp chat-template` and `exp tokenizer build` end to end: a tiny tokenizer built
//! by the binary, HF-cache model ids, clear errors, and (when `VIGIL_QWEN_TOKENIZER` is set, as in
//! CI) the same ids and text as transformers for the real Qwen3 tokenizer.

mod common;

use std::path::{Path, PathBuf};

use common::{Capture, Run};
use serde_json::Value;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vigil-tokenizer/tests/data/tiny_corpus.txt"
);
const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vigil-tokenizer/tests/data/qwen3_reference.json"
);

fn exp(args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut cmd = common::exp();
    cmd.args(args).envs(env.iter().copied());
    cmd.capture()
}

fn ids(v: &Value) -> Vec<u64> {
    v["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("id"))
        .collect()
}

fn build_tiny(dir: &Path) -> Value {
    let out = dir.to_str().unwrap();
    exp(
        &[
            "tokenizer",
            "build",
            "--corpus",
            CORPUS,
            "--vocab-size",
            "400",
            "--out",
            out,
        ],
        &[],
    )
    .json()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn tiny_tokenizer_builds_encodes_and_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let tok = tmp.path().join("tok");
    assert_eq!(build_tiny(&tok)["vocab_size"], 400);
    let t = tok.to_str().unwrap();

    let v = exp(
        &[
            "tokenize",
            "--tokenizer",
            t,
            "--text",
            "<|im_start|>user\nhi<|im_end|>",
        ],
        &[],
    )
    .json();
    let got = ids(&v);
    // 400 ids: 391 BPE ids, then <|endoftext|>=391, <|im_start|>=392, <|im_end|>=393.
    assert_eq!((got[0], got[got.len() - 1]), (392, 393), "{got:?}");

    let messages = write(
        tmp.path(),
        "m.json",
        r#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Alert 1042?"}]"#,
    );
    let m = messages.to_str().unwrap();
    let on = exp(&["chat-template", "--tokenizer", t, "--messages", m], &[]).json();
    let off = exp(
        &[
            "chat-template",
            "--tokenizer",
            t,
            "--messages",
            m,
            "--no-thinking",
        ],
        &[],
    )
    .json();
    let head = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nAlert 1042?<|im_end|>\n<|im_start|>assistant\n";
    assert_eq!(on["text"], head);
    assert_eq!(off["text"], format!("{head}<think>\n\n</think>\n\n"));
    // Thinking off appends exactly the ids of the empty think block.
    let (a, b) = (ids(&on), ids(&off));
    assert!(b.len() > a.len() && b[..a.len()] == a[..], "{a:?} / {b:?}");
    let text_ids = ids(&exp(&["tokenize", "--tokenizer", t, "--text", head], &[]).json());
    assert_eq!(text_ids, a);
}

#[test]
fn model_ids_resolve_through_the_local_hf_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let hf_home = tmp.path().join("hf");
    let model = hf_home.join("hub/models--Vigil--Tiny");
    build_tiny(&model.join("snapshots/0123abcd"));
    std::fs::create_dir_all(model.join("refs")).unwrap();
    std::fs::write(model.join("refs/main"), "0123abcd").unwrap();

    let env = [
        ("HF_HOME", hf_home.as_path()),
        ("HF_HUB_CACHE", Path::new("")),
    ];
    let by_id = exp(
        &[
            "tokenize",
            "--tokenizer",
            "Vigil/Tiny",
            "--text",
            "isolate web-01",
        ],
        &env,
    )
    .json();
    let dir = model.join("snapshots/0123abcd");
    let by_dir = exp(
        &[
            "tokenize",
            "--tokenizer",
            dir.to_str().unwrap(),
            "--text",
            "isolate web-01",
        ],
        &[],
    )
    .json();
    assert_eq!(by_id, by_dir);

    let missing = exp(
        &["tokenize", "--tokenizer", "Vigil/Absent", "--text", "x"],
        &env,
    );
    assert_ne!(missing.code, 0);
    assert!(missing.stdout.is_empty());
    assert!(
        missing
            .stderr
            .contains("not in the local Hugging Face cache"),
        "{}",
        missing.stderr
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let tok = tmp.path().join("tok");
    build_tiny(&tok);
    let t = tok.to_str().unwrap();
    let typo = write(
        tmp.path(),
        "typo.json",
        r#"[{"role": "user", "content": "x", "reasoning_contnet": "r"}]"#,
    );
    let empty = write(tmp.path(), "empty.json", "[]");
    let not_list = write(
        tmp.path(),
        "obj.json",
        r#"{"role": "user", "content": "x"}"#,
    );
    let no_template = tmp.path().join("bare");
    std::fs::create_dir_all(&no_template).unwrap();
    std::fs::copy(
        tok.join("tokenizer.json"),
        no_template.join("tokenizer.json"),
    )
    .unwrap();
    let ok_messages = write(
        tmp.path(),
        "ok.json",
        r#"[{"role": "user", "content": "x"}]"#,
    );
    let bad_config = tmp.path().join("badcfg");
    std::fs::create_dir_all(&bad_config).unwrap();
    std::fs::copy(
        tok.join("tokenizer.json"),
        bad_config.join("tokenizer.json"),
    )
    .unwrap();
    write(
        &bad_config,
        "tokenizer_config.json",
        r#"{"eos_token": "<|nope|>"}"#,
    );

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["tokenize", "--tokenizer", "/no/such/dir", "--text", "x"],
            "/no/such/dir",
        ),
        (
            vec![
                "chat-template",
                "--tokenizer",
                t,
                "--messages",
                typo.to_str().unwrap(),
            ],
            "reasoning_contnet",
        ),
        (
            vec![
                "chat-template",
                "--tokenizer",
                t,
                "--messages",
                empty.to_str().unwrap(),
            ],
            "empty conversation",
        ),
        (
            vec![
                "chat-template",
                "--tokenizer",
                t,
                "--messages",
                not_list.to_str().unwrap(),
            ],
            "obj.json",
        ),
        (
            vec![
                "chat-template",
                "--tokenizer",
                no_template.to_str().unwrap(),
                "--messages",
                ok_messages.to_str().unwrap(),
            ],
            "no `chat_template`",
        ),
        (
            vec![
                "tokenize",
                "--tokenizer",
                bad_config.to_str().unwrap(),
                "--text",
                "x",
            ],
            "eos_token",
        ),
        (
            vec![
                "tokenizer",
                "build",
                "--corpus",
                CORPUS,
                "--vocab-size",
                "100",
                "--out",
                t,
            ],
            "below the minimum",
        ),
        (
            vec![
                "tokenizer",
                "build",
                "--corpus",
                "/no/corpus.txt",
                "--vocab-size",
                "300",
                "--out",
                t,
            ],
            "/no/corpus.txt",
        ),
    ];
    for (args, needle) in cases {
        let out = exp(&args, &[]);
        assert_ne!(out.code, 0, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(
            out.stderr.contains(needle),
            "{args:?}: `{}` should mention {needle}",
            out.stderr
        );
    }
}

/// Reference cases run through the binary: the issue's list (unicode, emoji, CRLF/tab
/// whitespace, digits, special-token strings, system+user with thinking on and off) plus a few
/// conversations. vigil-tokenizer's own tests compare every reference case in-process; each run
/// here reloads the 11 MB tokenizer, so the CLI check stays a subset.
const CLI_ENCODE_CASES: [&str; 8] = [
    "im_start_user",
    "unicode_scripts",
    "nfc_decomposed",
    "emoji",
    "crlf",
    "tabs_spaces",
    "digits",
    "special_strings",
];
const CLI_CHAT_CASES: [&str; 7] = [
    "system_user/gen_default",
    "system_user/gen_think",
    "system_user/gen_no_think",
    "system_user/no_gen",
    "unicode_crlf_special/gen_no_think",
    "multi_turn_thinking/gen_no_think",
    "tool_calls_and_responses/gen_no_think/tools",
];

/// The "Done when" check: the real Qwen3 tokenizer through the binary gives transformers' ids and
/// text. Needs `VIGIL_QWEN_TOKENIZER` (tools/fetch-qwen-tokenizer.sh); required under CI.
#[test]
fn qwen3_cli_matches_transformers() {
    let Some(qwen) = std::env::var_os("VIGIL_QWEN_TOKENIZER").filter(|v| !v.is_empty()) else {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false" || v == "0"),
            "CI is set but VIGIL_QWEN_TOKENIZER is not: run tools/fetch-qwen-tokenizer.sh DIR first"
        );
        notice(
            "\n*** SKIPPED: exp tokenize/chat-template vs transformers (VIGIL_QWEN_TOKENIZER unset) ***\n",
        );
        return;
    };
    let qwen = PathBuf::from(qwen);
    let q = qwen.to_str().unwrap();
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(REFERENCE).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();

    let named = |section: &str, names: &[&str]| -> Vec<Value> {
        let all = reference[section].as_array().unwrap();
        names
            .iter()
            .map(|n| {
                all.iter()
                    .find(|c| c["name"] == *n)
                    .unwrap_or_else(|| panic!("no case {n}"))
                    .clone()
            })
            .collect()
    };
    for case in named("encode", &CLI_ENCODE_CASES) {
        // Through a file: some cases hold NUL and CR, which argv cannot carry faithfully.
        let file = write(tmp.path(), "text.txt", case["text"].as_str().unwrap());
        let v = exp(
            &[
                "tokenize",
                "--tokenizer",
                q,
                "--text-file",
                file.to_str().unwrap(),
            ],
            &[],
        )
        .json();
        assert_eq!(v["ids"], case["ids"], "encode `{}`", case["name"]);
    }
    for case in named("chat", &CLI_CHAT_CASES) {
        let messages = write(tmp.path(), "messages.json", &case["messages"].to_string());
        let mut args = vec![
            "chat-template",
            "--tokenizer",
            q,
            "--messages",
            messages.to_str().unwrap(),
        ];
        let tools = write(tmp.path(), "tools.json", &case["tools"].to_string());
        if !case["tools"].is_null() {
            args.extend(["--tools", tools.to_str().unwrap()]);
        }
        if case["enable_thinking"] == false {
            args.push("--no-thinking");
        }
        if case["add_generation_prompt"] == false {
            args.push("--no-generation-prompt");
        }
        let v = exp(&args, &[]).json();
        assert_eq!(v["text"], case["text"], "text `{}`", case["name"]);
        // Special-token text inside message content stays text in Vigil (issue 17), where
        // `apply_chat_template` parses it: there the ids differ by design, and Vigil's must
        // hold fewer `<|im_end|>` ids than transformers' (the planted marker was not parsed).
        if case["messages"].to_string().contains("<|im_end|>") {
            let count = |ids: &Value| {
                ids.as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| **i == 151645)
                    .count()
            };
            assert!(
                count(&v["ids"]) < count(&case["ids"]),
                "ids `{}`: a planted <|im_end|> became a special token",
                case["name"]
            );
            continue;
        }
        assert_eq!(v["ids"], case["ids"], "ids `{}`", case["name"]);
    }
}

/// Writes straight to the process's stderr: libtest captures `eprintln!` of passing tests, and
/// a skipped parity check must be visible in a normal `cargo test` run.
fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}
