//! Incident templates, one function each. Every template documents which rule makes its label;
//! `tests::every_template_yields_its_label` checks that claim on many seeds.

use rand::Rng;

use super::Ctx;
use super::pools::*;
use crate::action::TriageAction::{self, BlockIp, Dismiss, Escalate, Monitor, QuarantineHost};
use crate::schema::Category::{self, *};

const ALL: u8 = 0b1111;
const S2UP: u8 = 0b1110;
const S3UP: u8 = 0b1100;
const S4: u8 = 0b1000;
const MB: u64 = 1_000_000;

/// One way of building the core events of an incident.
#[derive(Debug)]
pub struct Template {
    /// Stable name (recorded in hold-out and SFT files).
    pub name: &'static str,
    /// The label the verifier gives its output.
    pub label: TriageAction,
    /// Alert category it is raised under.
    pub category: Category,
    /// Bit set of [`super::Stage::bit`] values where it is used.
    pub stages: u8,
    pub(crate) build: fn(&mut Ctx<'_>),
}

macro_rules! t {
    ($name:ident, $label:expr, $cat:expr, $stages:expr) => {
        Template { name: stringify!($name), label: $label, category: $cat, stages: $stages, build: $name }
    };
}

/// Every template.
pub static TEMPLATES: [Template; 36] = [
    t!(noise_dns, Dismiss, BenignNoise, ALL),
    t!(noise_login, Dismiss, BenignNoise, ALL),
    t!(noise_file, Dismiss, BenignNoise, ALL),
    t!(typo_login, Dismiss, BruteForce, ALL),
    t!(benign_process, Dismiss, MalwareExecution, ALL),
    t!(internal_beacon, Dismiss, C2Beacon, ALL),
    t!(small_upload, Dismiss, DataExfiltration, ALL),
    t!(plain_grant, Dismiss, PrivilegeEscalation, ALL),
    t!(admin_lolbin, Dismiss, MalwareExecution, S3UP),
    t!(svchost_normal, Dismiss, MalwareExecution, S3UP),
    t!(backup_upload, Dismiss, DataExfiltration, S3UP),
    t!(update_beacon, Dismiss, C2Beacon, S3UP),
    t!(ticketed_grant, Dismiss, PrivilegeEscalation, S3UP),
    t!(internal_bulk_copy, Dismiss, BenignNoise, S3UP),
    t!(spread_failures, Dismiss, BruteForce, S4),
    t!(scattered_uploads, Dismiss, DataExfiltration, S4),
    t!(failure_cluster, Monitor, BruteForce, S2UP),
    t!(internal_brute_force, Monitor, BruteForce, S2UP),
    t!(other_grant, Monitor, PrivilegeEscalation, ALL),
    t!(short_beacon, Monitor, C2Beacon, ALL),
    t!(medium_upload, Monitor, DataExfiltration, ALL),
    t!(split_medium_upload, Monitor, DataExfiltration, S4),
    t!(late_success, Monitor, CredentialCompromise, S4),
    t!(burst_other_success, Monitor, BruteForce, S4),
    t!(office_lolbin, QuarantineHost, MalwareExecution, ALL),
    t!(masquerade, QuarantineHost, MalwareExecution, ALL),
    t!(web_shell, QuarantineHost, MalwareExecution, S2UP),
    t!(c2_beacon, BlockIp, C2Beacon, ALL),
    t!(external_brute_force, BlockIp, BruteForce, S2UP),
    t!(password_spray, BlockIp, BruteForce, S2UP),
    t!(exfil, Escalate, DataExfiltration, ALL),
    t!(self_grant, Escalate, PrivilegeEscalation, ALL),
    t!(account_takeover, Escalate, CredentialCompromise, S2UP),
    t!(takeover_then_grant, Escalate, CredentialCompromise, S3UP),
    t!(chunked_exfil, Escalate, DataExfiltration, S4),
    t!(slow_c2_boundary, BlockIp, C2Beacon, S4),
];

fn any_ip(c: &mut Ctx<'_>, p_external: f64) -> std::net::IpAddr {
    if c.chance(p_external) { c.external_ip() } else { c.internal_ip() }
}

// ---- dismiss: no rule fires ----

fn noise_dns(c: &mut Ctx<'_>) {
    let h = c.workstation();
    c.dns(0, h);
}
fn noise_login(c: &mut Ctx<'_>) {
    let (u, ip, h) = (c.user(), c.internal_ip(), c.workstation());
    c.success(0, u, ip, h);
}
fn noise_file(c: &mut Ctx<'_>) {
    let (u, h) = (c.user(), c.workstation());
    c.file(0, h, u);
}
/// At most 2 failures (cluster needs 3), then the user gets in.
fn typo_login(c: &mut Ctx<'_>) {
    let (u, h, ip) = (c.user(), c.workstation(), any_ip(c, 0.3));
    if !c.multi() {
        return c.fail(0, u, ip, h);
    }
    let mut t = 0;
    for _ in 0..c.range(1, 2) {
        c.fail(t, u, ip, h);
        t += c.range(3, 40);
    }
    c.success(t, u, ip, h);
}
fn benign_process(c: &mut Ctx<'_>) {
    let (u, h, p) = (c.user(), c.workstation(), c.pick(&BENIGN_PROCESSES));
    c.exec(0, h, u, p, "explorer.exe", None);
}
/// Internal destinations never count as C2.
fn internal_beacon(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.internal_ip());
    let (iv, n) = (c.range(30, 600) as u32, c.range(10, 500) as u32);
    c.beacon(0, h, src, dst, iv, n);
}
/// Under 10 MB to an untrusted address: below every volume rule.
fn small_upload(c: &mut Ctx<'_>) {
    let (h, src, dst, b) = (c.workstation(), c.internal_ip(), c.external_ip(), c.range_u(5_000, 9 * MB));
    c.flow(0, h, src, dst, b);
}
/// Ordinary roles are not privileged, ticket or not.
fn plain_grant(c: &mut Ctx<'_>) {
    let (u, r, a) = (c.user(), c.pick(&PLAIN_ROLES), c.pick(&ADMINS));
    let ticket = if c.chance(0.5) { Some(c.pick(&TICKETS)) } else { None };
    c.grant(0, u, r, a, ticket);
}
/// A LOLBin from the shell: explorer.exe is not a suspicious parent, whatever the command line says.
fn admin_lolbin(c: &mut Ctx<'_>) {
    let (u, h, p) = (c.user(), c.workstation(), c.pick(&["powershell.exe", "cmd.exe", "certutil.exe"]));
    let cmd = if c.chance(0.6) { c.pick(&SCARY_CMDLINES) } else { c.pick(&ROUTINE_CMDLINES) };
    c.exec(0, h, u, p, "explorer.exe", Some(cmd));
}
fn svchost_normal(c: &mut Ctx<'_>) {
    let (u, h) = (c.user(), c.server());
    let (p, parent) = c.pick(&[("svchost.exe", "services.exe"), ("lsass.exe", "wininit.exe"), ("services.exe", "wininit.exe")]);
    c.exec(0, h, u, p, parent, None);
}
/// Large, but to the sanctioned backup range.
fn backup_upload(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.server(), c.internal_ip(), c.sanctioned_ip());
    for k in 0..c.range(1, 2) {
        let (b, t) = (c.range_u(200 * MB, 5_000 * MB), k * c.range(30, 300));
        c.flow(t, h, src, dst, b);
    }
}
fn update_beacon(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.sanctioned_ip());
    let (iv, n) = (c.range(300, 3600) as u32, c.range(20, 100) as u32);
    c.beacon(0, h, src, dst, iv, n);
}
/// Privileged, but under a change ticket (self-service or by an admin).
fn ticketed_grant(c: &mut Ctx<'_>) {
    let (u, r, tk) = (c.user(), c.pick(&PRIV_ROLES), c.pick(&TICKETS));
    let a = if c.chance(0.5) { u } else { c.pick(&ADMINS) };
    c.grant(0, u, r, a, Some(tk));
}
fn internal_bulk_copy(c: &mut Ctx<'_>) {
    let (h, src, dst, b) = (c.server(), c.internal_ip(), c.internal_ip(), c.range_u(1_000 * MB, 10_000 * MB));
    c.flow(0, h, src, dst, b);
}
/// 5-7 failures at least 320 s apart: never 3 inside 600 s, so no auth rule fires.
fn spread_failures(c: &mut Ctx<'_>) {
    let (u, h, ip) = (c.user(), c.workstation(), any_ip(c, 0.5));
    let mut t = 0;
    for _ in 0..c.range(5, 7) {
        c.fail(t, u, ip, h);
        t += c.range(320, 900);
    }
    if c.chance(0.5) {
        c.success(t, u, ip, h);
    }
}
/// Each destination stays under 10 MB even though the total does not.
fn scattered_uploads(c: &mut Ctx<'_>) {
    let (h, src) = (c.workstation(), c.internal_ip());
    for k in 0..c.range(3, 4) {
        let (dst, b, t) = (c.external_ip(), c.range_u(3 * MB, 9 * MB), k * c.range(20, 200));
        c.flow(t, h, src, dst, b);
    }
}

