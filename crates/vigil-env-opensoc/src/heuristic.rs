//! The keyword heuristic baseline: shallow rules over the rendered prompt text only.
//!
//! It reads event types, a few field values and scary command-line keywords. It knows nothing
//! of time windows, per-account grouping, trusted ranges, tickets or the difference between
//! self- and other-grants, which is exactly what the look-alike and adversarial stages probe.

use crate::action::TriageAction;
use crate::baselines::alert_anchor;
use crate::parse::format_answer;
use crate::schema::LogId;

/// One rendered log line, loosely tokenized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Its id.
    pub id: LogId,
    /// `type=` value.
    pub event_type: &'a str,
    /// `key=value` pairs; string values are unquoted (escapes left as written).
    pub fields: Vec<(&'a str, &'a str)>,
}

impl<'a> LogLine<'a> {
    /// Value of a field.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    fn num(&self, key: &str) -> u64 {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
}

/// Tokenizes `[ts] L1-0 src=x type=y k=v k="quoted value" ...`; `None` for other lines.
pub fn parse_log_line(line: &str) -> Option<LogLine<'_>> {
    let rest = line.strip_prefix('[')?;
    let (_, rest) = rest.split_once("] ")?;
    let (id, mut rest) = rest.split_once(' ')?;
    let id = LogId::parse(id)?;
    let mut fields = Vec::new();
    while let Some((k, after)) = rest.trim_start().split_once('=') {
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let bytes = q.as_bytes();
            let mut i = 0;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            let end = i.min(q.len());
            (q.get(..end)?, q.get((end + 1).min(q.len())..)?)
        } else {
            after.split_once(' ').unwrap_or((after, ""))
        };
        fields.push((k, v));
        rest = next;
    }
    let event_type = fields.iter().find(|(k, _)| *k == "type").map(|(_, v)| *v)?;
    Some(LogLine { id, event_type, fields })
}

fn looks_internal(ip: &str) -> bool {
    ip.starts_with("10.") || ip.starts_with("192.168.") || ip.starts_with("127.") || (16..32).any(|b| ip.starts_with(&format!("172.{b}.")))
}

const SCARY: [&str; 6] = ["-enc", "sekurlsa", "urlcache", "whoami", "javascript:", "mimikatz"];
const SHELLS: [&str; 5] = ["powershell", "cmd.exe", "rundll32", "mshta", "certutil"];
const OFFICE: [&str; 4] = ["winword", "excel", "outlook", "acrord32"];

fn has_any(hay: &str, needles: &[&str]) -> bool {
    let h = hay.to_ascii_lowercase();
    needles.iter().any(|n| h.contains(n))
}

/// The heuristic's answer for a rendered user message.
pub fn keyword_answer(user: &str) -> String {
    let lines: Vec<LogLine<'_>> = user.lines().filter_map(parse_log_line).collect();
    let of = |t: &'static str| lines.iter().filter(move |l| l.event_type == t);
    let fails: Vec<&LogLine<'_>> = of("auth.login_failure").collect();
    let external = |l: &LogLine<'_>| l.get("dst_ip").is_some_and(|d| !looks_internal(d));
    let pick = |a: TriageAction, l: Option<&LogLine<'_>>, why: &str| (a, l.map(|l| l.id), why.to_owned());

    let decision = if let Some(l) = of("net.flow").find(|l| external(l) && l.num("bytes_out") >= 100_000_000) {
        pick(TriageAction::Escalate, Some(l), "Large upload to an outside address.")
    } else if let (true, Some(l)) = (fails.len() >= 5, of("auth.login_success").last()) {
        pick(TriageAction::Escalate, Some(l), "Many failures and then a success.")
    } else if let Some(l) = of("priv.grant").find(|l| l.get("role").is_some_and(|r| r.contains("admin")) && l.get("ticket").is_none()) {
        pick(TriageAction::Escalate, Some(l), "Admin role granted without a ticket.")
    } else if let Some(l) = of("net.beacon").find(|l| external(l) && l.num("count") >= 10) {
        pick(TriageAction::BlockIp, Some(l), "Beaconing to an outside address.")
    } else if fails.len() >= 5 {
        pick(TriageAction::BlockIp, fails.get(4).copied(), "Brute force.")
    } else if let Some(l) = of("proc.exec").find(|l| {
        has_any(l.get("cmdline").unwrap_or(""), &SCARY)
            || (has_any(l.get("process").unwrap_or(""), &SHELLS) && has_any(l.get("parent").unwrap_or(""), &OFFICE))
    }) {
        pick(TriageAction::QuarantineHost, Some(l), "Suspicious process.")
    } else if let Some(l) = of("net.flow")
        .find(|l| external(l) && l.num("bytes_out") >= 10_000_000)
        .or_else(|| of("net.beacon").find(|l| external(l)))
        .or_else(|| fails.get(2).copied())
    {
        pick(TriageAction::Monitor, Some(l), "Something to watch.")
    } else {
        pick(TriageAction::Dismiss, None, "Looks benign.")
    };
    let (action, id, why) = decision;
    let cite = id.or_else(|| alert_anchor(user)).or_else(|| lines.first().map(|l| l.id)).unwrap_or(LogId::new(1, 0));
    format_answer(action, cite, &why)
}
