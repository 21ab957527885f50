//! The evidence heuristic's investigation on seeds with background activity: no single row
//! tells the attack apart (every attack step has benign look-alikes), so it links rows by host.
//! A host counts the kinds of suspicious step its trusted rows show (an initial-vector alert, a
//! login from outside the network, a flagged beacon, a share enumeration, a scheduled task);
//! the attack's patient zero shows at least three, a benign host at most two. The answers are
//! then read off that host's own rows.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::evidence::Transcript;
use crate::evidence::text_kv;

/// Alert types of the initial vectors.
const VECTOR_ALERTS: &[(&str, &str)] = &[
    ("phish_click", "phish"),
    ("auth_bruteforce", "credential_stuffing"),
    ("web_exploit", "exposed_service"),
    ("suspicious_download", "malicious_download"),
    ("usb_device", "insider_usb"),
];

/// Alert types that only seeds with linked evidence have (how the heuristic knows it should
/// link rather than take the first mention).
pub(super) fn is_chain_alert(kind: &str) -> bool {
    kind == "beacon_detected" || VECTOR_ALERTS.iter().any(|(a, _)| *a == kind)
}

/// What the rows say about one host.
#[derive(Debug, Default)]
struct HostEvidence {
    kinds: BTreeSet<&'static str>,
    users: Vec<String>,
    remote_users: Vec<String>,
    domains: Vec<String>,
    targets: Vec<String>,
    vector: Option<String>,
}

/// Answers linked through one host.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Chain {
    pub(super) host: Option<String>,
    pub(super) user: Option<String>,
    pub(super) domain: Option<String>,
    pub(super) target: Option<String>,
    pub(super) vector: Option<String>,
}

impl Chain {
    pub(super) fn complete(&self) -> bool {
        self.host.is_some()
            && self.user.is_some()
            && self.domain.is_some()
            && self.target.is_some()
            && self.vector.is_some()
    }
}

fn s<'a>(row: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    row.get(k).and_then(Value::as_str)
}

/// The patient zero the trusted rows single out (at least three kinds, no tie), with what its
/// rows name; `None` while no host stands out.
pub(super) fn chain(t: &Transcript) -> Option<Chain> {
    let mut hosts: BTreeMap<String, HostEvidence> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for row in t.rows() {
        if s(row, "trust_tier") == Some("untrusted") || row.contains_key("email_id") {
            continue;
        }
        let id = ["alert_id", "auth_id", "flow_id", "event_id"].iter().find_map(|k| s(row, k)).unwrap_or("");
        if !seen.insert(id.to_string()) {
            continue;
        }
        if let Some(kind) = s(row, "alert_type") {
            let kv: BTreeMap<&str, &str> = text_kv(s(row, "message").unwrap_or("")).into_iter().collect();
            if let Some((_, v)) = VECTOR_ALERTS.iter().find(|(a, _)| *a == kind)
                && let Some(h) = kv.get("host")
            {
                let e = hosts.entry(h.to_string()).or_default();
                e.kinds.insert("vector");
                e.vector = Some(v.to_string());
                e.users.extend(kv.get("user").map(|u| u.to_string()));
            } else if kind == "beacon_detected"
                && let (Some(h), Some(d)) = (kv.get("src_host"), kv.get("dst_domain"))
            {
                let e = hosts.entry(h.to_string()).or_default();
                e.kinds.insert("beacon");
                e.domains.push(d.to_string());
            }
        } else if let Some(ip) = s(row, "source_ip") {
            let ok = row.get("success").and_then(Value::as_i64) == Some(1);
            if let (true, false, Some(h), Some(u)) = (ok, ip.starts_with("10."), s(row, "host_id"), s(row, "user_id")) {
                let e = hosts.entry(h.to_string()).or_default();
                e.kinds.insert("remote_login");
                e.remote_users.push(u.to_string());
            }
        } else if let (Some(cmd), Some(h)) = (s(row, "command_line"), s(row, "host_id")) {
            let kv: BTreeMap<&str, &str> = text_kv(cmd).into_iter().collect();
            let user = s(row, "user_id").map(str::to_string);
            if kv.get("cmd") == Some(&"enumerate_share") || cmd.contains("cmd=enumerate_share") {
                let e = hosts.entry(h.to_string()).or_default();
                e.kinds.insert("discovery");
                e.targets.extend(kv.get("target").map(|x| x.to_string()));
                e.users.extend(user);
            } else if s(row, "process_name") == Some("schtasks.exe") && cmd.contains("create_task") {
                let e = hosts.entry(h.to_string()).or_default();
                e.kinds.insert("persistence");
                e.users.extend(user);
            }
        }
    }
    let max = hosts.values().map(|e| e.kinds.len()).max()?;
    let top: Vec<(&String, &HostEvidence)> = hosts.iter().filter(|(_, e)| e.kinds.len() == max).collect();
    if max < 3 || top.len() != 1 {
        return None;
    }
    let (host, e) = top[0];
    Some(Chain {
        host: Some(host.clone()),
        user: e.remote_users.first().or(e.users.first()).cloned(),
        domain: e.domains.first().cloned(),
        target: e.targets.first().cloned(),
        vector: e.vector.clone(),
    })
}
