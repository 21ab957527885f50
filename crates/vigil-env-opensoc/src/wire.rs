//! JSON form of incidents, with strict validation and field-path errors.
//!
//! Wire shape (also what the attacker submits inside `craft_incident`):
//! `{"category": "c2_beacon", "target_label": "dismiss", "narrative": "...", "events": [
//!   {"log_id": "L1-0", "timestamp": "2026-04-25T10:00:00Z", "source": "proxy",
//!    "event_type": "net.beacon", "fields": {"host": "ws-0042", ...}}]}`.
//! Unknown keys anywhere, wrong types, out-of-range numbers, malformed ids or timestamps,
//! control characters and oversized strings are schema violations. Null or empty optional fields
//! count as absent (as the prompt renderer drops them).

use std::borrow::Cow;
use std::net::IpAddr;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::action::TriageAction;
use crate::error::SchemaError;
use crate::schema::{
    Category, Event, EventKind, EventType, FileOp, IncidentParams, LogId, MAX_EVENTS, MAX_FIELD_BYTES,
    MAX_NARRATIVE_BYTES, Source, Text,
};
use crate::time::Timestamp;

/// Largest `bytes_out` accepted (10 TB): anything bigger is a typo or an overflow attempt.
pub const MAX_BYTES_OUT: u64 = 10_000_000_000_000;
/// Largest beacon `count`.
pub const MAX_BEACON_COUNT: u64 = 1_000_000;
/// Largest beacon `interval_s` (one week).
pub const MAX_INTERVAL_S: u64 = 604_800;

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(path: &str, expected: &'static str, v: &Value) -> SchemaError {
    SchemaError::WrongType { path: path.to_owned(), expected, found: type_name(v) }
}

fn invalid(path: &str, reason: impl Into<String>) -> SchemaError {
    SchemaError::Invalid { path: path.to_owned(), reason: reason.into() }
}

fn check_keys(obj: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), SchemaError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(SchemaError::UnknownField { path: join(path, k), expected: allowed.join(", ") }),
        None => Ok(()),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// A string value: no control characters (they could forge log lines), at most `max` bytes.
fn text_value(v: &Value, path: &str, max: usize) -> Result<String, SchemaError> {
    let s = v.as_str().ok_or_else(|| wrong(path, "a string", v))?;
    if s.len() > max {
        return Err(invalid(path, format!("is {} bytes long; at most {max} are allowed", s.len())));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(path, "contains a control character (newline, tab, ...)"));
    }
    Ok(s.to_owned())
}

/// Field accessor for one event's `fields` object.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null() && v.as_str() != Some(""))
    }
    fn p(&self, name: &str) -> String {
        join(&self.path, name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<Text>, SchemaError> {
        self.get(name).map(|v| text_value(v, &self.p(name), MAX_FIELD_BYTES).map(Cow::Owned)).transpose()
    }
    fn text(&self, name: &str) -> Result<Text, SchemaError> {
        self.opt_text(name)?.ok_or_else(|| SchemaError::Missing { path: self.p(name) })
    }
    fn opt_ip(&self, name: &str) -> Result<Option<IpAddr>, SchemaError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let s = v.as_str().ok_or_else(|| wrong(&self.p(name), "an IP address string", v))?;
        s.parse().map(Some).map_err(|_| invalid(&self.p(name), format!("`{s}` is not an IPv4 or IPv6 address")))
    }
    fn ip(&self, name: &str) -> Result<IpAddr, SchemaError> {
        self.opt_ip(name)?.ok_or_else(|| SchemaError::Missing { path: self.p(name) })
    }
    fn uint(&self, name: &str, min: u64, max: u64) -> Result<u64, SchemaError> {
        let v = self.get(name).ok_or_else(|| SchemaError::Missing { path: self.p(name) })?;
        let n = v.as_u64().ok_or_else(|| wrong(&self.p(name), "a non-negative integer", v))?;
        if (min..=max).contains(&n) { Ok(n) } else { Err(invalid(&self.p(name), format!("{n} is outside {min}..={max}"))) }
    }
}

