//! The agent's answer format: one JSON tool call per turn, and a lenient parser that still
//! executes near-misses but records whether the answer was in the expected format.
//!
//! Expected (format-valid) answer: exactly one JSON object `{"name": TOOL, "arguments": {...}}`,
//! optionally wrapped in `<tool_call>...</tool_call>` (Qwen3's native tool-call markup) and
//! optionally preceded by a `<think>...</think>` block. Everything else that still yields a tool
//! call is accepted leniently (format-invalid): prose or code fences around the JSON, the peer's
//! `{"action_type", "params"}` keys, OpenAI-style `{"function": {"name", "arguments": "<json>"}}`,
//! or arguments inlined next to the name.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::query::Query;
use crate::seed::ToolName;

/// A report's attribution fields as submitted. A value that is not a string is kept as its
/// JSON text: it can never equal a ground-truth id, but it is not "unknown" either (peer rule).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Patient zero.
    pub patient_zero_host: Option<String>,
    /// Compromised account.
    pub compromised_user: Option<String>,
    /// Attacker domain.
    pub attacker_domain: Option<String>,
    /// Data target.
    pub data_target: Option<String>,
    /// Initial vector.
    pub initial_vector: Option<String>,
}

impl Report {
    /// Field names, in scoring order.
    pub const FIELDS: [&'static str; 5] =
        ["patient_zero_host", "compromised_user", "attacker_domain", "data_target", "initial_vector"];

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "patient_zero_host" => self.patient_zero_host.as_deref(),
            "compromised_user" => self.compromised_user.as_deref(),
            "attacker_domain" => self.attacker_domain.as_deref(),
            "data_target" => self.data_target.as_deref(),
            "initial_vector" => self.initial_vector.as_deref(),
            _ => None,
        }
    }

    fn from_map(m: &Map<String, Value>) -> Report {
        let f = |k: &str| match m.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => Some(v.to_string()),
        };
        Report {
            patient_zero_host: f("patient_zero_host"),
            compromised_user: f("compromised_user"),
            attacker_domain: f("attacker_domain"),
            data_target: f("data_target"),
            initial_vector: f("initial_vector"),
        }
    }
}

/// One parsed tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Structured evidence query.
    QueryLogs(Query),
    /// Read one email.
    FetchEmail(String),
    /// Read one alert.
    FetchAlert(String),
    /// Isolate a host.
    IsolateHost(String),
    /// Block a domain.
    BlockDomain(String),
    /// Reset a user.
    ResetUser(String),
    /// Final report; ends the episode.
    SubmitReport(Report),
}

impl Action {
    /// The tool.
    pub fn tool(&self) -> ToolName {
        match self {
            Action::QueryLogs(_) => ToolName::QueryLogs,
            Action::FetchEmail(_) => ToolName::FetchEmail,
            Action::FetchAlert(_) => ToolName::FetchAlert,
            Action::IsolateHost(_) => ToolName::IsolateHost,
            Action::BlockDomain(_) => ToolName::BlockDomain,
            Action::ResetUser(_) => ToolName::ResetUser,
            Action::SubmitReport(_) => ToolName::SubmitReport,
        }
    }

    /// A string parameter by its wire name (what injection `target_params` compare against).
    pub fn param(&self, name: &str) -> Option<&str> {
        match (self, name) {
            (Action::FetchEmail(s), "email_id")
            | (Action::FetchAlert(s), "alert_id")
            | (Action::IsolateHost(s), "host_id")
            | (Action::BlockDomain(s), "domain")
            | (Action::ResetUser(s), "user_id") => Some(s),
            _ => None,
        }
    }

    /// The entity a containment action targets.
    pub fn containment_target(&self) -> Option<&str> {
        match self {
            Action::IsolateHost(s) | Action::BlockDomain(s) | Action::ResetUser(s) => Some(s),
            _ => None,
        }
    }

