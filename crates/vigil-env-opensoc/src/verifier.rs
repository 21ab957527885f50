//! The ground-truth labeler: a transparent rule cascade over the structured events only.
//!
//! Inputs are the events' types and typed fields. The category, the attacker's claimed label,
//! the narrative and the free-text `cmdline` are never read, so no text can move the label.
//! Every rule names the event that made it fire; that event is a correct citation.
//!
//! | level | rule | fires on |
//! |---|---|---|
//! | escalate | `exfil_volume` | cumulative `bytes_out` to one untrusted external address reaches 100 MB (the crossing flow) |
//! | escalate | `account_takeover` | `auth.login_success` for a user within 30 min after that user's 5th failure within 10 min |
//! | escalate | `self_privilege_grant` | `priv.grant` of a privileged role, no ticket, actor = user |
//! | block_ip | `c2_beacon` | `net.beacon` to an untrusted external address, count ≥ 10, interval ≤ 1 h |
//! | block_ip | `external_brute_force` | 5th failure for one user from one external source within 10 min |
//! | block_ip | `password_spray` | failure that makes 5 distinct users failing from one external source within 10 min |
//! | quarantine_host | `lolbin_suspicious_parent` | a LOLBin started by an Office / server process |
//! | quarantine_host | `masquerade` | a system process name with the wrong parent |
//! | monitor | `failed_login_cluster` | 3rd failure for one user within 10 min |
//! | monitor | `unsanctioned_grant` | `priv.grant` of a privileged role, no ticket, actor ≠ user |
//! | monitor | `short_beacon` | `net.beacon` to an untrusted external address that is not `c2_beacon` (count ≥ 2) |
//! | monitor | `large_upload` | cumulative `bytes_out` to one untrusted external address reaches 10 MB |
//! | dismiss | `no_rule` | nothing fired; the citation is the event the alert was raised on |
//!
//! The highest level with a firing rule wins (escalate > block_ip > quarantine_host > monitor >
//! dismiss); every event that fired a rule of that level is an accepted citation.

use std::net::IpAddr;

use serde::Serialize;

use crate::action::TriageAction;
use crate::net::{is_internal, is_untrusted_external};
use crate::schema::{EventKind, IncidentParams, LogId};

/// Failures for one user within [`AUTH_WINDOW_S`] that make a brute force.
pub const BRUTE_FORCE_FAILURES: usize = 5;
/// Failures for one user within [`AUTH_WINDOW_S`] worth monitoring.
pub const CLUSTER_FAILURES: usize = 3;
/// Distinct users failing from one external source within the window that make a spray.
pub const SPRAY_USERS: usize = 5;
/// Sliding window for counting failures.
pub const AUTH_WINDOW_S: i64 = 600;
/// How long after a brute force a success counts as a takeover.
pub const TAKEOVER_WINDOW_S: i64 = 1800;
/// Beacon repetitions that make C2.
pub const BEACON_MIN_COUNT: u32 = 10;
/// Longest beacon interval that still counts as C2.
pub const BEACON_MAX_INTERVAL_S: u32 = 3600;
/// Cumulative bytes to one untrusted destination that make exfiltration.
pub const EXFIL_BYTES: u64 = 100_000_000;
/// Cumulative bytes to one untrusted destination worth monitoring.
pub const UPLOAD_WATCH_BYTES: u64 = 10_000_000;

/// Living-off-the-land binaries (compared case-insensitively).
pub const KNOWN_LOLBINS: [&str; 13] = [
    "powershell.exe", "pwsh.exe", "cmd.exe", "rundll32.exe", "regsvr32.exe", "mshta.exe", "certutil.exe",
    "bitsadmin.exe", "wmic.exe", "cscript.exe", "wscript.exe", "msbuild.exe", "installutil.exe",
];
/// Parents that make a LOLBin start suspicious: document readers and server processes.
pub const SUSPICIOUS_LOLBIN_PARENTS: [&str; 8] =
    ["winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "acrord32.exe", "w3wp.exe", "sqlservr.exe", "java.exe"];
/// System processes and the only parent each may have.
pub const EXPECTED_PARENTS: [(&str, &str); 4] =
    [("svchost.exe", "services.exe"), ("lsass.exe", "wininit.exe"), ("services.exe", "wininit.exe"), ("csrss.exe", "smss.exe")];
/// Roles whose grant is privileged (case-insensitive).
pub const PRIVILEGED_ROLES: [&str; 5] = ["admin", "domain_admin", "global_admin", "root", "security_admin"];

fn in_list(list: &[&str], s: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(s))
}

