//! The plausibility checker: is this a coherent incident at all?
//!
//! An allow-list grammar rather than a blacklist of known contradictions: every event must have
//! the shape real telemetry of its type has, the window must be ordered and short, and the
//! claimed category must be backed by evidence of its family (e.g. `data_exfiltration` needs a
//! flow that leaves the organisation). The attacker is paid for fooling the defender only on
//! incidents that pass; the check never changes the ground truth.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::net::{is_internal, is_unroutable};
use crate::schema::{Category, Event, EventKind, EventType, IncidentParams, LogId};
use crate::verifier::is_lolbin;

/// Longest time span of one log window.
pub const MAX_WINDOW_S: i64 = 86_400;
/// Longest time a beacon summary may cover (`count × interval_s`).
pub const MAX_BEACON_SPAN_S: u64 = 7 * 86_400;
/// DNS record types the resolver logs.
pub const QTYPES: [&str; 8] = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR", "SRV"];

/// Which plausibility rule rejected an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum PlausibilityRule {
    LogIdSequence,
    TimestampOrder,
    TimestampRange,
    SourceMismatch,
    UnroutableAddress,
    NameShape,
    LolbinWithoutParent,
    BeaconWithoutDestination,
    BeaconShape,
    FlowShape,
    DomainShape,
    CategoryEvidence,
}

/// Why an incident is implausible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("implausible incident ({rule:?}{}): {reason}", log_id.map(|l| format!(" at {l}")).unwrap_or_default())]
pub struct Implausible {
    /// The rule that failed.
    pub rule: PlausibilityRule,
    /// The offending event, when one is to blame.
    pub log_id: Option<LogId>,
    /// Human-readable reason.
    pub reason: String,
}

fn fail(rule: PlausibilityRule, e: Option<&Event>, reason: impl fmt::Display) -> Result<(), Implausible> {
    Err(Implausible { rule, log_id: e.map(|e| e.log_id), reason: reason.to_string() })
}

fn name_ok(s: &str, extra: &[u8]) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

fn exe_ok(s: &str) -> bool {
    s.len() > 4 && s.to_ascii_lowercase().ends_with(".exe") && name_ok(s, b"._-")
}

/// A DNS name: dot-separated labels of letters, digits and hyphens, at least two labels.
pub fn domain_ok(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').count() >= 2
        && s.split('.').all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && name_ok(l, b"-"))
}

fn ips(kind: &EventKind) -> [Option<IpAddr>; 2] {
    match kind {
        EventKind::AuthLoginFailure { src_ip, .. } | EventKind::AuthLoginSuccess { src_ip, .. } => [Some(*src_ip), None],
        EventKind::NetBeacon { src_ip, dst_ip, .. } => [Some(*src_ip), *dst_ip],
        EventKind::NetFlow { src_ip, dst_ip, .. } => [Some(*src_ip), Some(*dst_ip)],
        _ => [None, None],
    }
}

