//! `exp model …` end to end: JSON on stdout matching the transformers references committed in
//! crates/vigil-policy/tests/data, and errors on stderr with a non-zero exit.

mod common;

use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;

fn data(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-policy/tests/data")
        .join(case)
}

fn list(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn cli_matches_transformers_reference() {
    let dir = data("untied");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    let tokens: Vec<String> = r["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.to_string())
        .collect();
    let tokens = tokens.join(",");
    let model = dir.to_str().unwrap();
    let adapter = dir.join("adapter");
    let adapter = adapter.to_str().unwrap();

    let v = run(&[
        "model",
        "logits",
        "--model",
        model,
        "--adapter",
        adapter,
        "--tokens",
        &tokens,
        "--all-positions",
    ])
    .json();
    let got: Vec<f64> = v["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(list)
        .collect();
    let want: Vec<f64> = r["adapter"]["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(list)
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-4));
    let last = run(&["model", "logits", "--model", model, "--tokens", &tokens]).json();
    assert_eq!(last["logits"].as_array().unwrap().len(), 1);

    let v = run(&[
        "model",
        "logprobs",
        "--model",
        model,
        "--adapter",
        adapter,
        "--tokens",
        &tokens,
    ])
    .json();
    let lp = list(&v["logprobs"]);
    let want = list(&r["adapter"]["logprobs"]);
    assert!(lp.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-4));
    assert!((v["sum"].as_f64().unwrap() - want.iter().sum::<f64>()).abs() < 1e-3);

    let prompt: Vec<String> = r["prompt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.to_string())
        .collect();
    let prompt = prompt.join(",");
    for extra in [&[][..], &["--no-kv-cache"][..]] {
        let mut args = vec![
            "model",
            "generate",
            "--model",
            model,
            "--tokens",
            &prompt,
            "--max-new-tokens",
            "16",
            "--greedy",
        ];
        args.extend_from_slice(extra);
        let v = run(&args).json();
        assert_eq!(v["tokens"], r["base"]["greedy"], "{extra:?}");
    }

    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("grad.safetensors");
    run(&[
        "model",
        "grad",
        "--model",
        model,
        "--adapter",
        adapter,
        "--tokens",
        &tokens,
        "--advantage",
        "1.5",
        "--out",
        out.to_str().unwrap(),
    ])
    .json();
    let bytes = std::fs::read(&out).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    for name in r["adapter"]["grads"].as_object().unwrap().keys() {
        assert!(
            header.get(name).is_some(),
            "{name} missing from the gradient file"
        );
    }
}

#[test]
fn init_writes_a_loadable_model_and_errors_go_to_stderr() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("m");
    let m = m.to_str().unwrap();
    let v = run(&[
        "model",
        "init",
        "--out",
        m,
        "--vocab",
        "50",
        "--hidden",
        "16",
        "--layers",
        "2",
        "--heads",
        "4",
        "--kv-heads",
        "1",
        "--head-dim",
        "6",
        "--intermediate",
        "24",
        "--untied",
        "--seed",
        "3",
    ])
    .json();
    assert!(v["params"].as_u64().unwrap() > 0);
    let g = run(&[
        "model",
        "generate",
        "--model",
        m,
        "--tokens",
        "1,2,3",
        "--max-new-tokens",
        "5",
        "--temperature",
        "0.8",
        "--top-p",
        "0.9",
        "--top-k",
        "10",
        "--seed",
        "4",
    ])
    .json();
    assert_eq!(g["tokens"].as_array().unwrap().len(), 5);
    assert_eq!(
        run(&[
            "model",
            "generate",
            "--model",
            m,
            "--tokens",
            "1,2,3",
            "--max-new-tokens",
            "5",
            "--temperature",
            "0.8",
            "--top-p",
            "0.9",
            "--top-k",
            "10",
            "--seed",
            "4"
        ])
        .json()["tokens"],
        g["tokens"]
    );

    // Out-of-range token, truncated checkpoint: exit != 0, message on stderr, nothing on stdout.
    let bad = run(&["model", "logits", "--model", m, "--tokens", "1,999"]);
    assert!(!bad.success());
    assert!(bad.stderr.contains("999"));
    assert!(bad.stdout.is_empty());
    let st = Path::new(m).join("model.safetensors");
    let len = std::fs::metadata(&st).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&st)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let bad = run(&["model", "logprobs", "--model", m, "--tokens", "1,2"]);
    assert!(!bad.success());
    let err = bad.stderr;
    assert!(
        err.contains("model.safetensors") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn bench_model_reports_throughput_and_rejects_bad_shapes() {
    let m = data("tied");
    let m = m.to_str().unwrap();
    let v = run(&[
        "bench",
        "model",
        "--model",
        m,
        "--batch",
        "2",
        "--prompt",
        "6",
        "--new",
        "3",
        "--threads",
        "1",
        "--iters",
        "1",
        "--train",
        "lora",
    ])
    .json();
    for key in [
        "prefill_tok_s",
        "decode_tok_s",
        "train_step_s",
        "read_bandwidth_gb_s",
        "decode_bound_tok_s",
    ] {
        assert!(
            v[key].as_f64().is_some_and(|x| x.is_finite() && x > 0.0),
            "{key}: {v}"
        );
    }
    assert_eq!(v["threads"], 1);
    assert!(v["weight_bytes"].as_u64().unwrap() > 0 && v["kv_cache_bytes"].as_u64().unwrap() > 0);
    let out = run(&["bench", "model", "--model", m, "--new", "0"]);
    assert!(!out.success());
    assert!(out.stderr.contains("must be > 0"));
}

/// `--device wgpu` on burn's wgpu backend (lavapipe in CI): inference and a LoRA step run. Its
/// speed on lavapipe means nothing; that every phase runs does.
#[cfg(feature = "wgpu")]
#[test]
fn bench_model_runs_on_wgpu() {
    let m = data("tied");
    let args = [
        "bench",
        "model",
        "--model",
        m.to_str().unwrap(),
        "--device",
        "wgpu",
        "--batch",
        "2",
        "--prompt",
        "6",
        "--new",
        "3",
        "--iters",
        "1",
        "--train",
        "lora",
    ];
    let out = run(&args);
    let stderr = out.stderr.clone();
    if !out.success() && stderr.contains("adapter") && std::env::var_os("CI").is_none() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("*** SKIPPED: bench_model_runs_on_wgpu: no wgpu adapter ({stderr}) ***");
        }
        return;
    }
    assert!(out.success(), "exp {args:?} failed: {stderr}");
    let v: Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    for key in ["prefill_tok_s", "decode_tok_s", "train_step_s"] {
        assert!(
            v[key].as_f64().is_some_and(|x| x.is_finite() && x > 0.0),
            "{key}: {v}"
        );
    }
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_device_needs_the_feature() {
    let m = data("tied");
    for (device, message) in [("wgpu", "`wgpu` feature"), ("tpu", "unknown variant `tpu`")] {
        let out = run(&["model", "logits", "--model", m.to_str().unwrap(), "--tokens", "1,2", "--device", device]);
        assert!(!out.success());
        assert!(out.stderr.contains(message), "{out:?}");
    }
}
