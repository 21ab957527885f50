//! The committed hold-out: reproducible from the generator, balanced, re-verified on load.

use std::path::Path;

use vigil_env_opensoc::holdout::{HOLDOUT_SEED, generate_holdout, load_holdout, parse_holdout, to_jsonl};
use vigil_env_opensoc::{OpenSocError, Stage, TriageAction};

use crate::common::holdout_path;

#[test]
fn committed_holdout_is_reproducible_balanced_and_verified() {
    let expected = to_jsonl(&generate_holdout(HOLDOUT_SEED));
    let path = holdout_path();
    if std::env::var_os("VIGIL_BLESS").is_some() {
        vigil_core::write_atomic(&path, expected.as_bytes()).unwrap();
    }
    let text = std::fs::read_to_string(&path).expect("seeds/opensoc/holdout.jsonl (regenerate with VIGIL_BLESS=1)");
    assert!(text == expected, "the committed hold-out differs from the generator's output; it is frozen");
    let records = load_holdout(&path).unwrap();
    assert_eq!(records.len(), 200);
    for s in Stage::ALL {
        for a in TriageAction::ALL {
            let n = records.iter().filter(|r| r.stage == s && r.gold_action == a).count();
            assert_eq!(n, 10, "{s:?} {a}");
        }
    }
    assert_eq!(to_jsonl(&records), text, "load → save round-trips byte for byte");
}

fn err(text: &str) -> String {
    match parse_holdout(text, Path::new("h.jsonl")) {
        Err(e @ OpenSocError::DataLine { .. }) => e.to_string(),
        other => panic!("expected a DataLine error, got {other:?}"),
    }
}

#[test]
fn tampered_lines_are_rejected_with_file_and_line() {
    let records = generate_holdout(HOLDOUT_SEED);
    let good = to_jsonl(&records[..3]);
    let lines: Vec<&str> = good.lines().collect();
    // Edit the stored gold action of line 2.
    let gold = serde_json::to_string(&records[1].gold_action).unwrap();
    let other = if records[1].gold_action == TriageAction::Dismiss { "\"escalate\"" } else { "\"dismiss\"" };
    let edited = lines[1].replacen(&format!("\"gold_action\":{gold}"), &format!("\"gold_action\":{other}"), 1);
    let e = err(&format!("{}\n{edited}\n", lines[0]));
    assert!(e.starts_with("h.jsonl:2:") && e.contains("disagrees with the verifier"), "{e}");
    let e = err(&format!("{}\n{}\n", lines[0], lines[0]));
    assert!(e.starts_with("h.jsonl:2:") && e.contains("duplicate id"), "{e}");
    let e = err(&format!("{}\nnot json\n", lines[0]));
    assert!(e.starts_with("h.jsonl:2:"), "{e}");
    let e = err(&lines[0].replacen("{", "{\"extra\":1,", 1));
    assert!(e.starts_with("h.jsonl:1:") && e.contains("extra"), "{e}");
    let e = err(&lines[0].replacen("\"event_type\":\"", "\"event_type\":\"x", 1));
    assert!(e.contains("events[0].event_type"), "{e}");
    assert!(err("\n\n").contains("no incidents"));
    let missing = load_holdout(Path::new("/nonexistent/holdout.jsonl")).unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/holdout.jsonl"), "{missing}");
}