/// Is `process` a LOLBin?
pub fn is_lolbin(process: &str) -> bool {
    in_list(&KNOWN_LOLBINS, process)
}

/// Is `role` privileged?
pub fn is_privileged_role(role: &str) -> bool {
    in_list(&PRIVILEGED_ROLES, role)
}

/// The required parent of a system process name, if it is one.
pub fn expected_parent(process: &str) -> Option<&'static str> {
    EXPECTED_PARENTS.iter().find(|(p, _)| p.eq_ignore_ascii_case(process)).map(|&(_, parent)| parent)
}

/// One rule of the cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum RuleId {
    ExfilVolume,
    AccountTakeover,
    SelfPrivilegeGrant,
    C2Beacon,
    ExternalBruteForce,
    PasswordSpray,
    LolbinSuspiciousParent,
    Masquerade,
    FailedLoginCluster,
    UnsanctionedGrant,
    ShortBeacon,
    LargeUpload,
    NoRule,
}

impl RuleId {
    /// Every rule, in table order.
    pub const ALL: [RuleId; 13] = [
        RuleId::ExfilVolume,
        RuleId::AccountTakeover,
        RuleId::SelfPrivilegeGrant,
        RuleId::C2Beacon,
        RuleId::ExternalBruteForce,
        RuleId::PasswordSpray,
        RuleId::LolbinSuspiciousParent,
        RuleId::Masquerade,
        RuleId::FailedLoginCluster,
        RuleId::UnsanctionedGrant,
        RuleId::ShortBeacon,
        RuleId::LargeUpload,
        RuleId::NoRule,
    ];

    /// The action the rule demands.
    pub const fn action(self) -> TriageAction {
        match self {
            RuleId::ExfilVolume | RuleId::AccountTakeover | RuleId::SelfPrivilegeGrant => TriageAction::Escalate,
            RuleId::C2Beacon | RuleId::ExternalBruteForce | RuleId::PasswordSpray => TriageAction::BlockIp,
            RuleId::LolbinSuspiciousParent | RuleId::Masquerade => TriageAction::QuarantineHost,
            RuleId::FailedLoginCluster | RuleId::UnsanctionedGrant | RuleId::ShortBeacon | RuleId::LargeUpload => {
                TriageAction::Monitor
            }
            RuleId::NoRule => TriageAction::Dismiss,
        }
    }