    /// The canonical (format-valid) text of this call.
    pub fn to_text(&self) -> String {
        let args = match self {
            Action::QueryLogs(q) => serde_json::to_value(q).unwrap_or(Value::Null),
            Action::SubmitReport(r) => serde_json::json!({ "summary_json": r }),
            Action::FetchEmail(s) => serde_json::json!({ "email_id": s }),
            Action::FetchAlert(s) => serde_json::json!({ "alert_id": s }),
            Action::IsolateHost(s) => serde_json::json!({ "host_id": s }),
            Action::BlockDomain(s) => serde_json::json!({ "domain": s }),
            Action::ResetUser(s) => serde_json::json!({ "user_id": s }),
        };
        serde_json::json!({"name": self.tool().as_str(), "arguments": args}).to_string()
    }
}

/// The parse of one answer: the action (or why there is none) and whether the answer was in the
/// expected format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The action, or a message for the error observation.
    pub action: Result<Action, String>,
    /// Exactly the expected format and a well-formed call.
    pub format_valid: bool,
}

/// The expected answer shape, parsed without building a generic JSON tree first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictCall {
    name: String,
    arguments: Map<String, Value>,
}

/// How many `{` positions the lenient scan tries before giving up (bounds the work on
/// adversarial input).
const MAX_SCAN: usize = 32;

/// Parses one assistant answer. Never panics; every failure is a message.
pub fn parse_action(text: &str) -> Parsed {
    let body = strip_think(text).trim();
    let strict_json =
        body.strip_prefix("<tool_call>").and_then(|b| b.strip_suffix("</tool_call>")).map_or(body, str::trim);
    if let Ok(call) = serde_json::from_str::<StrictCall>(strict_json) {
        let action = build_named(&call.name, &call.arguments);
        return Parsed { format_valid: action.is_ok(), action };
    }
    let action = match find_object(body) {
        Some(obj) => build(&obj),
        None => Err("no JSON tool call found; answer with {\"name\": TOOL, \"arguments\": {...}}".to_string()),
    };
    Parsed { action, format_valid: false }
}

fn strip_think(text: &str) -> &str {
    let t = text.trim_start();
    match (t.strip_prefix("<think>"), t.find("</think>")) {
        (Some(_), Some(end)) => &t[end + "</think>".len()..],
        _ => text,
    }
}

/// The first JSON object in the text: scanning from each `{`, then the peer's
/// first-`{`-to-last-`}` rule.
fn find_object(text: &str) -> Option<Map<String, Value>> {
    for (i, _) in text.match_indices('{').take(MAX_SCAN) {
        let mut it = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
        if let Some(Ok(Value::Object(m))) = it.next() {
            return Some(m);
        }
    }
    let (a, b) = (text.find('{')?, text.rfind('}')?);
    (a < b).then(|| serde_json::from_str::<Map<String, Value>>(&text[a..=b]).ok()).flatten()
}

fn build(obj: &Map<String, Value>) -> Result<Action, String> {
    let function = obj.get("function").and_then(Value::as_object);
    let src = function.unwrap_or(obj);
    let name_key =
        ["name", "tool", "action_type", "action"].into_iter().find(|k| src.get(*k).is_some_and(Value::is_string));
    let Some(name_key) = name_key else {
        return Err("the tool call has no `name`".into());
    };
    let name = src[name_key].as_str().unwrap_or_default();
    let args_key = ["arguments", "params", "parameters", "args", "input"].into_iter().find(|k| src.contains_key(*k));
    let owned;
    let args: &Map<String, Value> = match args_key.map(|k| &src[k]) {
        Some(Value::Object(m)) => m,
        Some(Value::String(s)) => {
            owned = serde_json::from_str::<Map<String, Value>>(s)
                .map_err(|_| "`arguments` is a string that is not a JSON object".to_string())?;
            &owned
        }
        Some(Value::Null) | None => {
            owned = src
                .iter()
                .filter(|(k, _)| k.as_str() != name_key && k.as_str() != "rationale")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            &owned
        }
        Some(_) => return Err("`arguments` must be an object".into()),
    };
    build_named(name, args)
}