// ---- monitor ----

/// 3-4 failures inside 10 min (`failed_login_cluster`), maybe then a success (no takeover: < 5).
fn failure_cluster(c: &mut Ctx<'_>) {
    let (u, h, ip) = (c.user(), c.workstation(), any_ip(c, 0.5));
    let n = if c.adversarial() { 4 } else { c.range(3, 4) };
    let mut t = 0;
    for _ in 0..n {
        c.fail(t, u, ip, h);
        t += c.range(5, 120);
    }
    if c.chance(0.5) {
        c.success(t, u, ip, h);
    }
}
/// A brute force from inside: cannot block an internal address, so `failed_login_cluster`.
fn internal_brute_force(c: &mut Ctx<'_>) {
    let (u, h, ip) = (c.user(), c.workstation(), c.internal_ip());
    let mut t = 0;
    for _ in 0..c.range(5, 8) {
        c.fail(t, u, ip, h);
        t += c.range(5, 60);
    }
}
/// `unsanctioned_grant`: privileged, no ticket, granted by someone else.
fn other_grant(c: &mut Ctx<'_>) {
    let (u, r, a) = (c.user(), c.pick(&PRIV_ROLES), c.pick(&ADMINS));
    c.grant(0, u, r, a, None);
}
/// `short_beacon`: too few repetitions, or (stage 4) too slow for C2.
fn short_beacon(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.external_ip());
    let (iv, n) = if c.adversarial() && c.chance(0.5) {
        (c.range(3601, 7200) as u32, c.range(10, 20) as u32)
    } else {
        (c.range(30, 1800) as u32, if c.adversarial() { 9 } else { c.range(2, 9) as u32 })
    };
    c.beacon(0, h, src, dst, iv, n);
}
/// `large_upload`: 10-99 MB (stage 4: just under the exfiltration line).
fn medium_upload(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.external_ip());
    let b = if c.adversarial() { c.range_u(95 * MB, EXFIL_MINUS_ONE) } else { c.range_u(10 * MB, 99 * MB) };
    c.flow(0, h, src, dst, b);
}
const EXFIL_MINUS_ONE: u64 = 100 * MB - 1;
/// Two or three flows to one destination summing to 10-90 MB.
fn split_medium_upload(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.external_ip());
    for k in 0..c.range(2, 3) {
        let (b, t) = (c.range_u(5 * MB, 30 * MB), k * c.range(30, 600));
        c.flow(t, h, src, dst, b);
    }
}
/// Internal brute force, then the same user logs in more than 30 min after the 5th failure.
fn late_success(c: &mut Ctx<'_>) {
    let (u, h, ip) = (c.user(), c.workstation(), c.internal_ip());
    let mut t = 0;
    for _ in 0..5 {
        c.fail(t, u, ip, h);
        t += c.range(5, 60);
    }
    let ts = t + c.range(1_900, 3_000);
    c.success(ts, u, ip, h);
}
/// Internal brute force on one user; a *different* user logs in.
fn burst_other_success(c: &mut Ctx<'_>) {
    let (u, v, h, ip) = (c.user(), c.user(), c.workstation(), c.internal_ip());
    let mut t = 0;
    for _ in 0..c.range(5, 6) {
        c.fail(t, u, ip, h);
        t += c.range(5, 60);
    }
    let ts = t + c.range(5, 600);
    c.success(ts, v, ip, h);
}