    /// Snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleId::ExfilVolume => "exfil_volume",
            RuleId::AccountTakeover => "account_takeover",
            RuleId::SelfPrivilegeGrant => "self_privilege_grant",
            RuleId::C2Beacon => "c2_beacon",
            RuleId::ExternalBruteForce => "external_brute_force",
            RuleId::PasswordSpray => "password_spray",
            RuleId::LolbinSuspiciousParent => "lolbin_suspicious_parent",
            RuleId::Masquerade => "masquerade",
            RuleId::FailedLoginCluster => "failed_login_cluster",
            RuleId::UnsanctionedGrant => "unsanctioned_grant",
            RuleId::ShortBeacon => "short_beacon",
            RuleId::LargeUpload => "large_upload",
            RuleId::NoRule => "no_rule",
        }
    }

    /// A one-sentence reason, used as the gold rationale.
    pub const fn rationale(self) -> &'static str {
        match self {
            RuleId::ExfilVolume => "Over 100 MB left for an untrusted external address: likely exfiltration, escalate.",
            RuleId::AccountTakeover => "A login succeeded right after a brute-force burst on the same account: escalate.",
            RuleId::SelfPrivilegeGrant => "An account granted itself a privileged role without a change ticket: escalate.",
            RuleId::C2Beacon => "Regular beaconing to an untrusted external address looks like C2: block the IP.",
            RuleId::ExternalBruteForce => "Repeated failed logins from one external source: block the IP.",
            RuleId::PasswordSpray => "One external source is failing logins across many accounts: block the IP.",
            RuleId::LolbinSuspiciousParent => "A LOLBin was spawned by a document or server process: quarantine the host.",
            RuleId::Masquerade => "A system process name runs under the wrong parent: quarantine the host.",
            RuleId::FailedLoginCluster => "Several failed logins for one account, below the brute-force threshold: monitor.",
            RuleId::UnsanctionedGrant => "A privileged role was granted without a change ticket: monitor.",
            RuleId::ShortBeacon => "A few periodic connections to an untrusted external address: monitor.",
            RuleId::LargeUpload => "A sizeable upload to an untrusted external address, below exfiltration volume: monitor.",
            RuleId::NoRule => "No rule fires on these events; the alert is benign noise: dismiss.",
        }
    }
}

/// One rule firing on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Firing {
    /// The rule.
    pub rule: RuleId,
    /// The event that made it fire.
    pub log_id: LogId,
}

/// The verifier's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Ground-truth action.
    pub action: TriageAction,
    /// The first rule (in table order) of the winning level.
    pub rule: RuleId,
    /// Accepted citations, in log order; the first one is the primary trigger.
    pub triggers: Vec<LogId>,
    /// Every rule that fired at any level, in detection order (for tests and explanations).
    pub fired: Vec<Firing>,
}

impl Verdict {
    /// The primary triggering log id (what the oracle cites).
    pub fn primary_trigger(&self) -> LogId {
        self.triggers[0]
    }

    /// Is `id` an accepted citation?
    pub fn accepts(&self, id: LogId) -> bool {
        self.triggers.contains(&id)
    }
}

/// Index of the event the alert is raised on: the first event of the category's family, or the
/// first event when the family is absent (or the category is `benign_noise`).
pub fn anchor_index(params: &IncidentParams) -> usize {
    params
        .category
        .family()
        .and_then(|t| params.events.iter().position(|e| e.kind.event_type() == t))
        .unwrap_or(0)
}

struct Failure<'a> {
    ts: i64,
    user: &'a str,
    src: IpAddr,
}