fn check_event(e: &Event) -> Result<(), Implausible> {
    use PlausibilityRule as R;
    let t = e.kind.event_type();
    if !t.sources().contains(&e.source) {
        return fail(R::SourceMismatch, Some(e), format_args!("{t} events do not come from `{}`", e.source.as_str()));
    }
    if let Some(ip) = ips(&e.kind).into_iter().flatten().find(|ip| is_unroutable(*ip)) {
        return fail(R::UnroutableAddress, Some(e), format_args!("{ip} is not a usable endpoint address"));
    }
    if let Some(h) = e.kind.host().filter(|h| !name_ok(h, b".-")) {
        return fail(R::NameShape, Some(e), format_args!("host `{h}` is not a host name"));
    }
    if let Some(u) = e.kind.user().filter(|u| !name_ok(u, b"._@-")) {
        return fail(R::NameShape, Some(e), format_args!("user `{u}` is not an account name"));
    }
    match &e.kind {
        EventKind::PrivGrant { role, actor, ticket, .. } => {
            if !name_ok(role, b"_-") || !name_ok(actor, b"._@-") || ticket.as_ref().is_some_and(|t| !name_ok(t, b"-")) {
                return fail(R::NameShape, Some(e), "role, actor and ticket must be plain identifiers");
            }
        }
        EventKind::ProcExec { process, parent, .. } => {
            if !exe_ok(process) || parent.as_ref().is_some_and(|p| !exe_ok(p)) {
                return fail(R::NameShape, Some(e), "process and parent must be executable names like `cmd.exe`");
            }
            if parent.is_none() && is_lolbin(process) {
                return fail(R::LolbinWithoutParent, Some(e), format_args!("LOLBin `{process}` has no parent process"));
            }
        }
        EventKind::NetBeacon { src_ip, dst_ip, interval_s, count, .. } => {
            let Some(dst) = dst_ip else {
                return fail(R::BeaconWithoutDestination, Some(e), "a beacon needs a destination");
            };
            if dst == src_ip || *count < 2 || u64::from(*count) * u64::from(*interval_s) > MAX_BEACON_SPAN_S {
                return fail(R::BeaconShape, Some(e), "a beacon needs a distinct destination, count >= 2 and a span <= 7 days");
            }
        }
        EventKind::NetFlow { src_ip, dst_ip, bytes_out, .. } => {
            if !is_internal(*src_ip) || src_ip == dst_ip || *bytes_out == 0 {
                return fail(R::FlowShape, Some(e), "flow records are egress from an internal source to another address, with bytes_out > 0");
            }
        }
        EventKind::DnsQuery { domain, qtype, .. } => {
            if !domain_ok(domain) || !QTYPES.contains(&qtype.as_ref()) {
                return fail(R::DomainShape, Some(e), format_args!("`{domain}` / `{qtype}` is not a DNS name and record type"));
            }
        }
        EventKind::AuthLoginFailure { .. } | EventKind::AuthLoginSuccess { .. } | EventKind::FileAccess { .. } => {}
    }
    Ok(())
}

/// Do the events hold evidence of `category`'s family? (`benign_noise` needs none.)
pub(crate) fn category_supported(p: &IncidentParams, category: Category) -> bool {
    let has = |t: EventType| p.events.iter().any(|e| e.kind.event_type() == t);
    match category {
        Category::BenignNoise => true,
        Category::DataExfiltration => {
            p.events.iter().any(|e| matches!(&e.kind, EventKind::NetFlow { dst_ip, .. } if !is_internal(*dst_ip)))
        }
        Category::CredentialCompromise => p.events.iter().any(|s| match &s.kind {
            EventKind::AuthLoginSuccess { user, .. } => p
                .events
                .iter()
                .any(|f| matches!(&f.kind, EventKind::AuthLoginFailure { user: u, .. } if u == user)),
            _ => false,
        }),
        c => c.family().is_none_or(has),
    }
}

fn category_evidence(p: &IncidentParams) -> Result<(), Implausible> {
    if category_supported(p, p.category) {
        return Ok(());
    }
    let need = match p.category {
        Category::DataExfiltration => "a net.flow to a destination outside the organisation".to_owned(),
        Category::CredentialCompromise => "a failed and a successful login for the same user".to_owned(),
        c => format!("at least one {} event", c.family().map_or("", EventType::as_str)),
    };
    fail(PlausibilityRule::CategoryEvidence, None, format_args!("category `{}` needs {need}", p.category))
}

/// Checks that `params` is a coherent incident. Deterministic; independent of the verifier.
pub fn check_plausibility(params: &IncidentParams) -> Result<(), Implausible> {
    use PlausibilityRule as R;
    let ev = &params.events;
    let Some(first) = ev.first() else {
        return fail(R::LogIdSequence, None, "an incident needs at least one event");
    };
    for (k, e) in ev.iter().enumerate() {
        if e.log_id != LogId::new(first.log_id.turn, k as u16) {
            return fail(R::LogIdSequence, Some(e), format_args!("expected log id L{}-{k} at position {k}", first.log_id.turn));
        }
        if k > 0 && e.ts < ev[k - 1].ts {
            return fail(R::TimestampOrder, Some(e), "timestamps go backwards");
        }
        if !(2000..2100).contains(&e.ts.year()) {
            return fail(R::TimestampRange, Some(e), "timestamps must fall in 2000..2099");
        }
        check_event(e)?;
    }
    if ev[ev.len() - 1].ts.secs() - first.ts.secs() > MAX_WINDOW_S {
        return fail(R::TimestampRange, ev.last(), "a log window spans at most 24 hours");
    }
    category_evidence(params)
}
