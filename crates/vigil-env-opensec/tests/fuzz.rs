//! Property tests: the tool-call parser, the query tool and whole episodes take arbitrary input
//! without panicking. Case counts follow `PROPTEST_CASES` (default 256).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use vigil_core::{Episode, Step, TaskId};
use vigil_env_opensec::{Observation, OpenSecEnv, Query, ScoringMode, parse_action};

fn env(mode: ScoringMode) -> &'static OpenSecEnv {
    static H: OnceLock<std::sync::Arc<OpenSecEnv>> = OnceLock::new();
    static C: OnceLock<std::sync::Arc<OpenSecEnv>> = OnceLock::new();
    let cell = if mode == ScoringMode::Hardened { &H } else { &C };
    // The peer's seeds when present (they have legacy shapes ours lack), else our generated set.
    cell.get_or_init(|| {
        common::peer_env(mode, "fuzz: the peer's seeds (fuzzing ours instead)").unwrap_or_else(|| common::our_env(mode))
    })
}

const KEYS: &[&str] = &[
    "name",
    "arguments",
    "tool",
    "action_type",
    "params",
    "function",
    "table",
    "filters",
    "limit",
    "field",
    "op",
    "value",
    "host_id",
    "user_id",
    "domain",
    "email_id",
    "alert_id",
    "summary_json",
    "report",
    "sql",
    "patient_zero_host",
];
const WORDS: &[&str] = &[
    "query_logs",
    "fetch_email",
    "fetch_alert",
    "isolate_host",
    "block_domain",
    "reset_user",
    "submit_report",
    "alerts",
    "auth_logs",
    "netflow",
    "process_events",
    "email_logs",
    "prompt_injections",
    "eq",
    "contains",
    "gte",
    "step",
    "user_id",
    "h-161-01",
    "u-161",
    "alert-seed-161-1",
    "email-161",
    "unknown",
    "SELECT 1; SELECT 2",
];

/// JSON built from the tool vocabulary, so the parser's deeper paths are reached.
fn tool_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())
            }),
        ]
    })
}

fn answer() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        tool_json().prop_map(|v| v.to_string()),
        (".{0,20}", tool_json(), ".{0,20}").prop_map(|(a, v, b)| format!("{a}<tool_call>{v}</tool_call>{b}")),
        (tool_json(), 0usize..40).prop_map(|(v, cut)| {
            let s = v.to_string();
            s.chars().take(cut).collect()
        }),
    ]
}

proptest! {
    #[test]
    fn the_parser_never_panics(text in answer()) {
        let p = parse_action(&text);
        if p.format_valid {
            prop_assert!(p.action.is_ok());
        }
    }

    #[test]
    fn the_query_tool_never_panics(args in tool_json(), labels in any::<bool>()) {
        if let Value::Object(m) = &args
            && let Ok(q) = Query::from_args(m)
        {
            let mode = if labels { ScoringMode::Compat } else { ScoringMode::Hardened };
            let env = env(mode);
            let mut ep = env.start_episode(&TaskId::new(env.scenarios()[0].id().to_string())).unwrap();
            let text = json!({"name": "query_logs", "arguments": serde_json::to_value(&q).unwrap()}).to_string();
            let step = ep.step(&text).unwrap();
            let Step::Continue { observation } = step else { panic!("a query never ends the episode here") };
            let o = Observation::parse(&observation.content).unwrap();
            let rows = o.result.rows.unwrap_or_default();
            prop_assert!(rows.len() <= q.limit as usize);
        }
    }

    #[test]
    fn episodes_take_any_answers(answers in prop::collection::vec(answer(), 1..20), hardened in any::<bool>(), which in 0usize..220) {
        let mode = if hardened { ScoringMode::Hardened } else { ScoringMode::Compat };
        let env = env(mode);
        let task = TaskId::new(env.scenarios()[which % env.scenarios().len()].id().to_string());
        let mut ep = env.start_episode(&task).unwrap();
        let mut done = false;
        for a in &answers {
            if done {
                prop_assert!(ep.step(a).is_err());
                break;
            }
            match ep.step(a).unwrap() {
                Step::Continue { observation } => prop_assert!(Observation::parse(&observation.content).is_some()),
                Step::Done(out) => {
                    done = true;
                    prop_assert_eq!(out.rewards.len(), 4);
                    prop_assert!(out.rewards.values().all(f64::is_finite));
                }
            }
        }
    }
}
