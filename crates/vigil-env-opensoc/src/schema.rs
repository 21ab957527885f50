//! The incident schema: what an attacker may propose and what a defender sees.
//!
//! The attacker controls structured parameters only (event types and typed field values). The
//! ground-truth action is derived from them by [`crate::verifier`]; the attacker's claimed label
//! and free-text narrative are carried along for the record but never read by the verifier or
//! shown to the defender. JSON conversion with field-path errors is in [`crate::wire`].

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::action::TriageAction;
use crate::time::Timestamp;

/// Field text: borrowed from the generator's static pools (no allocation on the hot path) or
/// owned when parsed from JSON.
pub type Text = Cow<'static, str>;

/// Most events one incident may hold (keeps prompts short and the verifier linear-ish).
pub const MAX_EVENTS: usize = 32;
/// Longest string field, in bytes.
pub const MAX_FIELD_BYTES: usize = 256;
/// Longest attacker narrative, in bytes.
pub const MAX_NARRATIVE_BYTES: usize = 2000;

/// A stable log-line id `L<turn>-<n>`: what the defender cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogId {
    /// Episode turn that produced the log window (1 for generated incidents).
    pub turn: u16,
    /// Position of the line in the window, from 0.
    pub n: u16,
}

impl LogId {
    /// `L<turn>-<n>`.
    pub const fn new(turn: u16, n: u16) -> Self {
        Self { turn, n }
    }

    /// Parses exactly `L<digits>-<digits>` (no sign, no leading zeros, at most 4 digits each).
    pub fn parse(s: &str) -> Option<LogId> {
        let rest = s.strip_prefix('L')?;
        let (t, n) = rest.split_once('-')?;
        Some(LogId { turn: parse_small(t)?, n: parse_small(n)? })
    }
}

fn parse_small(s: &str) -> Option<u16> {
    let ok = !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}-{}", self.turn, self.n)
    }
}

impl Serialize for LogId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LogId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a log id of the form L<turn>-<n>")))
    }
}

/// The telemetry pipeline an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Identity provider (logins).
    Identity,
    /// Identity and access management (role changes).
    Iam,
    /// Endpoint detection and response (process starts).
    Edr,
    /// Flow records from the perimeter.
    Netflow,
    /// Web proxy (periodic outbound connections).
    Proxy,
    /// DNS resolver logs.
    Dns,
    /// File-server audit logs.
    FileAudit,
}

impl Source {
    /// All sources.
    pub const ALL: [Source; 7] =
        [Source::Identity, Source::Iam, Source::Edr, Source::Netflow, Source::Proxy, Source::Dns, Source::FileAudit];

    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Identity => "identity",
            Source::Iam => "iam",
            Source::Edr => "edr",
            Source::Netflow => "netflow",
            Source::Proxy => "proxy",
            Source::Dns => "dns",
            Source::FileAudit => "file_audit",
        }
    }
}

/// Operation on a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOp {
    /// Read.
    Read,
    /// Write.
    Write,
    /// Delete.
    Delete,
}

impl FileOp {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            FileOp::Read => "read",
            FileOp::Write => "write",
            FileOp::Delete => "delete",
        }
    }
}

/// The event vocabulary (dotted wire names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// `auth.login_failure`
    AuthLoginFailure,
    /// `auth.login_success`
    AuthLoginSuccess,
    /// `priv.grant`
    PrivGrant,
    /// `proc.exec`
    ProcExec,
    /// `net.beacon`: a summary of periodic outbound connections.
    NetBeacon,
    /// `net.flow`: one outbound flow record.
    NetFlow,
    /// `dns.query`
    DnsQuery,
    /// `file.access`
    FileAccess,
}

impl EventType {
    /// All event types.
    pub const ALL: [EventType; 8] = [
        EventType::AuthLoginFailure,
        EventType::AuthLoginSuccess,
        EventType::PrivGrant,
        EventType::ProcExec,
        EventType::NetBeacon,
        EventType::NetFlow,
        EventType::DnsQuery,
        EventType::FileAccess,
    ];

