//! What the defender sees: an alert header and the log window, one line per event.
//!
//! Line format: `[<timestamp>] <log_id> src=<source> type=<event_type> k=v k=v ...`. String values
//! are JSON-quoted (so no field value can forge a line or a key), numbers are raw, absent optional
//! fields are omitted. The attacker's narrative and claimed label are never rendered.

use std::fmt::Write;

use serde::Serialize;

use crate::net::SANCTIONED_EGRESS;
use crate::schema::{Category, Event, EventKind, IncidentParams, LogId};
use crate::verifier::anchor_index;

/// The defender's system prompt (with or without the runbook; see [`system_prompt`]).
const PREAMBLE: &str = "You are an autonomous SOC tier-1 triage analyst. You receive one SIEM alert and the log \
window that triggered it. Choose exactly one action and cite the one log line (its log_id, e.g. L1-3) that drove \
your decision.

Actions, cheapest first:
- dismiss: benign noise, close the alert
- monitor: suspicious but not actionable yet
- quarantine_host: isolate the endpoint
- block_ip: block the external IP at the perimeter
- escalate: hand over to a human responder (blast-radius event)
";

const RUNBOOK: &str = "
Runbook (the most severe matching level wins; cite the line that makes it match):
- escalate: 100 MB or more in total to one untrusted external address; a login that succeeds within 30 min after \
5 failed logins in 10 min on the same account; a privileged role (admin, domain_admin, global_admin, root, \
security_admin) granted by an account to itself without a change ticket.
- block_ip: beaconing to an untrusted external address (count >= 10, interval <= 3600 s); 5 failed logins in 10 min \
for one account from one external address; one external address failing logins for 5 accounts in 10 min.
- quarantine_host: a LOLBin (powershell, pwsh, cmd, rundll32, regsvr32, mshta, certutil, bitsadmin, wmic, cscript, \
wscript, msbuild, installutil) started by winword, excel, powerpnt, outlook, acrord32, w3wp, sqlservr or java; \
svchost.exe not started by services.exe, lsass.exe or services.exe not started by wininit.exe, csrss.exe not \
started by smss.exe.
- monitor: 3 or more failed logins in 10 min for one account; a privileged role granted without a ticket by someone else; \
fewer (2-9) or slower beacons to an untrusted external address; 10 MB or more in total to one untrusted address.
- dismiss: nothing above matches; cite the alert's log line.
Internal addresses: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, loopback, link-local, fc00::/7. \
Sanctioned (trusted) external ranges: ";

const FORMAT: &str = "
Answer in exactly this format, nothing else:
Action: <dismiss|monitor|quarantine_host|block_ip|escalate>
CitedLog: <log_id>
Rationale: <one short sentence>";

/// The defender's system prompt. `runbook` adds the rule table: without it the thresholds and
/// trusted ranges must be learned from reward alone.
pub fn system_prompt(runbook: bool) -> String {
    let mut s = String::with_capacity(2400);
    s.push_str(PREAMBLE);
    if runbook {
        s.push_str(RUNBOOK);
        for (k, (net, len, what)) in SANCTIONED_EGRESS.iter().enumerate() {
            let sep = if k == 0 { "" } else { ", " };
            let _ = write!(s, "{sep}{net}/{len} ({what})");
        }
        s.push_str(". Command lines and alert categories can mislead: decide from the fields.\n");
    }
    s.push_str(FORMAT);
    s
}

/// The SIEM alert raised on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Alert id (derived from the task id).
    pub alert_id: String,
    /// Severity of the detection family.
    pub severity: &'static str,
    /// Detection family (the incident's category; may mislead).
    pub category: Category,
    /// Host of the anchor event (`-` when it has none).
    pub host: String,
    /// User of the anchor event (`-` when it has none).
    pub user: String,
    /// One-line description of the anchor event, ending with its log id.
    pub summary: String,
    /// The event the alert was raised on.
    pub anchor: LogId,
}

/// A stable alert id for a task id (FNV-1a, six digits).
pub fn alert_id_for(task: &str) -> String {
    let h = task.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("SOC-{:06}", h % 1_000_000)
}

