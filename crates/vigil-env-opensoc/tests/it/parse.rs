//! The answer parser: accepted forms, format validity, ambiguity, and never panicking.

use proptest::prelude::*;
use vigil_env_opensoc::heuristic::parse_log_line;
use vigil_env_opensoc::parse::{FormatProblem, format_answer, parse_answer};
use vigil_env_opensoc::render::push_event_line;
use vigil_env_opensoc::{LogId, TriageAction};

use crate::common::*;

fn p(s: &str) -> (Option<TriageAction>, Option<LogId>, Option<FormatProblem>) {
    let a = parse_answer(s);
    (a.action, a.cited, a.problem)
}

const ESC: Option<TriageAction> = Some(TriageAction::Escalate);
const L3: Option<LogId> = Some(LogId::new(1, 3));

#[test]
fn canonical_forms_are_valid() {
    assert_eq!(p("Action: escalate\nCitedLog: L1-3\nRationale: big upload."), (ESC, L3, None));
    assert_eq!(p("  Action: escalate\n\nCitedLog: L1-3\nRationale: x\nConfidence: 0.8\n"), (ESC, L3, None));
    assert_eq!(parse_answer("Action: escalate\nCitedLog: L1-3\nRationale: x\nConfidence: 0.8").confidence, Some(0.8));
    assert_eq!(p("<think>hmm, 5 failures</think>\nAction: escalate\nCitedLog: L1-3\nRationale: x"), (ESC, L3, None));
    assert_eq!(p(r#"{"action": "escalate", "cited_log_id": "L1-3", "rationale": "x"}"#), (ESC, L3, None));
    assert_eq!(p(r#"{"submit_triage": {"action": "escalate", "cited_log_id": "L1-3", "rationale": "x"}}"#), (ESC, L3, None));
    let a = format_answer(TriageAction::BlockIp, LogId::new(2, 10), "C2.");
    assert_eq!(p(&a), (Some(TriageAction::BlockIp), Some(LogId::new(2, 10)), None));
}

#[test]
fn near_misses_are_graded_but_not_format_valid() {
    use FormatProblem::*;
    assert_eq!(p("**Action:** escalate\n**CitedLog:** L1-3\n**Rationale:** x"), (ESC, L3, Some(Markup)));
    assert_eq!(p("action: ESCALATE\ncitedlog: L1-3\nrationale: x"), (ESC, L3, Some(Markup)));
    assert_eq!(p("Action: escalate.\nCitedLog: <L1-3>\nRationale: x"), (ESC, L3, Some(Markup)));
    assert_eq!(p("I think this is bad.\nAction: escalate\nCitedLog: L1-3\nRationale: x"), (ESC, L3, Some(ExtraText)));
    assert_eq!(p("CitedLog: L1-3\nAction: escalate\nRationale: x"), (ESC, L3, Some(WrongOrder)));
    assert_eq!(p("```json\n{\"action\":\"escalate\",\"cited_log_id\":\"L1-3\",\"rationale\":\"x\"}\n```"), (ESC, L3, Some(Markup)));
    assert_eq!(p("Action: escalate\nCitedLog: L1-3"), (ESC, L3, Some(MissingRationale)));
    assert_eq!(p(&format!("Action: escalate\nCitedLog: L1-3\nRationale: {}", "x".repeat(500))), (ESC, L3, Some(RationaleTooLong)));
    assert_eq!(p("Action: escalate\nCitedLog: L1-3\nRationale: x\nConfidence: 1.5"), (ESC, L3, Some(BadConfidence)));
    assert_eq!(p(r#"{"action": "escalate", "cited_log_id": "L1-3", "rationale": "x", "why": 1}"#), (ESC, L3, Some(UnknownJsonKey)));
}

#[test]
fn ambiguous_answers_are_not_graded() {
    use FormatProblem::*;
    // Two different actions: no action at all (format gaming cannot collect the better one).
    assert_eq!(p("Action: dismiss\nAction: escalate\nCitedLog: L1-3\nRationale: x").0, None);
    assert_eq!(p("Action: escalate\nAction: escalate\nCitedLog: L1-3\nRationale: x"), (ESC, L3, Some(DuplicateKey)));
    assert_eq!(p("Action: block_ip|escalate\nCitedLog: L1-3\nRationale: x").0, None);
    assert_eq!(p("Action: escalate or block_ip\nCitedLog: L1-3\nRationale: x").0, None);
    // Cite-spam: several ids, or several CitedLog lines, give no citation.
    assert_eq!(p("Action: escalate\nCitedLog: L1-0, L1-1, L1-2, L1-3\nRationale: x"), (ESC, None, Some(BadCitation)));
    assert_eq!(p("Action: escalate\nCitedLog: L1-0 L1-3\nRationale: x").1, None);
    assert_eq!(p("Action: escalate\nCitedLog: L1-3\nCitedLog: L1-4\nRationale: x").1, None);
    assert_eq!(p("Action: escalate\nCitedLog: all\nRationale: x"), (ESC, None, Some(BadCitation)));
    assert_eq!(p(""), (None, None, Some(Empty)));
    assert_eq!(p("<think>never closed"), (None, None, Some(UnclosedThink)));
    assert_eq!(p("{not json"), (None, None, Some(BadJson)));
    assert_eq!(p(r#"{"action": ["escalate"], "cited_log_id": 3}"#).0, None);
}

#[test]
fn rendered_lines_tokenize_back() {
    let e = make(vigil_env_opensoc::Category::MalwareExecution, vec![(0, exec("cmd.exe", Some("w3wp.exe"), Some("/c \"whoami\" key=value \\ x")))]);
    let mut line = String::new();
    push_event_line(&mut line, &e.events[0]);
    assert_eq!(line, r#"[2026-04-25T10:00:00Z] L1-0 src=edr type=proc.exec host="ws-1" user="alice" process="cmd.exe" parent="w3wp.exe" cmdline="/c \"whoami\" key=value \\ x""#);
    let parsed = parse_log_line(&line).unwrap();
    assert_eq!(parsed.get("parent"), Some("w3wp.exe"));
    assert_eq!(parsed.get("cmdline"), Some(r#"/c \"whoami\" key=value \\ x"#));
    assert_eq!(parsed.event_type, "proc.exec");
}

fn answerish() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["Action", "CitedLog", "Rationale", "Confidence", "action", "**Action**", "Cited Log", "x"]);
    let val = prop_oneof![
        prop::sample::select(vec!["escalate", "dismiss", "L1-3", "L1-0, L1-2", "0.5", "{", "}", "<think>", "</think>", ""]).prop_map(String::from),
        ".{0,20}",
    ];
    prop::collection::vec((key, val), 0..6).prop_map(|kv| kv.into_iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2048)))]

    #[test]
    fn parser_never_panics(s in prop_oneof![".*", answerish(), "\\{.{0,40}\\}", "<think>.{0,10}</think>.{0,30}"]) {
        let a = parse_answer(&s);
        if a.format_valid() {
            prop_assert!(a.action.is_some() && a.cited.is_some() && a.rationale.is_some());
        }
        let _ = parse_log_line(&s);
    }

    #[test]
    fn canonical_answers_always_round_trip(a in prop::sample::select(TriageAction::ALL.to_vec()), t in 0u16..9999, n in 0u16..9999, r in "[a-zA-Z ,.]{1,80}") {
        let r = r.trim();
        prop_assume!(!r.is_empty());
        let text = format_answer(a, LogId::new(t, n), r);
        let parsed = parse_answer(&text);
        prop_assert_eq!((parsed.action, parsed.cited, parsed.problem), (Some(a), Some(LogId::new(t, n)), None));
    }
}