    /// Dotted wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::AuthLoginFailure => "auth.login_failure",
            EventType::AuthLoginSuccess => "auth.login_success",
            EventType::PrivGrant => "priv.grant",
            EventType::ProcExec => "proc.exec",
            EventType::NetBeacon => "net.beacon",
            EventType::NetFlow => "net.flow",
            EventType::DnsQuery => "dns.query",
            EventType::FileAccess => "file.access",
        }
    }

    /// Looks up a dotted wire name.
    pub fn from_wire(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The field names this type accepts, required ones first (see [`crate::wire`]).
    pub const fn fields(self) -> &'static [&'static str] {
        match self {
            EventType::AuthLoginFailure | EventType::AuthLoginSuccess => &["user", "src_ip", "host"],
            EventType::PrivGrant => &["user", "role", "actor", "ticket"],
            EventType::ProcExec => &["host", "user", "process", "parent", "cmdline"],
            EventType::NetBeacon => &["host", "src_ip", "dst_ip", "dst_port", "interval_s", "count"],
            EventType::NetFlow => &["host", "src_ip", "dst_ip", "dst_port", "bytes_out"],
            EventType::DnsQuery => &["host", "domain", "qtype"],
            EventType::FileAccess => &["host", "user", "path", "op"],
        }
    }

    /// The sources that may emit this type (plausibility checks the pairing).
    pub const fn sources(self) -> &'static [Source] {
        match self {
            EventType::AuthLoginFailure | EventType::AuthLoginSuccess => &[Source::Identity],
            EventType::PrivGrant => &[Source::Iam],
            EventType::ProcExec => &[Source::Edr],
            EventType::NetBeacon => &[Source::Proxy, Source::Netflow],
            EventType::NetFlow => &[Source::Netflow],
            EventType::DnsQuery => &[Source::Dns],
            EventType::FileAccess => &[Source::FileAudit],
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event's typed fields. Optional fields are the ones real telemetry may lack; whether an
/// absent one makes the incident incoherent is the plausibility checker's call, not the schema's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum EventKind {
    AuthLoginFailure { user: Text, src_ip: IpAddr, host: Text },
    AuthLoginSuccess { user: Text, src_ip: IpAddr, host: Text },
    /// `actor` granted `role` to `user`; `ticket` is the change-management reference, if any.
    PrivGrant { user: Text, role: Text, actor: Text, ticket: Option<Text> },
    /// `cmdline` is free text: rendered for the defender, never read by the verifier.
    ProcExec { host: Text, user: Text, process: Text, parent: Option<Text>, cmdline: Option<Text> },
    /// `count` connections every `interval_s` seconds.
    NetBeacon { host: Text, src_ip: IpAddr, dst_ip: Option<IpAddr>, dst_port: u16, interval_s: u32, count: u32 },
    NetFlow { host: Text, src_ip: IpAddr, dst_ip: IpAddr, dst_port: u16, bytes_out: u64 },
    DnsQuery { host: Text, domain: Text, qtype: Text },
    FileAccess { host: Text, user: Text, path: Text, op: FileOp },
}

impl EventKind {
    /// The event's type.
    pub const fn event_type(&self) -> EventType {
        match self {
            EventKind::AuthLoginFailure { .. } => EventType::AuthLoginFailure,
            EventKind::AuthLoginSuccess { .. } => EventType::AuthLoginSuccess,
            EventKind::PrivGrant { .. } => EventType::PrivGrant,
            EventKind::ProcExec { .. } => EventType::ProcExec,
            EventKind::NetBeacon { .. } => EventType::NetBeacon,
            EventKind::NetFlow { .. } => EventType::NetFlow,
            EventKind::DnsQuery { .. } => EventType::DnsQuery,
            EventKind::FileAccess { .. } => EventType::FileAccess,
        }
    }

    /// The host the event happened on, if the type has one.
    pub fn host(&self) -> Option<&str> {
        match self {
            EventKind::AuthLoginFailure { host, .. }
            | EventKind::AuthLoginSuccess { host, .. }
            | EventKind::ProcExec { host, .. }
            | EventKind::NetBeacon { host, .. }
            | EventKind::NetFlow { host, .. }
            | EventKind::DnsQuery { host, .. }
            | EventKind::FileAccess { host, .. } => Some(host),
            EventKind::PrivGrant { .. } => None,
        }
    }

