//! Parsing the defender's answer, in the three-line form or the JSON form.
//!
//! Extraction is lenient (case, markdown bold, a leading Qwen3 `<think>` block) so a
//! near-miss still gets graded on its action; *format validity* is strict, and is what the
//! format reward pays for. Anything ambiguous is not graded at all: two `Action:` lines that
//! disagree, an action list like `block_ip|escalate`, or several cited ids (cite-spam) give no
//! action / no citation rather than the best of them.

use serde::Serialize;
use serde_json::Value;

use crate::action::TriageAction;
use crate::schema::LogId;

/// Longest rationale that is still "one short sentence", in bytes.
pub const MAX_RATIONALE_BYTES: usize = 400;

/// The first reason an answer is not in the required format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum FormatProblem {
    Empty,
    UnclosedThink,
    BadJson,
    UnknownJsonKey,
    MissingAction,
    UnknownAction,
    MissingCitation,
    BadCitation,
    MissingRationale,
    RationaleTooLong,
    BadConfidence,
    DuplicateKey,
    WrongOrder,
    ExtraText,
    Markup,
}

/// What could be read from an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedAnswer {
    /// The action, if exactly one unambiguous action was given.
    pub action: Option<TriageAction>,
    /// The cited log id, if exactly one well-formed id was given.
    pub cited: Option<LogId>,
    /// The rationale text, if any.
    pub rationale: Option<String>,
    /// Optional verbalized confidence in `[0, 1]`.
    pub confidence: Option<f64>,
    /// First format problem; `None` means the answer is format-valid.
    pub problem: Option<FormatProblem>,
}

impl ParsedAnswer {
    /// Strictly in the required format.
    pub fn format_valid(&self) -> bool {
        self.problem.is_none()
    }
    fn flag(&mut self, p: FormatProblem) {
        self.problem.get_or_insert(p);
    }
}

/// Removes a leading `<think>...</think>` block. `Err` when it is never closed.
fn strip_think(text: &str) -> Result<&str, ()> {
    let t = text.trim_start();
    match t.strip_prefix("<think>") {
        None => Ok(text),
        Some(rest) => rest.find("</think>").map(|k| &rest[k + "</think>".len()..]).ok_or(()),
    }
}

/// Parses one answer. Never panics, whatever the input.
pub fn parse_answer(text: &str) -> ParsedAnswer {
    let mut out = ParsedAnswer { action: None, cited: None, rationale: None, confidence: None, problem: None };
    let body = match strip_think(text) {
        Ok(b) => b.trim(),
        Err(()) => {
            out.flag(FormatProblem::UnclosedThink);
            return out;
        }
    };
    if body.is_empty() {
        out.flag(FormatProblem::Empty);
        return out;
    }
    let json = body.strip_prefix("```json").or_else(|| body.strip_prefix("```")).and_then(|b| b.trim_end().strip_suffix("```"));
    match json {
        Some(inner) => {
            out.flag(FormatProblem::Markup);
            parse_json(inner.trim(), &mut out);
        }
        None if body.starts_with('{') => parse_json(body, &mut out),
        None => parse_lines(body, &mut out),
    }
    out
}

/// Reads a value exactly, or after stripping decoration (`escalate.`, `<L1-3>`, `"L1-3"`), which
/// is still graded but flagged as markup.
fn lenient<T>(out: &mut ParsedAnswer, v: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let v = v.trim();
    parse(v).or_else(|| {
        let bare = v.trim_end_matches('.').trim_matches(|c| matches!(c, '<' | '>' | '[' | ']' | '"' | '\'' | '`'));
        let r = parse(bare.trim());
        if r.is_some() {
            out.flag(FormatProblem::Markup);
        }
        r
    })
}

fn set_action(out: &mut ParsedAnswer, v: &str) {
    match lenient(out, v, TriageAction::parse_loose) {
        Some(a) => out.action = Some(a),
        None => out.flag(FormatProblem::UnknownAction),
    }
}

fn set_cited(out: &mut ParsedAnswer, v: &str) {
    match lenient(out, v, LogId::parse) {
        Some(id) => out.cited = Some(id),
        None => out.flag(FormatProblem::BadCitation),
    }
}

fn set_rationale(out: &mut ParsedAnswer, v: &str) {
    let v = v.trim();
    if v.is_empty() {
        out.flag(FormatProblem::MissingRationale);
    } else {
        if v.len() > MAX_RATIONALE_BYTES {
            out.flag(FormatProblem::RationaleTooLong);
        }
        out.rationale = Some(v.to_owned());
    }
}