fn parse_kind(t: EventType, f: &Fields<'_>) -> Result<EventKind, SchemaError> {
    Ok(match t {
        EventType::AuthLoginFailure => {
            EventKind::AuthLoginFailure { user: f.text("user")?, src_ip: f.ip("src_ip")?, host: f.text("host")? }
        }
        EventType::AuthLoginSuccess => {
            EventKind::AuthLoginSuccess { user: f.text("user")?, src_ip: f.ip("src_ip")?, host: f.text("host")? }
        }
        EventType::PrivGrant => EventKind::PrivGrant {
            user: f.text("user")?,
            role: f.text("role")?,
            actor: f.text("actor")?,
            ticket: f.opt_text("ticket")?,
        },
        EventType::ProcExec => EventKind::ProcExec {
            host: f.text("host")?,
            user: f.text("user")?,
            process: f.text("process")?,
            parent: f.opt_text("parent")?,
            cmdline: f.opt_text("cmdline")?,
        },
        EventType::NetBeacon => EventKind::NetBeacon {
            host: f.text("host")?,
            src_ip: f.ip("src_ip")?,
            dst_ip: f.opt_ip("dst_ip")?,
            dst_port: f.uint("dst_port", 1, 65_535)? as u16,
            interval_s: f.uint("interval_s", 1, MAX_INTERVAL_S)? as u32,
            count: f.uint("count", 1, MAX_BEACON_COUNT)? as u32,
        },
        EventType::NetFlow => EventKind::NetFlow {
            host: f.text("host")?,
            src_ip: f.ip("src_ip")?,
            dst_ip: f.ip("dst_ip")?,
            dst_port: f.uint("dst_port", 1, 65_535)? as u16,
            bytes_out: f.uint("bytes_out", 0, MAX_BYTES_OUT)?,
        },
        EventType::DnsQuery => EventKind::DnsQuery { host: f.text("host")?, domain: f.text("domain")?, qtype: f.text("qtype")? },
        EventType::FileAccess => {
            let op_path = f.p("op");
            let op = match f.get("op") {
                None => return Err(SchemaError::Missing { path: op_path }),
                Some(v) => match v.as_str() {
                    Some("read") => FileOp::Read,
                    Some("write") => FileOp::Write,
                    Some("delete") => FileOp::Delete,
                    Some(s) => return Err(invalid(&op_path, format!("`{s}` is not one of read, write, delete"))),
                    None => return Err(wrong(&op_path, "a string", v)),
                },
            };
            EventKind::FileAccess { host: f.text("host")?, user: f.text("user")?, path: f.text("path")?, op }
        }
    })
}

fn parse_event(v: &Value, path: &str) -> Result<Event, SchemaError> {
    let obj = v.as_object().ok_or_else(|| wrong(path, "an object", v))?;
    check_keys(obj, path, &["log_id", "timestamp", "source", "event_type", "fields"])?;
    let req = |k: &str| obj.get(k).filter(|v| !v.is_null()).ok_or_else(|| SchemaError::Missing { path: join(path, k) });
    let str_of = |k: &str| -> Result<&str, SchemaError> {
        let v = req(k)?;
        v.as_str().ok_or_else(|| wrong(&join(path, k), "a string", v))
    };
    let id = str_of("log_id")?;
    let log_id = LogId::parse(id).ok_or_else(|| invalid(&join(path, "log_id"), format!("`{id}` is not of the form L<turn>-<n>")))?;
    let ts = str_of("timestamp")?;
    let ts = Timestamp::parse(ts)
        .ok_or_else(|| invalid(&join(path, "timestamp"), format!("`{ts}` is not a UTC timestamp YYYY-MM-DDTHH:MM:SSZ")))?;
    let src = str_of("source")?;
    let source = Source::ALL.into_iter().find(|s| s.as_str() == src).ok_or_else(|| {
        invalid(&join(path, "source"), format!("`{src}` is not a known source ({})", Source::ALL.map(Source::as_str).join(", ")))
    })?;
    let et = str_of("event_type")?;
    let t = EventType::from_wire(et).ok_or_else(|| {
        invalid(&join(path, "event_type"), format!("`{et}` is not a known event type ({})", EventType::ALL.map(EventType::as_str).join(", ")))
    })?;
    let fpath = join(path, "fields");
    let fv = req("fields")?;
    let map = fv.as_object().ok_or_else(|| wrong(&fpath, "an object", fv))?;
    check_keys(map, &fpath, t.fields())?;
    let kind = parse_kind(t, &Fields { map, path: fpath })?;
    Ok(Event { log_id, ts, source, kind })
}

