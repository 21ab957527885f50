//! Evidence rows of each attack step, written the same way for the attack and for its benign
//! look-alikes (a user on a VPN, an admin's scheduled task, a backup job, a noisy alert): only
//! how the rows of one host and user link up across steps tells them apart.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::seed::LogTable;

/// One log row before it becomes a template.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub(super) table: LogTable,
    pub(super) body: String,
    pub(super) trust: &'static str,
}

fn d(table: LogTable, body: String, trust: &'static str) -> Draft {
    Draft { table, body, trust }
}

/// Who and where a step happens.
#[derive(Debug, Clone, Copy)]
pub(super) struct Actor<'a> {
    pub(super) host: &'a str,
    pub(super) user: &'a str,
}

pub(super) fn severity(rng: &mut ChaCha8Rng) -> &'static str {
    ["low", "medium", "high", "critical"].choose(rng).copied().unwrap_or("medium")
}

pub(super) fn ext_ip(rng: &mut ChaCha8Rng) -> String {
    let net = ["203.0.113", "198.51.100", "192.0.2"].choose(rng).copied().unwrap_or("203.0.113");
    format!("{net}.{}", rng.random_range(2..254))
}

fn bytes(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    rng.random_range(lo..hi)
}

pub(super) fn alert(rng: &mut ChaCha8Rng, kind: &str, message: &str, trust: &'static str) -> Draft {
    let sev = severity(rng);
    d(LogTable::Alerts, format!("ALERT type={kind} severity={sev} message=\"{message}\""), trust)
}

pub(super) fn auth(ok: bool, a: Actor<'_>, ip: &str, method: &str) -> Draft {
    let r = if ok { "success" } else { "failure" };
    d(LogTable::AuthLogs, format!("AUTH {r} user={} host={} src_ip={ip} method={method}", a.user, a.host), "verified")
}

pub(super) fn proc(a: Actor<'_>, process: &str, parent: &str, cmd: &str, trust: &'static str) -> Draft {
    d(
        LogTable::ProcessEvents,
        format!("PROC host={} user={} process={process} parent={parent} cmd={cmd}", a.host, a.user),
        trust,
    )
}

pub(super) fn flow_to_domain(rng: &mut ChaCha8Rng, src: &str, domain: &str, big: bool) -> Draft {
    let n = if big { bytes(rng, 2_000_000, 90_000_000) } else { bytes(rng, 900, 90_000) };
    d(LogTable::Netflow, format!("NETFLOW src={src} dst_domain={domain} port=443 proto=https bytes={n}"), "verified")
}

pub(super) fn flow_to_host(rng: &mut ChaCha8Rng, src: &str, dst: &str) -> Draft {
    let (port, proto) = *[(445, "smb"), (3389, "rdp"), (22, "ssh")].choose(rng).unwrap_or(&(445, "smb"));
    let n = bytes(rng, 900, 900_000);
    d(LogTable::Netflow, format!("NETFLOW src={src} dst={dst} port={port} proto={proto} bytes={n}"), "verified")
}

/// The rows by which initial vector `v` shows, split into what arrives before the compromise
/// (delivery: failed logins, an exploit's inbound flow, a download) and the compromise itself
/// (an alert naming host and user, and the process it started). The phishing email of `phish`
/// is written by the caller (it needs the recipient's address).
pub(super) fn trail(rng: &mut ChaCha8Rng, v: &str, a: Actor<'_>, domain: &str) -> (Vec<Draft>, Vec<Draft>) {
    let ip = ext_ip(rng);
    let (h, u) = (a.host, a.user);
    match v {
        "phish" => (
            vec![],
            vec![
                alert(rng, "phish_click", &format!("host={h} user={u} url_domain={domain}"), "corroborated"),
                proc(a, "powershell.exe", "outlook.exe", "encoded_command", "verified"),
            ],
        ),
        "credential_stuffing" => (
            vec![auth(false, a, &ip, "password"), auth(false, a, &ip, "password")],
            vec![alert(rng, "auth_bruteforce", &format!("host={h} user={u} src_ip={ip}"), "corroborated")],
        ),
        "exposed_service" => (
            vec![d(
                LogTable::Netflow,
                format!("NETFLOW src={ip} dst={h} port=8443 proto=https bytes={}", bytes(rng, 900, 9000)),
                "verified",
            )],
            vec![
                alert(rng, "web_exploit", &format!("host={h} user={u} src_ip={ip}"), "corroborated"),
                proc(a, "cmd.exe", "w3wp.exe", "whoami", "verified"),
            ],
        ),
        "malicious_download" => (
            vec![flow_to_domain(rng, h, domain, false)],
            vec![
                alert(rng, "suspicious_download", &format!("host={h} user={u} dst_domain={domain}"), "corroborated"),
                proc(a, "invoice_viewer.exe", "chrome.exe", "run_from_downloads", "verified"),
            ],
        ),
        _ => (
            vec![],
            vec![
                alert(rng, "usb_device", &format!("host={h} user={u} device=removable"), "corroborated"),
                proc(a, "autorun.exe", "explorer.exe", "run_from_removable", "verified"),
            ],
        ),
    }
}

/// A login from outside the network (the attacker's, or a user on the road).
pub(super) fn remote_login(rng: &mut ChaCha8Rng, a: Actor<'_>) -> Draft {
    let ip = ext_ip(rng);
    let method = ["password", "vpn_sso", "token"].choose(rng).copied().unwrap_or("password");
    auth(true, a, &ip, method)
}

/// A periodic check-in flagged by the IDS, and its flow.
pub(super) fn beacon(rng: &mut ChaCha8Rng, host: &str, domain: &str) -> Vec<Draft> {
    vec![
        alert(rng, "beacon_detected", &format!("src_host={host} dst_domain={domain} interval=60s"), "corroborated"),
        flow_to_domain(rng, host, domain, false),
    ]
}

/// Enumerating a file share.
pub(super) fn discovery(a: Actor<'_>, target: &str) -> Draft {
    proc(a, "net.exe", "cmd.exe", &format!("enumerate_share target={target}"), "verified")
}

/// A scheduled task created from a script.
pub(super) fn persistence(a: Actor<'_>) -> Draft {
    proc(a, "schtasks.exe", "powershell.exe", "create_task", "verified")
}

/// Archiving a data set.
pub(super) fn staging(a: Actor<'_>, target: &str) -> Draft {
    proc(a, "7z.exe", "cmd.exe", &format!("archive target={target}"), "verified")
}

/// A large upload flagged by DLP, and its flow.
pub(super) fn exfil(rng: &mut ChaCha8Rng, host: &str, domain: &str, target: &str) -> Vec<Draft> {
    vec![
        alert(
            rng,
            "exfil_attempt",
            &format!("src_host={host} dst_domain={domain} data_target={target}"),
            "corroborated",
        ),
        flow_to_domain(rng, host, domain, true),
    ]
}