fn set_confidence(out: &mut ParsedAnswer, v: Option<f64>) {
    match v {
        Some(c) if (0.0..=1.0).contains(&c) => out.confidence = Some(c),
        _ => out.flag(FormatProblem::BadConfidence),
    }
}

fn parse_json(body: &str, out: &mut ParsedAnswer) {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return out.flag(FormatProblem::BadJson),
    };
    let obj = match v.get("submit_triage").filter(|_| v.as_object().is_some_and(|o| o.len() == 1)).unwrap_or(&v) {
        Value::Object(o) => o,
        _ => return out.flag(FormatProblem::BadJson),
    };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("action", Value::String(s)) => set_action(out, s),
            ("cited_log_id", Value::String(s)) => set_cited(out, s),
            ("rationale", Value::String(s)) => set_rationale(out, s),
            ("confidence", v) => set_confidence(out, v.as_f64()),
            ("action", _) => out.flag(FormatProblem::UnknownAction),
            ("cited_log_id", _) => out.flag(FormatProblem::BadCitation),
            ("rationale", _) => out.flag(FormatProblem::MissingRationale),
            _ => out.flag(FormatProblem::UnknownJsonKey),
        }
    }
    finish(out);
}

/// Which of the keys a line sets, after normalizing case, spaces, underscores and `*`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Action,
    Cited,
    Rationale,
    Confidence,
}

fn key_of(raw: &str) -> (Option<Key>, bool) {
    let markup = raw.contains(['*', '#', '`', '-']);
    let norm: String =
        raw.chars().filter(|c| !matches!(c, '*' | '#' | '`' | '-' | ' ' | '_')).flat_map(char::to_lowercase).collect();
    let key = match norm.as_str() {
        "action" => Some(Key::Action),
        "citedlog" | "citedlogid" | "citation" => Some(Key::Cited),
        "rationale" => Some(Key::Rationale),
        "confidence" => Some(Key::Confidence),
        _ => None,
    };
    (key, markup || raw != raw.trim() || !matches!(raw.trim(), "Action" | "CitedLog" | "Rationale" | "Confidence"))
}

fn parse_lines(body: &str, out: &mut ParsedAnswer) {
    let mut seen: [u8; 4] = [0; 4];
    let mut last: Option<Key> = None;
    let mut conflicting_action = false;
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once(':') else {
            out.flag(FormatProblem::ExtraText);
            continue;
        };
        let (key, odd) = key_of(k);
        let Some(key) = key else {
            out.flag(FormatProblem::ExtraText);
            continue;
        };
        if odd {
            out.flag(FormatProblem::Markup);
        }
        let v = v.trim().trim_matches('*').trim();
        seen[key as usize] += 1;
        if seen[key as usize] > 1 {
            out.flag(FormatProblem::DuplicateKey);
        }
        if last.is_some_and(|l| l > key) {
            out.flag(FormatProblem::WrongOrder);
        }
        last = Some(key);
        match key {
            Key::Action if seen[0] > 1 => {
                // A repeated Action line is graded only if it says exactly the same thing.
                if TriageAction::parse_loose(v) != out.action || out.action.is_none() {
                    conflicting_action = true;
                }
            }
            Key::Action => set_action(out, v),
            Key::Cited => {
                if seen[1] > 1 || v.split([',', ' ', ';', '|']).filter(|s| !s.is_empty()).count() > 1 {
                    out.cited = None;
                    seen[1] = seen[1].max(2);
                    out.flag(FormatProblem::BadCitation);
                } else {
                    set_cited(out, v);
                }
            }
            Key::Rationale => set_rationale(out, v),
            Key::Confidence => set_confidence(out, v.trim_end_matches('%').trim().parse::<f64>().ok()),
        }
    }
    if conflicting_action {
        out.action = None;
    }
    if seen[1] > 1 {
        out.cited = None;
    }
    finish(out);
}

fn finish(out: &mut ParsedAnswer) {
    if out.action.is_none() {
        out.flag(FormatProblem::MissingAction);
    }
    if out.cited.is_none() {
        out.flag(FormatProblem::MissingCitation);
    }
    if out.rationale.is_none() {
        out.flag(FormatProblem::MissingRationale);
    }
}

/// The canonical three-line answer (what the oracle and scripted baselines write).
pub fn format_answer(action: TriageAction, cited: LogId, rationale: &str) -> String {
    format!("Action: {action}\nCitedLog: {cited}\nRationale: {rationale}")
}