// ---- quarantine_host ----

fn office_lolbin(c: &mut Ctx<'_>) {
    let (u, h, parent) = (c.user(), c.workstation(), c.pick(&BAD_PARENTS[..4]));
    let caps = c.adversarial() && c.chance(0.3);
    let lol = c.pick(&LOLBINS);
    let (lol, parent) = if caps { (upper(lol), upper(parent)) } else { (lol, parent) };
    let cmd = if c.adversarial() && c.chance(0.5) { c.pick(&ROUTINE_CMDLINES) } else { c.pick(&SCARY_CMDLINES) };
    let t = if c.multi() {
        c.exec(0, h, u, if caps { "WINWORD.EXE" } else { "winword.exe" }, "explorer.exe", None);
        c.range(2, 90)
    } else {
        0
    };
    c.exec(t, h, u, lol, parent, Some(cmd));
}
fn upper(s: &'static str) -> &'static str {
    const UP: [(&str, &str); 12] = [
        ("powershell.exe", "PowerShell.EXE"), ("rundll32.exe", "RUNDLL32.EXE"), ("regsvr32.exe", "RegSvr32.exe"),
        ("mshta.exe", "MSHTA.EXE"), ("certutil.exe", "CertUtil.exe"), ("cmd.exe", "CMD.EXE"), ("wscript.exe", "WScript.exe"),
        ("bitsadmin.exe", "BITSAdmin.exe"), ("winword.exe", "WINWORD.EXE"), ("excel.exe", "EXCEL.EXE"),
        ("outlook.exe", "OUTLOOK.EXE"), ("acrord32.exe", "AcroRd32.exe"),
    ];
    UP.iter().find(|(l, _)| *l == s).map_or(s, |(_, u)| u)
}
fn masquerade(c: &mut Ctx<'_>) {
    let (u, h) = (c.user(), c.workstation());
    let (p, parent) = (c.pick(&["svchost.exe", "lsass.exe", "csrss.exe"]), c.pick(&MASQUERADE_PARENTS));
    c.exec(0, h, u, p, parent, None);
}
/// A shell from the web server process.
fn web_shell(c: &mut Ctx<'_>) {
    let (h, parent) = (c.server(), c.pick(&BAD_PARENTS[4..]));
    let cmd = c.pick(&SCARY_CMDLINES[..2]);
    let t = c.range(0, 30);
    let u = c.user();
    c.dns(0, h);
    c.exec(t, h, u, "cmd.exe", parent, Some(cmd));
}

// ---- block_ip ----

fn c2_beacon(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.external_ip());
    let (iv, n) = (c.range(30, 1500) as u32, c.range(10, 400) as u32);
    if c.multi() {
        c.dns(0, h);
    }
    let t = c.range(1, 20);
    c.beacon(t, h, src, dst, iv, n);
}
/// Exactly at the C2 boundary: 10 repetitions, one hour apart.
fn slow_c2_boundary(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.external_ip());
    c.beacon(0, h, src, dst, 3600, 10);
}
/// 5-9 failures for one user from one external address inside 10 min, no success.
fn external_brute_force(c: &mut Ctx<'_>) {
    let (u, h, ip) = (c.user(), c.workstation(), c.external_ip());
    let (n, gap) = if c.adversarial() { (5, (140, 150)) } else { (c.range(5, 9), (3, 60)) };
    let mut t = 0;
    for _ in 0..n {
        c.fail(t, u, ip, h);
        t += c.range(gap.0, gap.1);
    }
}
fn password_spray(c: &mut Ctx<'_>) {
    let (h, ip) = (c.server(), c.external_ip());
    let mut t = 0;
    for _ in 0..c.range(5, 7) {
        let u = c.user();
        c.fail(t, u, ip, h);
        t += c.range(3, 60);
    }
}

