//! `exp data opensoc …` and `exp eval configs/opensoc-baselines.toml` end to end.

mod common;

use common::{root, run};
use vigil_env_opensoc::parse::parse_answer;
use vigil_env_opensoc::sft::SftExample;

#[test]
fn sft_data_is_deterministic_balanced_and_gold() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    for p in [&a, &b] {
        let (code, _, err) = run(&[
            "data",
            "opensoc",
            "sft",
            "--n",
            "42",
            "--out",
            p.to_str().unwrap(),
        ])
        .parts();
        assert_eq!(code, 0, "{err}");
    }
    let text = std::fs::read_to_string(&a).unwrap();
    assert_eq!(text, std::fs::read_to_string(&b).unwrap());
    let examples: Vec<SftExample> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(examples.len(), 42);
    let stage = |s: &str| examples.iter().filter(|e| e.stage.as_str() == s).count();
    assert_eq!(
        (
            stage("stage1_basic"),
            stage("stage2_multi"),
            stage("stage3_mixed"),
            stage("stage4_adversarial")
        ),
        (11, 11, 10, 10)
    );
    for e in &examples {
        let roles: Vec<_> = e.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                vigil_core::Role::System,
                vigil_core::Role::User,
                vigil_core::Role::Assistant
            ]
        );
        assert!(parse_answer(&e.messages[2].content).format_valid());
    }
    let (code, _, err) = run(&[
        "data",
        "opensoc",
        "sft",
        "--n",
        "0",
        "--out",
        a.to_str().unwrap(),
    ])
    .parts();
    assert!(code != 0 && err.contains("--n"), "{err}");
}

#[test]
fn committed_holdout_checks_and_validates() {
    let (code, out, err) = run(&[
        "data",
        "opensoc",
        "holdout",
        "--check",
        "seeds/opensoc/holdout.jsonl",
    ])
    .parts();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"incidents\":200"), "{out}");
    let (code, out, err) =
        run(&["data", "opensoc", "validate", "seeds/opensoc/holdout.jsonl"]).parts();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["per_stage"]["stage3_mixed"]["block_ip"], 10);
    // A tampered copy: the error names the file and line.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("h.jsonl");
    let text = std::fs::read_to_string(root().join("seeds/opensoc/holdout.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[4] = lines[4].replace(
        "\"gold_action\":\"escalate\"",
        "\"gold_action\":\"dismiss\"",
    );
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let (code, _, err) = run(&["data", "opensoc", "validate", bad.to_str().unwrap()]).parts();
    assert!(code != 0 && err.contains("h.jsonl:5:"), "{err}");
    let (code, _, err) = run(&[
        "data",
        "opensoc",
        "holdout",
        "--check",
        bad.to_str().unwrap(),
    ])
    .parts();
    assert!(code != 0 && err.contains("h.jsonl:5:"), "{err}");
}

fn metric(summary: &serde_json::Value, name: &str) -> f64 {
    summary["metrics"][name]["mean"]
        .as_f64()
        .unwrap_or_else(|| panic!("metric {name} in {summary}"))
}

#[test]
fn eval_writes_the_seed_003_table() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&[
        "eval",
        "configs/opensoc-baselines.toml",
        "--out",
        dir.path().to_str().unwrap(),
    ])
    .parts();
    assert_eq!(code, 0, "{err}");
    for col in [
        "accuracy",
        "macro_f1",
        "dismiss_on_malicious",
        "over_react",
        "citation_correct",
        "format_valid",
    ] {
        assert!(
            out.lines().next().unwrap_or("").contains(col),
            "{col} missing from\n{out}"
        );
    }
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("eval/comparison.json")).unwrap(),
    )
    .unwrap();
    let by = |name: &str| {
        results
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["policy"] == name)
            .unwrap()["summary"]
            .clone()
    };
    let oracle = by("verifier_oracle");
    let dismiss = by("always_dismiss");
    let o = &oracle["overall"];
    assert_eq!(
        (
            o["classification"]["accuracy"].as_f64(),
            o["classification"]["macro_f1"].as_f64()
        ),
        (Some(1.0), Some(1.0))
    );
    assert_eq!(
        (
            metric(o, "dismiss_on_malicious"),
            metric(o, "over_react"),
            metric(o, "citation_correct")
        ),
        (0.0, 0.0, 1.0)
    );
    let d = &dismiss["overall"];
    assert_eq!(d["classification"]["accuracy"].as_f64(), Some(0.2));
    // Macro-F1 over supported classes: dismiss F1 = 2·0.2/(1+0.2) = 1/3, the other four 0.
    assert!((d["classification"]["macro_f1"].as_f64().unwrap() - 1.0 / 15.0).abs() < 1e-9);
    assert_eq!(
        (metric(d, "dismiss_on_malicious"), metric(d, "over_react")),
        (1.0, 0.0)
    );
    for stage in [
        "stage1_basic",
        "stage2_multi",
        "stage3_mixed",
        "stage4_adversarial",
    ] {
        assert_eq!(oracle["stages"][stage]["episodes"], 50, "{stage}");
        assert_eq!(
            dismiss["stages"][stage]["classification"]["accuracy"].as_f64(),
            Some(0.2),
            "{stage}"
        );
    }
    let heuristic = &by("keyword_heuristic")["overall"];
    assert!(
        heuristic["total"]["mean"].as_f64()
            > by("always_escalate")["overall"]["total"]["mean"].as_f64()
    );
    assert!(
        dir.path()
            .join("eval/verifier_oracle/episodes.jsonl")
            .exists()
    );
}