/// Parses and validates an incident from a JSON value.
pub fn incident_from_value(v: &Value) -> Result<IncidentParams, SchemaError> {
    let obj = v.as_object().ok_or_else(|| wrong("", "an object", v))?;
    check_keys(obj, "", &["category", "target_label", "narrative", "events"])?;
    let cat = obj.get("category").filter(|v| !v.is_null()).ok_or_else(|| SchemaError::Missing { path: "category".into() })?;
    let cs = cat.as_str().ok_or_else(|| wrong("category", "a string", cat))?;
    let category = Category::from_wire(cs).ok_or_else(|| {
        invalid("category", format!("`{cs}` is not a known category ({})", Category::ALL.map(Category::as_str).join(", ")))
    })?;
    let target_label = match obj.get("target_label").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let s = v.as_str().ok_or_else(|| wrong("target_label", "a string", v))?;
            Some(s.parse::<TriageAction>().map_err(|e| invalid("target_label", e.to_string()))?)
        }
    };
    let narrative = match obj.get("narrative").filter(|v| !v.is_null()) {
        None => Cow::Borrowed(""),
        Some(v) => Cow::Owned(text_value(v, "narrative", MAX_NARRATIVE_BYTES)?),
    };
    let ev = obj.get("events").ok_or_else(|| SchemaError::Missing { path: "events".into() })?;
    let arr = ev.as_array().ok_or_else(|| wrong("events", "an array", ev))?;
    if arr.is_empty() || arr.len() > MAX_EVENTS {
        return Err(invalid("events", format!("has {} entries; 1..={MAX_EVENTS} are allowed", arr.len())));
    }
    let mut events = Vec::with_capacity(arr.len());
    for (i, e) in arr.iter().enumerate() {
        let path = format!("events[{i}]");
        let ev = parse_event(e, &path)?;
        if events.iter().any(|x: &Event| x.log_id == ev.log_id) {
            return Err(invalid(&join(&path, "log_id"), format!("`{}` is used by an earlier event", ev.log_id)));
        }
        events.push(ev);
    }
    Ok(IncidentParams { category, target_label, narrative, events })
}

/// Parses and validates an incident from JSON text.
pub fn incident_from_json(text: &str) -> Result<IncidentParams, SchemaError> {
    let v: Value = serde_json::from_str(text).map_err(|e| SchemaError::Json(e.to_string()))?;
    incident_from_value(&v)
}

struct FieldsSer<'a>(&'a EventKind);

impl Serialize for FieldsSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            EventKind::AuthLoginFailure { user, src_ip, host } | EventKind::AuthLoginSuccess { user, src_ip, host } => {
                m.serialize_entry("user", user)?;
                m.serialize_entry("src_ip", src_ip)?;
                m.serialize_entry("host", host)?;
            }
            EventKind::PrivGrant { user, role, actor, ticket } => {
                m.serialize_entry("user", user)?;
                m.serialize_entry("role", role)?;
                m.serialize_entry("actor", actor)?;
                if let Some(t) = ticket {
                    m.serialize_entry("ticket", t)?;
                }
            }
            EventKind::ProcExec { host, user, process, parent, cmdline } => {
                m.serialize_entry("host", host)?;
                m.serialize_entry("user", user)?;
                m.serialize_entry("process", process)?;
                if let Some(p) = parent {
                    m.serialize_entry("parent", p)?;
                }
                if let Some(c) = cmdline {
                    m.serialize_entry("cmdline", c)?;
                }
            }
            EventKind::NetBeacon { host, src_ip, dst_ip, dst_port, interval_s, count } => {
                m.serialize_entry("host", host)?;
                m.serialize_entry("src_ip", src_ip)?;
                if let Some(d) = dst_ip {
                    m.serialize_entry("dst_ip", d)?;
                }
                m.serialize_entry("dst_port", dst_port)?;
                m.serialize_entry("interval_s", interval_s)?;
                m.serialize_entry("count", count)?;
            }
            EventKind::NetFlow { host, src_ip, dst_ip, dst_port, bytes_out } => {
                m.serialize_entry("host", host)?;
                m.serialize_entry("src_ip", src_ip)?;
                m.serialize_entry("dst_ip", dst_ip)?;
                m.serialize_entry("dst_port", dst_port)?;
                m.serialize_entry("bytes_out", bytes_out)?;
            }
            EventKind::DnsQuery { host, domain, qtype } => {
                m.serialize_entry("host", host)?;
                m.serialize_entry("domain", domain)?;
                m.serialize_entry("qtype", qtype)?;
            }
            EventKind::FileAccess { host, user, path, op } => {
                m.serialize_entry("host", host)?;
                m.serialize_entry("user", user)?;
                m.serialize_entry("path", path)?;
                m.serialize_entry("op", op.as_str())?;
            }
        }
        m.end()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("log_id", &self.log_id)?;
        m.serialize_entry("timestamp", &self.ts.to_string())?;
        m.serialize_entry("source", self.source.as_str())?;
        m.serialize_entry("event_type", self.kind.event_type().as_str())?;
        m.serialize_entry("fields", &FieldsSer(&self.kind))?;
        m.end()
    }
}

impl Serialize for IncidentParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("category", &self.category)?;
        if let Some(t) = self.target_label {
            m.serialize_entry("target_label", &t)?;
        }
        if !self.narrative.is_empty() {
            m.serialize_entry("narrative", &self.narrative)?;
        }
        m.serialize_entry("events", &self.events)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for IncidentParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        incident_from_value(&v).map_err(serde::de::Error::custom)
    }
}