// ---- escalate ----

fn exfil(c: &mut Ctx<'_>) {
    let (h, src) = (c.workstation(), c.internal_ip());
    let mut dst = c.external_ip();
    if c.adversarial() && c.chance(0.3) {
        if let std::net::IpAddr::V4(v4) = dst {
            dst = std::net::IpAddr::V6(v4.to_ipv6_mapped());
        }
    }
    let b = if c.adversarial() { c.range_u(100 * MB, 101 * MB) } else { c.range_u(100 * MB, 5_000 * MB) };
    c.flow(0, h, src, dst, b);
}
fn self_grant(c: &mut Ctx<'_>) {
    let (u, r) = (c.user(), c.pick(&PRIV_ROLES));
    let actor = if c.adversarial() && c.chance(0.3) { capitalized(u) } else { u };
    c.grant(0, u, r, actor, None);
}
fn capitalized(u: &'static str) -> &'static str {
    const CAPS: [(&str, &str); 6] =
        [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "DAVE"), ("erin", "Erin"), ("frank", "Frank")];
    CAPS.iter().find(|(l, _)| *l == u).map_or(u, |(_, c)| c)
}
fn account_takeover(c: &mut Ctx<'_>) {
    takeover_core(c);
}
/// 5-8 failures inside 10 min, then success within 30 min of the 5th (`account_takeover`).
fn takeover_core(c: &mut Ctx<'_>) -> (i64, &'static str) {
    let (u, h, ip) = (c.user(), c.workstation(), any_ip(c, 0.6));
    let mut t = 0;
    for _ in 0..c.range(5, 8) {
        c.fail(t, u, ip, h);
        t += c.range(3, 60);
    }
    let ts = t + c.range(5, 1_500);
    c.success(ts, u, ip, h);
    (ts, u)
}
fn takeover_then_grant(c: &mut Ctx<'_>) {
    let (ts, u) = takeover_core(c);
    let (r, a, t) = (c.pick(&PRIV_ROLES), c.pick(&ADMINS), ts + c.range(30, 900));
    c.grant(t, u, r, a, None);
}
/// 3-5 chunks under 100 MB each to one destination; the one that crosses 100 MB fires.
fn chunked_exfil(c: &mut Ctx<'_>) {
    let (h, src, dst) = (c.workstation(), c.internal_ip(), c.external_ip());
    for k in 0..c.range(3, 5) {
        let (b, t) = (c.range_u(34 * MB, 60 * MB), k * c.range(60, 900));
        c.flow(t, h, src, dst, b);
    }
}

