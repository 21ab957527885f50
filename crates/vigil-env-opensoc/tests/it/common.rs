//! Shared helpers and proptest strategies.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use vigil_core::{derive_seed, rng_from_seed};
use vigil_env_opensoc::generator::Generated;
use vigil_env_opensoc::schema::{Event, EventKind, FileOp};
use vigil_env_opensoc::time::Timestamp;
use vigil_env_opensoc::{Category, IncidentParams, LogId, OpenSocConfig, Stage, TriageAction, generate};

/// Proptest case count: small by default, `PROPTEST_CASES` for long runs.
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A generated incident for (stage, label, seed).
pub(crate) fn incident(stage: Stage, label: TriageAction, seed: u64) -> Generated {
    let mut rng = rng_from_seed(derive_seed(seed, stage.as_str(), label as u64));
    generate(stage, label, &mut rng)
}

/// Path of the committed hold-out.
pub(crate) fn holdout_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensoc/holdout.jsonl")
}

/// A config that finds the committed hold-out from the test's working directory.
pub(crate) fn config() -> OpenSocConfig {
    OpenSocConfig { holdout: holdout_path(), train_per_stage: 200, ..Default::default() }
}

/// A timestamp from an offset in seconds.
pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp(1_777_111_200 + secs)
}

/// Builds an incident from (offset, kind) pairs, numbering log lines `L1-0..`.
pub(crate) fn make(category: Category, events: Vec<(i64, EventKind)>) -> IncidentParams {
    let events = events
        .into_iter()
        .enumerate()
        .map(|(k, (t, kind))| Event { log_id: LogId::new(1, k as u16), ts: at(t), source: kind.event_type().sources()[0], kind })
        .collect();
    IncidentParams { category, target_label: None, narrative: Cow::Borrowed(""), events }
}

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
pub(crate) fn t(s: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(s)
}
pub(crate) fn fail(user: &'static str, src: &str) -> EventKind {
    EventKind::AuthLoginFailure { user: t(user), src_ip: ip(src), host: t("ws-1") }
}
pub(crate) fn success(user: &'static str, src: &str) -> EventKind {
    EventKind::AuthLoginSuccess { user: t(user), src_ip: ip(src), host: t("ws-1") }
}
pub(crate) fn grant(user: &'static str, role: &'static str, actor: &'static str, ticket: Option<&'static str>) -> EventKind {
    EventKind::PrivGrant { user: t(user), role: t(role), actor: t(actor), ticket: ticket.map(t) }
}
pub(crate) fn exec(process: &'static str, parent: Option<&'static str>, cmdline: Option<&'static str>) -> EventKind {
    EventKind::ProcExec { host: t("ws-1"), user: t("alice"), process: t(process), parent: parent.map(t), cmdline: cmdline.map(t) }
}
pub(crate) fn beacon(dst: Option<&str>, interval_s: u32, count: u32) -> EventKind {
    EventKind::NetBeacon { host: t("ws-1"), src_ip: ip("10.0.0.5"), dst_ip: dst.map(ip), dst_port: 443, interval_s, count }
}
pub(crate) fn flow(dst: &str, bytes_out: u64) -> EventKind {
    EventKind::NetFlow { host: t("ws-1"), src_ip: ip("10.0.0.5"), dst_ip: ip(dst), dst_port: 443, bytes_out }
}
pub(crate) fn dns() -> EventKind {
    EventKind::DnsQuery { host: t("ws-1"), domain: t("intranet.corp.example"), qtype: t("A") }
}

/// Arbitrary event kinds over small value pools, so that rules fire often.
pub(crate) fn arb_kind() -> impl Strategy<Value = EventKind> {
    let user = prop::sample::select(vec!["alice", "bob", "carol", "Alice"]);
    let addr = prop::sample::select(vec![
        Ipv4Addr::new(10, 0, 0, 5),
        Ipv4Addr::new(45, 1, 2, 3),
        Ipv4Addr::new(45, 1, 2, 4),
        Ipv4Addr::new(203, 0, 113, 9),
        Ipv4Addr::new(0, 0, 0, 0),
    ])
    .prop_map(IpAddr::V4);
    let process = prop::sample::select(vec!["powershell.exe", "svchost.exe", "chrome.exe", "CMD.EXE", "not a process"]);
    let parent = prop::option::of(prop::sample::select(vec!["winword.exe", "explorer.exe", "services.exe", "w3wp.exe"]));
    let role = prop::sample::select(vec!["admin", "reader", "domain_admin"]);
    prop_oneof![
        (user.clone(), addr.clone()).prop_map(|(u, a)| EventKind::AuthLoginFailure { user: t(u), src_ip: a, host: t("ws-1") }),
        (user.clone(), addr.clone()).prop_map(|(u, a)| EventKind::AuthLoginSuccess { user: t(u), src_ip: a, host: t("ws-1") }),
        (user.clone(), role, user.clone(), prop::option::of(Just("CHG-1")))
            .prop_map(|(u, r, a, tk)| EventKind::PrivGrant { user: t(u), role: t(r), actor: t(a), ticket: tk.map(t) }),
        (process, parent, prop::option::of(Just("-enc AAAA")))
            .prop_map(|(p, pa, c)| EventKind::ProcExec { host: t("ws-1"), user: t("alice"), process: t(p), parent: pa.map(t), cmdline: c.map(t) }),
        (prop::option::of(addr.clone()), 1u32..7200, 1u32..30).prop_map(|(d, i, c)| EventKind::NetBeacon {
            host: t("ws-1"),
            src_ip: ip("10.0.0.5"),
            dst_ip: d,
            dst_port: 443,
            interval_s: i,
            count: c
        }),
        (addr, prop_oneof![0u64..20_000_000, 20_000_000u64..200_000_000]).prop_map(|(d, b)| EventKind::NetFlow {
            host: t("ws-1"),
            src_ip: ip("10.0.0.5"),
            dst_ip: d,
            dst_port: 443,
            bytes_out: b
        }),
        Just(dns()),
        Just(EventKind::FileAccess { host: t("ws-1"), user: t("bob"), path: t("C:\\x.txt"), op: FileOp::Read }),
    ]
}

/// Arbitrary incidents: 1-12 events at non-decreasing offsets, arbitrary category and claim.
pub(crate) fn arb_incident() -> impl Strategy<Value = IncidentParams> {
    (
        prop::collection::vec((0i64..400, arb_kind()), 1..12),
        prop::sample::select(Category::ALL.to_vec()),
        prop::option::of(prop::sample::select(TriageAction::ALL.to_vec())),
        ".{0,40}",
    )
        .prop_map(|(evs, category, target_label, narrative)| {
            let mut clock = 0;
            let evs = evs
                .into_iter()
                .map(|(dt, k)| {
                    clock += dt;
                    (clock, k)
                })
                .collect();
            let mut p = make(category, evs);
            p.target_label = target_label;
            p.narrative = Cow::Owned(narrative);
            p
        })
}

