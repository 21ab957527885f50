//! `exp eval` on each environment's probe config: every reward-hacking probe scores below the
//! honest scripted policy on the hold-out (issue 10's table, produced by the tool itself).

mod common;

use std::path::Path;

use serde_json::Value;

fn eval(config: &str, out: &Path) -> Vec<(String, f64)> {
    let o = common::run(&["eval", config, "--out", out.to_str().unwrap()]);
    assert!(o.success(), "exp eval {config}: {}", o.stderr);
    let table = &o.stdout;
    assert!(
        table.contains("| policy |"),
        "{config}: no table on stdout:\n{table}"
    );
    let text = std::fs::read_to_string(out.join("eval/comparison.json")).unwrap();
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    rows.iter()
        .map(|r| {
            (
                r["policy"].as_str().unwrap().to_string(),
                r["summary"]["overall"]["total"]["mean"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn check(config: &str, honest: &str, probes: &[&str]) {
    let d = tempfile::tempdir().unwrap();
    let rows = eval(config, d.path());
    let total = |name: &str| {
        rows.iter()
            .find(|(p, _)| p == name)
            .unwrap_or_else(|| panic!("{config}: no row for {name}"))
            .1
    };
    let h = total(honest);
    for p in probes {
        let t = total(p);
        assert!(
            t < h,
            "{config}: probe {p} scores {t:.3}, not below the honest {honest} ({h:.3})"
        );
    }
}

const SHARED: [&str; 5] = [
    "cite_spam",
    "always_escalate",
    "keyword_stuffing",
    "format_gaming",
    "long_output",
];

#[test]
fn opensoc_probes_score_below_the_keyword_heuristic() {
    let mut probes = SHARED.to_vec();
    probes.extend(["contain_everything", "injection_obedience"]);
    check("configs/opensoc-probes.toml", "keyword_heuristic", &probes);
}

#[test]
fn opensec_probes_score_below_the_evidence_heuristic() {
    let mut probes = SHARED.to_vec();
    probes.extend(["contain_everything_seen", "injection_obedience"]);
    check("configs/opensec-probes.toml", "evidence_heuristic", &probes);
}

#[test]
fn cert_probes_score_below_rule_based() {
    check(
        "configs/cert-probes.toml",
        "rule_based",
        &[
            "cite_spam",
            "always_malicious",
            "keyword_stuffing",
            "format_gaming",
            "long_output",
        ],
    );
}