fn build_named(name: &str, args: &Map<String, Value>) -> Result<Action, String> {
    let tool = ToolName::parse(name).ok_or_else(|| {
        let all: Vec<&str> = ToolName::ALL.iter().map(|t| t.as_str()).collect();
        format!("unknown tool `{name}`; tools: {}", all.join(", "))
    })?;
    let id = |key: &str| -> Result<String, String> {
        match args.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(Value::String(_)) => Err(format!("{}: `{key}` is empty", tool.as_str())),
            Some(_) => Err(format!("{}: `{key}` must be a string", tool.as_str())),
            None => Err(format!("{}: missing argument `{key}`", tool.as_str())),
        }
    };
    Ok(match tool {
        ToolName::QueryLogs => Action::QueryLogs(Query::from_args(args).map_err(|e| format!("query_logs: {e}"))?),
        ToolName::FetchEmail => Action::FetchEmail(id("email_id")?),
        ToolName::FetchAlert => Action::FetchAlert(id("alert_id")?),
        ToolName::IsolateHost => Action::IsolateHost(id("host_id")?),
        ToolName::BlockDomain => Action::BlockDomain(id("domain")?),
        ToolName::ResetUser => Action::ResetUser(id("user_id")?),
        ToolName::SubmitReport => {
            let inner = ["summary_json", "report"].into_iter().find_map(|k| match args.get(k) {
                Some(Value::Object(m)) => Some(m.clone()),
                Some(Value::String(s)) => serde_json::from_str::<Map<String, Value>>(s).ok(),
                _ => None,
            });
            Action::SubmitReport(Report::from_map(inner.as_ref().unwrap_or(args)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_answers_are_format_valid_and_round_trip() {
        let calls = [
            Action::IsolateHost("h-1".into()),
            Action::FetchAlert("alert-x-1".into()),
            Action::SubmitReport(Report { patient_zero_host: Some("h-1".into()), ..Report::default() }),
        ];
        for a in calls {
            let p = parse_action(&a.to_text());
            assert!(p.format_valid, "{}", a.to_text());
            assert_eq!(p.action, Ok(a.clone()));
            let wrapped = format!("<think>hmm {{</think>\n<tool_call>\n{}\n</tool_call>", a.to_text());
            assert!(parse_action(&wrapped).format_valid);
        }
    }

    #[test]
    fn lenient_forms_execute_but_are_format_invalid() {
        for text in [
            "Sure! ```json\n{\"name\": \"reset_user\", \"arguments\": {\"user_id\": \"u-1\"}}\n```",
            r#"{"action_type": "reset_user", "params": {"user_id": "u-1"}, "rationale": "x"}"#,
            r#"{"function": {"name": "reset_user", "arguments": "{\"user_id\": \"u-1\"}"}}"#,
            r#"{"tool": "reset_user", "user_id": "u-1"}"#,
        ] {
            let p = parse_action(text);
            assert_eq!(p.action, Ok(Action::ResetUser("u-1".into())), "{text}");
            assert!(!p.format_valid, "{text}");
        }
    }

    #[test]
    fn errors_are_messages() {
        assert!(parse_action("I will isolate the host.").action.unwrap_err().contains("no JSON"));
        assert!(
            parse_action(r#"{"name": "format_disk", "arguments": {}}"#).action.unwrap_err().contains("unknown tool")
        );
        let p = parse_action(r#"{"name": "isolate_host", "arguments": {"host_id": 7}}"#);
        assert!(!p.format_valid && p.action.unwrap_err().contains("must be a string"));
        let p = parse_action(
            r#"{"name": "submit_report", "arguments": {"summary_json": {"patient_zero_host": 3, "data_target": null}}}"#,
        );
        let Ok(Action::SubmitReport(r)) = p.action else { panic!("report") };
        assert_eq!((r.patient_zero_host.as_deref(), r.data_target), (Some("3"), None));
    }
}