/// Stage 4: add one signal of a strictly lower level than `label`, on fresh entities, so the
/// cascade's priority decides (and the extra event is *not* an accepted citation).
pub(crate) fn add_lower_signal(c: &mut Ctx<'_>, label: TriageAction) {
    let choices = match label {
        Escalate => 5,
        BlockIp => 4,
        QuarantineHost => 3,
        _ => return,
    };
    let (lo, hi) = c.span();
    let t = c.range(lo, hi);
    let h = c.workstation();
    match c.rng.random_range(0..choices) {
        0 => {
            let (u, r, a) = (c.user(), c.pick(&PRIV_ROLES), c.pick(&ADMINS));
            c.grant(t, u, r, a, None);
        }
        1 => {
            let (src, dst, iv, n) = (c.internal_ip(), c.external_ip(), c.range(30, 900) as u32, c.range(2, 9) as u32);
            c.beacon(t, h, src, dst, iv, n);
        }
        2 => {
            let (src, dst, b) = (c.internal_ip(), c.external_ip(), c.range_u(10 * MB, 99 * MB));
            c.flow(t, h, src, dst, b);
        }
        3 => {
            let (u, l, p) = (c.user(), c.pick(&LOLBINS), c.pick(&BAD_PARENTS[..4]));
            c.exec(t, h, u, l, p, None);
        }
        _ => {
            let (src, dst, iv, n) = (c.internal_ip(), c.external_ip(), c.range(30, 900) as u32, c.range(10, 200) as u32);
            c.beacon(t, h, src, dst, iv, n);
        }
    }
}
