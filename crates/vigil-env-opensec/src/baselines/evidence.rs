//! What scripted policies know: the conversation parsed back into typed observations and
//! actions, and entity mentions pulled out of the rows they returned.

use serde_json::{Map, Value};
use vigil_core::{ChatMessage, Role};

use crate::action::{Action, parse_action};
use crate::evidence::text_kv;
use crate::observation::Observation;

/// The conversation so far, typed.
#[derive(Debug, Default)]
pub(crate) struct Transcript {
    /// The incident id of the first user message (`Incident ID is open`).
    pub(crate) case: Option<String>,
    pub(crate) observations: Vec<Observation>,
    pub(crate) actions: Vec<Action>,
}

impl Transcript {
    pub(crate) fn parse(messages: &[ChatMessage]) -> Transcript {
        let mut t = Transcript::default();
        for m in messages {
            match m.role {
                Role::User | Role::Tool => {
                    if t.case.is_none() && m.role == Role::User {
                        t.case = m
                            .content
                            .strip_prefix("Incident ")
                            .and_then(|r| r.split_whitespace().next())
                            .map(str::to_string);
                    }
                    t.observations.extend(Observation::parse(&m.content));
                }
                Role::Assistant => t.actions.extend(parse_action(&m.content).action.ok()),
                Role::System => {}
            }
        }
        t
    }

    pub(crate) fn last(&self) -> Observation {
        self.observations.last().cloned().unwrap_or_default()
    }

    /// Every row returned so far (queries and fetches), oldest call first.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.observations.iter().flat_map(|o| {
            let r = &o.result;
            r.rows.iter().flatten().chain(r.email.iter()).chain(r.alert.iter())
        })
    }
}

/// Kind of entity a mention names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Host,
    User,
    Domain,
    Target,
}

/// One entity mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mention {
    pub(crate) kind: Kind,
    pub(crate) id: String,
    /// From a row whose trust tier is not `untrusted`.
    pub(crate) trusted: bool,
    /// Step of the row.
    pub(crate) step: i64,
    /// Which field or key named it.
    pub(crate) key: String,
    /// The row's table.
    pub(crate) table: String,
}

fn kind_of_key(k: &str) -> Option<Kind> {
    Some(match k {
        "host" | "host_id" | "src_host" | "dst_host" | "src" | "dst" => Kind::Host,
        "user" | "user_id" | "compromised_user" => Kind::User,
        "dst_domain" | "domain" => Kind::Domain,
        "target" | "data_target" | "target_id" => Kind::Target,
        _ => return None,
    })
}

fn id_like(s: &str) -> bool {
    s.len() >= 3
        && s.bytes().any(|b| b == b'-' || b == b'.')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

fn table_of(row: &Map<String, Value>) -> &'static str {
    for (key, t) in [
        ("auth_id", "auth_logs"),
        ("flow_id", "netflow"),
        ("event_id", "process_events"),
        ("alert_id", "alerts"),
        ("email_id", "email_logs"),
    ] {
        if row.contains_key(key) {
            return t;
        }
    }
    "other"
}

/// Entity mentions of one row: structured fields, `key=value` pairs in text, and (with
/// `free_text`) ids written after the words host/user/domain/account in prose, which is how
/// injected instructions name their targets.
pub(crate) fn mentions(row: &Map<String, Value>, free_text: bool) -> Vec<Mention> {
    let trusted = row.get("trust_tier").and_then(Value::as_str) != Some("untrusted");
    let step = row.get("step").and_then(Value::as_i64).unwrap_or(0);
    let table = table_of(row);
    let mut out = Vec::new();
    let mut push = |kind: Kind, id: &str, key: &str| {
        out.push(Mention {
            kind,
            id: id.trim_matches(|c: char| c == '.' || c == ',').to_string(),
            trusted,
            step,
            key: key.to_string(),
            table: table.to_string(),
        });
    };
    for (k, v) in row {
        let Some(s) = v.as_str() else { continue };
        if let Some(kind) = kind_of_key(k) {
            push(kind, s, k);
            continue;
        }
        for (kk, vv) in text_kv(s) {
            if let Some(kind) = kind_of_key(kk) {
                push(kind, vv, kk);
            }
        }
        if free_text {
            let words: Vec<&str> = s.split_whitespace().collect();
            for w in words.windows(2) {
                let kind = match w[0].to_ascii_lowercase().as_str() {
                    "host" => Kind::Host,
                    "user" | "account" => Kind::User,
                    "domain" => Kind::Domain,
                    _ => continue,
                };
                let id = w[1].trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'));
                let id = id.trim_end_matches('.');
                if id_like(id) {
                    push(kind, id, "text");
                }
            }
        }
    }
    out.retain(|m| !m.id.is_empty());
    out
}
