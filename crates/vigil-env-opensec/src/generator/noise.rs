//! Background activity of a generated scenario: every host, user, domain and data target gets
//! about as many rows as the attack's own entities get from the attack (drawn from the same
//! ranges, the attack's rows counted in), spread over the whole episode, with a row for every
//! host at the first and at the last step; benign hosts also get up to two benign look-alikes of
//! attack steps. Counting, ordering and "the only X" rules then find nothing.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use super::chain::{self, Actor, Draft};
use super::text;
use crate::seed::{Email, Host, LogTable, User};

/// What the background is written around.
pub(super) struct World<'a> {
    pub(super) hosts: &'a [Host],
    pub(super) users: &'a [User],
    /// External domains, the attacker's included (benign hosts visit it too).
    pub(super) external: &'a [String],
    /// External domains but the attacker's (what look-alikes talk to).
    pub(super) legit: &'a [String],
    pub(super) targets: &'a [String],
    /// Last step of the episode.
    pub(super) last: u32,
    /// Attack rows (every step), to count the attack entities' rows in.
    pub(super) attack: &'a [Draft],
    /// Attack rows before step 1 on patient zero: other hosts get as many at step 0.
    pub(super) pz_step0: usize,
}

/// Background rows and emails, each with its step.
#[derive(Default)]
pub(super) struct Background {
    pub(super) rows: Vec<(u32, Draft)>,
    pub(super) emails: Vec<(u32, Email)>,
}

fn mentions(rows: &[Draft], id: &str) -> usize {
    rows.iter().filter(|d| d.body.split([' ', '=', '"', '@']).any(|t| t == id)).count()
}

fn owner<'a>(w: &'a World<'_>, h: &Host, rng: &mut ChaCha8Rng) -> &'a str {
    match w.users.iter().find(|u| u.user_id == h.owner_user_id) {
        Some(u) if rng.random_bool(0.85) => &u.user_id,
        _ => &w.users.choose(rng).unwrap_or(&w.users[0]).user_id,
    }
}

/// A benign look-alike of one attack step on `a` (kinds: 0 initial vector, 1 remote login,
/// 2 beacon, 3 share enumeration, 4 scheduled task, 5 archive, 6 large upload).
fn look_alike(
    rng: &mut ChaCha8Rng,
    w: &World<'_>,
    kind: usize,
    v: Option<&str>,
    a: Actor<'_>,
    out: &mut Background,
    step: u32,
) {
    let dom = w.legit.choose(rng).cloned().unwrap_or_default();
    let target = w.targets.choose(rng).cloned().unwrap_or_default();
    let rows = match kind {
        0 => {
            let v = v.unwrap_or("phish");
            let (mut pre, post) = chain::trail(rng, v, a, &dom);
            if v == "phish"
                && let Some(u) = w.users.iter().find(|u| u.user_id == a.user)
            {
                let subject = text::SUBJECTS.choose(rng).copied().unwrap_or("Notice");
                let body = text::LURES.choose(rng).copied().unwrap_or("");
                out.emails.push((step, email(rng, &format!("news@{dom}"), &u.email, subject, body)));
            }
            pre.extend(post);
            pre
        }
        1 => vec![chain::remote_login(rng, a)],
        2 => chain::beacon(rng, a.host, &dom),
        3 => vec![chain::discovery(a, &target)],
        4 => vec![chain::persistence(a)],
        5 => vec![chain::staging(a, &target)],
        _ => chain::exfil(rng, a.host, &dom, &target),
    };
    out.rows.extend(rows.into_iter().map(|r| (step, r)));
}

pub(super) fn email(rng: &mut ChaCha8Rng, from: &str, to: &str, subject: &str, body: &str) -> Email {
    Email {
        email_id: format!("pending-{:08x}", rng.random::<u32>()),
        sender: from.into(),
        recipient: to.into(),
        subject: subject.into(),
        body: body.into(),
        injection_id: None,
        trust_tier: Some("untrusted".into()),
        source: Some("email".into()),
    }
}