/// Runs the cascade. Pure and deterministic; reads only event types and typed fields.
///
/// An incident without events (which the schema never produces) gets `dismiss` with no trigger;
/// callers go through the schema first.
pub fn compute_ground_truth(params: &IncidentParams) -> Verdict {
    let ev = &params.events;
    let mut fired: Vec<Firing> = Vec::with_capacity(4);
    let mut fire = |rule: RuleId, i: usize| fired.push(Firing { rule, log_id: ev[i].log_id });
    let mut failures: Vec<Failure<'_>> = Vec::new();
    let mut bursts: Vec<(&str, i64, usize)> = Vec::new(); // (user, ts, index) of each 5th failure
    let mut flows: Vec<(IpAddr, u64)> = Vec::new(); // cumulative bytes per untrusted destination

    for (i, e) in ev.iter().enumerate() {
        let ts = e.ts.secs();
        match &e.kind {
            EventKind::AuthLoginFailure { user, src_ip, .. } => {
                let (user, src): (&str, IpAddr) = (user, *src_ip);
                failures.push(Failure { ts, user, src });
                let recent = |f: &&Failure<'_>| f.ts <= ts && ts - f.ts <= AUTH_WINDOW_S;
                let same_user = failures.iter().filter(recent).filter(|f| f.user == user).count();
                if same_user == CLUSTER_FAILURES {
                    fire(RuleId::FailedLoginCluster, i);
                }
                if same_user == BRUTE_FORCE_FAILURES {
                    bursts.push((user, ts, i));
                }
                if !is_internal(src) {
                    if failures.iter().filter(recent).filter(|f| f.user == user && f.src == src).count() == BRUTE_FORCE_FAILURES {
                        fire(RuleId::ExternalBruteForce, i);
                    }
                    // Distinct users failing from `src` in the window; fires when this event adds the 5th.
                    let (earlier, _) = failures.split_at(failures.len() - 1);
                    let from_src = |f: &&Failure<'_>| recent(f) && f.src == src;
                    let new_user = !earlier.iter().filter(from_src).any(|f| f.user == user);
                    let distinct = failures
                        .iter()
                        .enumerate()
                        .filter(|(k, f)| from_src(f) && !failures[..*k].iter().filter(from_src).any(|g| g.user == f.user))
                        .count();
                    if new_user && distinct == SPRAY_USERS {
                        fire(RuleId::PasswordSpray, i);
                    }
                }
            }
            EventKind::AuthLoginSuccess { user, .. } => {
                let hit = bursts.iter().any(|&(u, t, k)| u == user.as_ref() && k < i && ts >= t && ts - t <= TAKEOVER_WINDOW_S);
                if hit {
                    fire(RuleId::AccountTakeover, i);
                }
            }
            EventKind::PrivGrant { user, role, actor, ticket } => {
                if is_privileged_role(role) && ticket.is_none() {
                    let own = actor.eq_ignore_ascii_case(user);
                    fire(if own { RuleId::SelfPrivilegeGrant } else { RuleId::UnsanctionedGrant }, i);
                }
            }
            EventKind::ProcExec { process, parent, .. } => {
                if let Some(p) = parent {
                    if is_lolbin(process) && in_list(&SUSPICIOUS_LOLBIN_PARENTS, p) {
                        fire(RuleId::LolbinSuspiciousParent, i);
                    }
                    if expected_parent(process).is_some_and(|want| !want.eq_ignore_ascii_case(p)) {
                        fire(RuleId::Masquerade, i);
                    }
                }
            }
            EventKind::NetBeacon { dst_ip: Some(dst), interval_s, count, .. } if is_untrusted_external(*dst) => {
                if *count >= BEACON_MIN_COUNT && *interval_s <= BEACON_MAX_INTERVAL_S {
                    fire(RuleId::C2Beacon, i);
                } else if *count >= 2 {
                    fire(RuleId::ShortBeacon, i);
                }
            }
            EventKind::NetFlow { dst_ip, bytes_out, .. } if is_untrusted_external(*dst_ip) => {
                let slot = match flows.iter().position(|(d, _)| d == dst_ip) {
                    Some(k) => k,
                    None => {
                        flows.push((*dst_ip, 0));
                        flows.len() - 1
                    }
                };
                let before = flows[slot].1;
                let after = before.saturating_add(*bytes_out);
                flows[slot].1 = after;
                if before < UPLOAD_WATCH_BYTES && after >= UPLOAD_WATCH_BYTES {
                    fire(RuleId::LargeUpload, i);
                }
                if before < EXFIL_BYTES && after >= EXFIL_BYTES {
                    fire(RuleId::ExfilVolume, i);
                }
            }
            _ => {}
        }
    }

    let action = fired.iter().map(|f| f.rule.action()).max().unwrap_or(TriageAction::Dismiss);
    if action == TriageAction::Dismiss {
        let triggers = ev.get(anchor_index(params)).map(|e| vec![e.log_id]).unwrap_or_default();
        return Verdict { action, rule: RuleId::NoRule, triggers, fired };
    }
    let rule = RuleId::ALL.into_iter().find(|r| r.action() == action && fired.iter().any(|f| f.rule == *r)).unwrap_or(RuleId::NoRule);
    let mut triggers: Vec<LogId> = Vec::with_capacity(2);
    for e in ev {
        if fired.iter().any(|f| f.log_id == e.log_id && f.rule.action() == action) {
            triggers.push(e.log_id);
        }
    }
    Verdict { action, rule, triggers, fired }
}