    /// The user the event is about, if the type has one.
    pub fn user(&self) -> Option<&str> {
        match self {
            EventKind::AuthLoginFailure { user, .. }
            | EventKind::AuthLoginSuccess { user, .. }
            | EventKind::PrivGrant { user, .. }
            | EventKind::ProcExec { user, .. }
            | EventKind::FileAccess { user, .. } => Some(user),
            _ => None,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Event {
    /// Stable id the defender cites.
    pub log_id: LogId,
    /// When it happened.
    pub ts: Timestamp,
    /// Telemetry pipeline.
    pub source: Source,
    /// Type and typed fields.
    pub kind: EventKind,
}

/// The detection family an alert was raised under. It names what the incident *looks like*,
/// not what it is: every family has benign members, so the category never decides the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Background activity.
    BenignNoise,
    /// Repeated failed logins.
    BruteForce,
    /// Failed logins followed by a success.
    CredentialCompromise,
    /// Suspicious process execution (LOLBins, masquerading).
    MalwareExecution,
    /// Periodic outbound connections.
    C2Beacon,
    /// Large outbound transfers.
    DataExfiltration,
    /// Role grants.
    PrivilegeEscalation,
}

impl Category {
    /// All categories.
    pub const ALL: [Category; 7] = [
        Category::BenignNoise,
        Category::BruteForce,
        Category::CredentialCompromise,
        Category::MalwareExecution,
        Category::C2Beacon,
        Category::DataExfiltration,
        Category::PrivilegeEscalation,
    ];

    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::BenignNoise => "benign_noise",
            Category::BruteForce => "brute_force",
            Category::CredentialCompromise => "credential_compromise",
            Category::MalwareExecution => "malware_execution",
            Category::C2Beacon => "c2_beacon",
            Category::DataExfiltration => "data_exfiltration",
            Category::PrivilegeEscalation => "privilege_escalation",
        }
    }

    /// Looks up a wire name.
    pub fn from_wire(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The event type an alert of this family is raised on (`None`: any event).
    pub const fn family(self) -> Option<EventType> {
        match self {
            Category::BenignNoise => None,
            Category::BruteForce => Some(EventType::AuthLoginFailure),
            Category::CredentialCompromise => Some(EventType::AuthLoginSuccess),
            Category::MalwareExecution => Some(EventType::ProcExec),
            Category::C2Beacon => Some(EventType::NetBeacon),
            Category::DataExfiltration => Some(EventType::NetFlow),
            Category::PrivilegeEscalation => Some(EventType::PrivGrant),
        }
    }

    /// Alert severity shown to the defender: a property of the detection family only, so it
    /// carries no information about the ground truth.
    pub const fn severity(self) -> &'static str {
        match self {
            Category::BenignNoise => "low",
            Category::BruteForce | Category::C2Beacon => "medium",
            Category::MalwareExecution | Category::PrivilegeEscalation => "high",
            Category::CredentialCompromise | Category::DataExfiltration => "critical",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incident as the attacker proposes it (or the generator materializes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IncidentParams {
    /// Detection family the alert is raised under.
    pub category: Category,
    /// The label the attacker *claims*. Never consulted for reward.
    pub target_label: Option<TriageAction>,
    /// Attacker's free-text story. Never consulted for reward, never shown to the defender.
    pub narrative: Text,
    /// The log window, in log order.
    pub events: Vec<Event>,
}

impl IncidentParams {
    /// The event with this id, if any.
    pub fn event(&self, id: LogId) -> Option<&Event> {
        self.events.iter().find(|e| e.log_id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ids_parse_strictly() {
        assert_eq!(LogId::parse("L1-0"), Some(LogId::new(1, 0)));
        assert_eq!(LogId::parse("L12-345").unwrap().to_string(), "L12-345");
        for bad in ["L1-", "l1-0", "L01-0", "L1-00", "L-1", "L1-0 ", "L1--0", "L12345-0", "L1-+2", "1-0", ""] {
            assert_eq!(LogId::parse(bad), None, "{bad}");
        }
        assert_eq!(serde_json::to_string(&LogId::new(2, 7)).unwrap(), "\"L2-7\"");
        assert!(serde_json::from_str::<LogId>("\"x\"").is_err());
    }

    #[test]
    fn every_family_has_a_matching_type_and_sources() {
        for c in Category::ALL {
            assert_eq!(Category::from_wire(c.as_str()), Some(c));
        }
        for t in EventType::ALL {
            assert_eq!(EventType::from_wire(t.as_str()), Some(t));
            assert!(!t.sources().is_empty() && !t.fields().is_empty());
        }
    }
}