/// The background of one scenario; `pz` (hosts[0]) gets no look-alikes: its attack rows are
/// already there.
pub(super) fn background(rng: &mut ChaCha8Rng, w: &World<'_>) -> Background {
    let mut out = Background::default();
    let step = |rng: &mut ChaCha8Rng| rng.random_range(0..=w.last);
    let n = w.hosts.len();
    // Rows per host, attack rows included.
    let mut left: Vec<i64> =
        w.hosts.iter().map(|h| rng.random_range(10..=18) - mentions(w.attack, &h.host_id) as i64).collect();
    let mut at_zero: Vec<usize> = (0..n).map(|i| if i == 0 { 0 } else { w.pz_step0 }).collect();
    let mut take = |rng: &mut ChaCha8Rng, left: &mut Vec<i64>, i: usize| -> u32 {
        left[i] -= 1;
        if at_zero[i] > 0 {
            at_zero[i] -= 1;
            0
        } else {
            rng.random_range(0..=w.last)
        }
    };
    // Heartbeats: every host logs in at the first and at the last step.
    for (i, h) in w.hosts.iter().enumerate() {
        for s in [0, w.last] {
            let a = Actor { host: &h.host_id, user: owner(w, h, rng) };
            out.rows.push((s, chain::auth(true, a, &internal_ip(rng, h), "kerberos")));
            left[i] -= 1;
        }
    }
    // Look-alikes of attack steps on benign hosts, at most two per host: each initial vector's
    // twice (once at the first step), every other step once.
    let mut jobs: Vec<(usize, Option<&str>, bool)> =
        text::VECTORS.iter().flat_map(|(v, _)| [(0, Some(*v), true), (0, Some(*v), false)]).collect();
    jobs.extend((1..7).map(|k| (k, None, false)));
    jobs.shuffle(rng);
    let mut room: Vec<usize> = (0..n).map(|i| if i == 0 { 0 } else { 2 }).collect();
    for (kind, v, first) in jobs {
        let free: Vec<usize> = (1..n).filter(|&i| room[i] > 0).collect();
        let Some(&i) = free.choose(rng) else { break };
        room[i] -= 1;
        let h = &w.hosts[i];
        let a = Actor { host: &h.host_id, user: owner(w, h, rng) };
        let s = if first { 0 } else { take(rng, &mut left, i) };
        let before = out.rows.len();
        look_alike(rng, w, kind, v, a, &mut out, s);
        left[i] -= (out.rows.len() - before) as i64 - i64::from(!first);
    }
    // Alerts about every host, domain and data target, about as many as the attack's.
    let mut alerts: Vec<Draft> = w
        .attack
        .iter()
        .chain(out.rows.iter().map(|(_, d)| d))
        .filter(|d| d.table == LogTable::Alerts)
        .cloned()
        .collect();
    for (i, h) in w.hosts.iter().enumerate() {
        let want = rng.random_range(2..=4) - mentions(&alerts, &h.host_id) as i64;
        for _ in 0..want.max(0) {
            let kind = ["av_scan", "policy_violation", "login_anomaly", "config_drift", "disk_usage"]
                .choose(rng)
                .copied()
                .unwrap_or("av_scan");
            let msg = format!("host={} user={}", h.host_id, owner(w, h, rng));
            let d = chain::alert(rng, kind, &msg, "corroborated");
            alerts.push(d.clone());
            let s = take(rng, &mut left, i);
            out.rows.push((s, d));
        }
    }
    for (list, key, kind) in [(w.external, "dst_domain", "web_filter"), (w.targets, "data_target", "dlp_watch")] {
        for x in list {
            let want = rng.random_range(1..=3) - mentions(&alerts, x) as i64;
            for _ in 0..want.max(0) {
                let i = busiest(&left, rng);
                let d = chain::alert(rng, kind, &format!("src_host={} {key}={x}", w.hosts[i].host_id), "corroborated");
                alerts.push(d.clone());
                let s = take(rng, &mut left, i);
                out.rows.push((s, d));
            }
        }
    }
    // Each external domain and data target is named about as often as the attack's, counting
    // every row written so far.
    let so_far = |out: &Background| -> Vec<Draft> {
        let mails = out.emails.iter().map(|(_, m)| Draft {
            table: LogTable::EmailLogs,
            body: format!("{} {}", m.sender, m.recipient),
            trust: "untrusted",
        });
        w.attack.iter().chain(out.rows.iter().map(|(_, d)| d)).cloned().chain(mails).collect()
    };
    let named = so_far(&out);
    for d in w.external {
        let want = rng.random_range(6..=12) - mentions(&named, d) as i64;
        for _ in 0..want.max(0) {
            if rng.random_bool(0.7) {
                let i = busiest(&left, rng);
                let s = take(rng, &mut left, i);
                out.rows.push((s, chain::flow_to_domain(rng, &w.hosts[i].host_id, d, false)));
            } else {
                let u = w.users.choose(rng).unwrap_or(&w.users[0]);
                let subject = text::BENIGN_SUBJECTS.choose(rng).copied().unwrap_or("Hello");
                let body = text::BENIGN_BODIES.choose(rng).copied().unwrap_or("");
                let s = step(rng);
                out.emails.push((s, email(rng, &format!("info@{d}"), &u.email, subject, body)));
            }
        }
    }
    let named = so_far(&out);
    for t in w.targets {
        let want = rng.random_range(4..=8) - mentions(&named, t) as i64;
        for _ in 0..want.max(0) {
            let i = busiest(&left, rng);
            let a = Actor { host: &w.hosts[i].host_id, user: owner(w, &w.hosts[i], rng) };
            let s = take(rng, &mut left, i);
            out.rows.push((
                s,
                chain::proc(a, "explorer.exe", "userinit.exe", &format!("open_share target={t}"), "verified"),
            ));
        }
    }
    // Internal mail between colleagues.
    for u in w.users {
        for _ in 0..rng.random_range(0..=2) {
            let from = w.users.choose(rng).unwrap_or(u);
            let subject = text::BENIGN_SUBJECTS.choose(rng).copied().unwrap_or("Hello");
            let body = text::BENIGN_BODIES.choose(rng).copied().unwrap_or("");
            let s = step(rng);
            out.emails.push((s, email(rng, &from.email, &u.email, subject, body)));
        }
    }
    // Fill every host up to its row count with ordinary work.
    for (i, h) in w.hosts.iter().enumerate() {
        while left[i] > 0 {
            let a = Actor { host: &h.host_id, user: owner(w, h, rng) };
            let s = take(rng, &mut left, i);
            let r = match rng.random_range(0..100) {
                0..30 => chain::auth(true, a, &internal_ip(rng, h), "password"),
                30..75 => {
                    let (p, parent, cmd) = *text::BENIGN_PROCS.choose(rng).unwrap_or(&text::BENIGN_PROCS[0]);
                    chain::proc(a, p, parent, cmd, "verified")
                }
                _ => {
                    let other = &w.hosts[rng.random_range(0..n)].host_id;
                    chain::flow_to_host(rng, &h.host_id, other)
                }
            };
            out.rows.push((s, r));
        }
    }
    // Every user is named about as often as the compromised one (users[0]).
    let all: Vec<Draft> = w.attack.iter().chain(out.rows.iter().map(|(_, d)| d)).cloned().collect();
    let cu = mentions(&all, &w.users[0].user_id) as i64;
    for u in &w.users[1..] {
        let want = cu + rng.random_range(-4..=4) - mentions(&all, &u.user_id) as i64;
        let i = w.hosts.iter().position(|h| h.owner_user_id == u.user_id).unwrap_or(1);
        for _ in 0..want.max(0) {
            let h = &w.hosts[i];
            let s = rng.random_range(0..=w.last);
            out.rows.push((
                s,
                chain::auth(true, Actor { host: &h.host_id, user: &u.user_id }, &internal_ip(rng, h), "password"),
            ));
        }
    }
    out
}

/// A host with rows left to fill (the most left, ties at random).
fn busiest(left: &[i64], rng: &mut ChaCha8Rng) -> usize {
    let max = left.iter().copied().max().unwrap_or(0);
    let top: Vec<usize> = (0..left.len()).filter(|&i| left[i] >= max - 2).collect();
    top.choose(rng).copied().unwrap_or(0)
}

fn internal_ip(rng: &mut ChaCha8Rng, h: &Host) -> String {
    // The host's own subnet, another address.
    let net: Vec<&str> = h.ip.split('.').take(2).collect();
    format!("{}.{}.{}", net.join("."), rng.random_range(0..255), rng.random_range(2..254))
}