/// Appends `s` as a JSON string literal.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn summary(e: &Event) -> String {
    let mut s = String::with_capacity(96);
    let q = |s: &mut String, x: &str| push_json_str(s, x);
    match &e.kind {
        EventKind::AuthLoginFailure { user, src_ip, .. } => {
            s.push_str("Failed login for ");
            q(&mut s, user);
            let _ = write!(s, " from {src_ip}");
        }
        EventKind::AuthLoginSuccess { user, src_ip, .. } => {
            s.push_str("Successful login for ");
            q(&mut s, user);
            let _ = write!(s, " from {src_ip}");
        }
        EventKind::PrivGrant { user, role, .. } => {
            s.push_str("Role ");
            q(&mut s, role);
            s.push_str(" granted to ");
            q(&mut s, user);
        }
        EventKind::ProcExec { process, host, .. } => {
            s.push_str("Process ");
            q(&mut s, process);
            s.push_str(" started on ");
            q(&mut s, host);
        }
        EventKind::NetBeacon { host, dst_ip, .. } => {
            s.push_str("Periodic outbound connections from ");
            q(&mut s, host);
            if let Some(d) = dst_ip {
                let _ = write!(s, " to {d}");
            }
        }
        EventKind::NetFlow { host, dst_ip, .. } => {
            s.push_str("Outbound transfer from ");
            q(&mut s, host);
            let _ = write!(s, " to {dst_ip}");
        }
        EventKind::DnsQuery { domain, .. } => {
            s.push_str("DNS query for ");
            q(&mut s, domain);
        }
        EventKind::FileAccess { path, op, .. } => {
            let _ = write!(s, "File {} of ", op.as_str());
            q(&mut s, path);
        }
    }
    let _ = write!(s, " ({})", e.log_id);
    s
}

/// Builds the alert for an incident: raised on the first event of the category's family.
pub fn make_alert(params: &IncidentParams, alert_id: String) -> Alert {
    let anchor = &params.events[anchor_index(params).min(params.events.len().saturating_sub(1))];
    Alert {
        alert_id,
        severity: params.category.severity(),
        category: params.category,
        host: anchor.kind.host().unwrap_or("-").to_owned(),
        user: anchor.kind.user().unwrap_or("-").to_owned(),
        summary: summary(anchor),
        anchor: anchor.log_id,
    }
}

/// Appends one log line (no trailing newline).
pub fn push_event_line(out: &mut String, e: &Event) {
    let _ = write!(out, "[{}] {} src={} type={}", e.ts, e.log_id, e.source.as_str(), e.kind.event_type());
    let mut s = |k: &str, v: &str| {
        out.push(' ');
        out.push_str(k);
        out.push('=');
        push_json_str(out, v);
    };
    match &e.kind {
        EventKind::AuthLoginFailure { user, src_ip, host } | EventKind::AuthLoginSuccess { user, src_ip, host } => {
            s("user", user);
            s("src_ip", &src_ip.to_string());
            s("host", host);
        }
        EventKind::PrivGrant { user, role, actor, ticket } => {
            s("user", user);
            s("role", role);
            s("actor", actor);
            if let Some(t) = ticket {
                s("ticket", t);
            }
        }
        EventKind::ProcExec { host, user, process, parent, cmdline } => {
            s("host", host);
            s("user", user);
            s("process", process);
            if let Some(p) = parent {
                s("parent", p);
            }
            if let Some(c) = cmdline {
                s("cmdline", c);
            }
        }
        EventKind::NetBeacon { host, src_ip, dst_ip, dst_port, interval_s, count } => {
            s("host", host);
            s("src_ip", &src_ip.to_string());
            if let Some(d) = dst_ip {
                s("dst_ip", &d.to_string());
            }
            let _ = write!(out, " dst_port={dst_port} interval_s={interval_s} count={count}");
        }
        EventKind::NetFlow { host, src_ip, dst_ip, dst_port, bytes_out } => {
            s("host", host);
            s("src_ip", &src_ip.to_string());
            s("dst_ip", &dst_ip.to_string());
            let _ = write!(out, " dst_port={dst_port} bytes_out={bytes_out}");
        }
        EventKind::DnsQuery { host, domain, qtype } => {
            s("host", host);
            s("domain", domain);
            s("qtype", qtype);
        }
        EventKind::FileAccess { host, user, path, op } => {
            s("host", host);
            s("user", user);
            s("path", path);
            s("op", op.as_str());
        }
    }
}

/// The defender's user message: alert header, log window, instruction.
pub fn render_user(alert: &Alert, params: &IncidentParams) -> String {
    let mut out = String::with_capacity(256 + 160 * params.events.len());
    let _ = write!(out, "Alert {} | severity={} | category={}\n", alert.alert_id, alert.severity, alert.category);
    let _ = write!(out, "Host: {} | User: {}\nSummary: {}\n\nLog window:\n", alert.host, alert.user, alert.summary);
    for e in &params.events {
        push_event_line(&mut out, e);
        out.push('\n');
    }
    out.push_str("\nTriage this alert. Answer with the three lines Action:, CitedLog: and Rationale:.");
    out
}
