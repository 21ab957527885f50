//! Seeded incident generator: templates per label and stage, plus inert decoys.
//!
//! `generate(stage, label, rng)` picks a template for `label` allowed in `stage`, builds its
//! core events at relative times, adds the stage's decoys (events that can never fire a rule:
//! fresh users, internal destinations, sanctioned ranges, ordinary roles), sorts by time and
//! numbers the log lines `L1-0..`. Stage 4 also mixes in lower-level signals and misleading alert
//! categories. The label is never stored: it is recomputed by the verifier, and tests check that
//! every template produces the label it was picked for.

mod pools;
mod templates;

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::action::TriageAction;
use crate::plausibility::category_supported;
use crate::schema::{Category, Event, EventKind, FileOp, IncidentParams, LogId};
use crate::time::Timestamp;
use pools::*;
pub use templates::{TEMPLATES, Template};

/// Curriculum stages, easiest first. The action space and rubric are the same in every stage;
/// only the incident distribution changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// One unambiguous event, no decoys.
    #[serde(rename = "stage1_basic")]
    Stage1Basic,
    /// Signals spread over a window, one decoy.
    #[serde(rename = "stage2_multi")]
    Stage2Multi,
    /// Benign look-alike templates, two decoys.
    #[serde(rename = "stage3_mixed")]
    Stage3Mixed,
    /// Near-threshold and compound templates, misleading categories, three decoys.
    #[serde(rename = "stage4_adversarial")]
    Stage4Adversarial,
}

impl Stage {
    /// All stages, easiest first.
    pub const ALL: [Stage; 4] = [Stage::Stage1Basic, Stage::Stage2Multi, Stage::Stage3Mixed, Stage::Stage4Adversarial];

    /// Wire name (`stage3_mixed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Stage1Basic => "stage1_basic",
            Stage::Stage2Multi => "stage2_multi",
            Stage::Stage3Mixed => "stage3_mixed",
            Stage::Stage4Adversarial => "stage4_adversarial",
        }
    }

    /// Looks up a wire name.
    pub fn from_wire(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Decoy events added around the core events.
    pub const fn decoys(self) -> usize {
        self as usize
    }

    /// Bit of this stage in [`Template::stages`].
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A generated incident and how it was made.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The incident.
    pub params: IncidentParams,
    /// Name of the template that built the core events.
    pub template: &'static str,
}

/// A small set of numbers with fixed capacity (no allocation on the generator's hot path).
struct Seen {
    items: [u32; 32],
    len: usize,
}

impl Seen {
    const fn new() -> Self {
        Self { items: [0; 32], len: 0 }
    }
    fn contains(&self, x: u32) -> bool {
        self.items[..self.len].contains(&x)
    }
    /// Records `x`; `false` if it was already there. Past capacity (never reached by the
    /// templates) nothing more is recorded.
    fn insert(&mut self, x: u32) -> bool {
        if self.contains(x) {
            return false;
        }
        if self.len < self.items.len() {
            self.items[self.len] = x;
            self.len += 1;
        }
        true
    }
}

/// Builder state for one incident. Tracks used users and addresses so decoys never touch an
/// entity the core events use (a decoy failure for the brute-forced user would change the label).
pub(crate) struct Ctx<'r> {
    pub(crate) rng: &'r mut ChaCha8Rng,
    pub(crate) stage: Stage,
    /// Events at relative times (`ts` holds the offset until the base time is added).
    events: Vec<Event>,
    users: Seen,
    ips: Seen,
}

impl Ctx<'_> {
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..=hi)
    }
    pub(crate) fn range_u(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.random_range(lo..=hi)
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }
    pub(crate) fn pick<T: Copy>(&mut self, pool: &[T]) -> T {
        pool[self.rng.random_range(0..pool.len())]
    }
    /// Earliest and latest relative time of the events so far.
    pub(crate) fn span(&self) -> (i64, i64) {
        self.events.iter().fold((i64::MAX, i64::MIN), |(lo, hi), e| (lo.min(e.ts.0), hi.max(e.ts.0)))
    }
    pub(crate) fn adversarial(&self) -> bool {
        self.stage == Stage::Stage4Adversarial
    }
    pub(crate) fn multi(&self) -> bool {
        self.stage != Stage::Stage1Basic
    }
    /// A user no other event of this incident uses.
    pub(crate) fn user(&mut self) -> &'static str {
        loop {
            let k = self.rng.random_range(0..USERS.len());
            if self.users.insert(k as u32) {
                return USERS[k];
            }
        }
    }
    pub(crate) fn workstation(&mut self) -> &'static str {
        self.pick(&WORKSTATIONS)
    }
    pub(crate) fn server(&mut self) -> &'static str {
        self.pick(&SERVERS)
    }
    fn fresh_ip(&mut self, mut make: impl FnMut(&mut ChaCha8Rng) -> Ipv4Addr) -> IpAddr {
        loop {
            let ip = make(self.rng);
            if self.ips.insert(u32::from(ip)) {
                return IpAddr::V4(ip);
            }
        }
    }
    /// A fresh address in 10.0.0.0/8.
    pub(crate) fn internal_ip(&mut self) -> IpAddr {
        self.fresh_ip(|r| Ipv4Addr::new(10, r.random_range(0..64), r.random(), r.random_range(1..255)))
    }
    /// A fresh public address outside every sanctioned range.
    pub(crate) fn external_ip(&mut self) -> IpAddr {
        self.fresh_ip(|r| {
            let a = EXTERNAL_FIRST_OCTETS[r.random_range(0..EXTERNAL_FIRST_OCTETS.len())];
            Ipv4Addr::new(a, r.random(), r.random(), r.random_range(1..255))
        })
    }
    /// A fresh address in a sanctioned egress range.
    pub(crate) fn sanctioned_ip(&mut self) -> IpAddr {
        self.fresh_ip(|r| {
            let (b, c, d) = if r.random_bool(0.5) { (0, 113, 203) } else { (51, 100, 198) };
            Ipv4Addr::new(d, b, c, r.random_range(1..255))
        })
    }

    pub(crate) fn push(&mut self, t: i64, kind: EventKind) {
        let source = kind.event_type().sources()[0];
        self.events.push(Event { log_id: LogId::new(1, 0), ts: Timestamp(t), source, kind });
    }
    pub(crate) fn fail(&mut self, t: i64, user: &'static str, src_ip: IpAddr, host: &'static str) {
        self.push(t, EventKind::AuthLoginFailure { user: user.into(), src_ip, host: host.into() });
    }
    pub(crate) fn success(&mut self, t: i64, user: &'static str, src_ip: IpAddr, host: &'static str) {
        self.push(t, EventKind::AuthLoginSuccess { user: user.into(), src_ip, host: host.into() });
    }
    pub(crate) fn grant(&mut self, t: i64, user: &'static str, role: &'static str, actor: &'static str, ticket: Option<&'static str>) {
        self.push(t, EventKind::PrivGrant { user: user.into(), role: role.into(), actor: actor.into(), ticket: ticket.map(Cow::Borrowed) });
    }
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exec(&mut self, t: i64, host: &'static str, user: &'static str, process: &'static str, parent: &'static str, cmdline: Option<&'static str>) {
        let kind = EventKind::ProcExec {
            host: host.into(),
            user: user.into(),
            process: process.into(),
            parent: Some(parent.into()),
            cmdline: cmdline.map(Cow::Borrowed),
        };
        self.push(t, kind);
    }
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn beacon(&mut self, t: i64, host: &'static str, src_ip: IpAddr, dst: IpAddr, interval_s: u32, count: u32) {
        let dst_port = self.pick(&WEB_PORTS);
        self.push(t, EventKind::NetBeacon { host: host.into(), src_ip, dst_ip: Some(dst), dst_port, interval_s, count });
    }
    pub(crate) fn flow(&mut self, t: i64, host: &'static str, src_ip: IpAddr, dst_ip: IpAddr, bytes_out: u64) {
        let dst_port = self.pick(&WEB_PORTS);
        self.push(t, EventKind::NetFlow { host: host.into(), src_ip, dst_ip, dst_port, bytes_out });
    }
    pub(crate) fn dns(&mut self, t: i64, host: &'static str) {
        let domain = self.pick(&DOMAINS);
        let qtype = if self.chance(0.8) { "A" } else { "AAAA" };
        self.push(t, EventKind::DnsQuery { host: host.into(), domain: domain.into(), qtype: qtype.into() });
    }
    pub(crate) fn file(&mut self, t: i64, host: &'static str, user: &'static str) {
        let path = self.pick(&PATHS);
        let op = self.pick(&[FileOp::Read, FileOp::Read, FileOp::Write]);
        self.push(t, EventKind::FileAccess { host: host.into(), user: user.into(), path: path.into(), op });
    }

    /// One decoy that cannot fire any rule, at time `t`. Stages 3-4 add benign look-alikes.
    fn decoy(&mut self, t: i64) {
        let kinds = if self.stage >= Stage::Stage3Mixed { 14 } else { 8 };
        let host = self.workstation();
        match self.rng.random_range(0..kinds) {
            0 => self.dns(t, host),
            1 => {
                let u = self.user();
                self.file(t, host, u);
            }
            2 => {
                let (u, p) = (self.user(), self.pick(&BENIGN_PROCESSES));
                self.exec(t, host, u, p, "explorer.exe", None);
            }
            3 => {
                let (u, ip) = (self.user(), self.internal_ip());
                self.success(t, u, ip, host);
            }
            4 => {
                let (src, dst, b) = (self.internal_ip(), self.internal_ip(), self.range_u(10_000, 900_000_000));
                self.flow(t, host, src, dst, b);
            }
            5 => {
                let (u, r, a) = (self.user(), self.pick(&PLAIN_ROLES), self.pick(&ADMINS));
                self.grant(t, u, r, a, None);
            }
            6 => {
                let (u, ip) = (self.user(), self.internal_ip());
                self.fail(t, u, ip, host);
            }
            7 => {
                let (src, dst, iv, n) = (self.internal_ip(), self.internal_ip(), self.range(30, 900) as u32, self.range(10, 200) as u32);
                self.beacon(t, host, src, dst, iv, n);
            }
            8 => {
                let (u, r, a, tk) = (self.user(), self.pick(&PRIV_ROLES), self.pick(&ADMINS), self.pick(&TICKETS));
                self.grant(t, u, r, a, Some(tk));
            }
            9 => {
                let (u, c) = (self.user(), self.pick(&SCARY_CMDLINES));
                self.exec(t, host, u, "powershell.exe", "explorer.exe", Some(c));
            }
            10 => {
                let s = self.server();
                self.exec(t, s, "svc_deploy", "svchost.exe", "services.exe", None);
            }
            11 => {
                let (src, dst, b) = (self.internal_ip(), self.sanctioned_ip(), self.range_u(100_000_000, 4_000_000_000));
                self.flow(t, host, src, dst, b);
            }
            12 => {
                let (src, dst, iv, n) = (self.internal_ip(), self.sanctioned_ip(), self.range(60, 3600) as u32, self.range(10, 150) as u32);
                self.beacon(t, host, src, dst, iv, n);
            }
            _ => {
                let (src, dst, b) = (self.internal_ip(), self.external_ip(), self.range_u(2_000, 5_000_000));
                self.flow(t, host, src, dst, b);
            }
        }
    }
}

/// 2026-03-01T00:00:00Z: generated incidents fall in March-April 2026.
const MARCH_1_2026: i64 = 1_772_323_200;

/// Number of templates that can build `label` in `stage`.
pub fn template_count(stage: Stage, label: TriageAction) -> usize {
    TEMPLATES.iter().filter(|t| t.label == label && t.stages & stage.bit() != 0).count()
}

/// Per (stage, label): the allowed templates, and those introduced in that stage.
type Tables = [[(Vec<&'static Template>, Vec<&'static Template>); 5]; 4];

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        Stage::ALL.map(|stage| {
            TriageAction::ALL.map(|label| {
                let allowed: Vec<&'static Template> =
                    TEMPLATES.iter().filter(|t| t.label == label && t.stages & stage.bit() != 0).collect();
                let fresh = allowed.iter().copied().filter(|t| t.stages.trailing_zeros() == stage as u32).collect();
                (allowed, fresh)
            })
        })
    })
}

/// Picks a template: half the time among those *introduced* in this stage (look-alikes in stage
/// 3, adversarial ones in stage 4) when the label has any, otherwise among all allowed.
fn pick_template(stage: Stage, label: TriageAction, rng: &mut ChaCha8Rng) -> &'static Template {
    let (allowed, fresh) = &tables()[stage as usize][label as usize];
    let use_new = !fresh.is_empty() && stage != Stage::Stage1Basic && rng.random_bool(0.5);
    let pool = if use_new { fresh } else { allowed };
    if pool.is_empty() {
        return &TEMPLATES[0];
    }
    pool[rng.random_range(0..pool.len())]
}

/// Builds one incident whose verifier label is `label`, drawing every choice from `rng`.
pub fn generate(stage: Stage, label: TriageAction, rng: &mut ChaCha8Rng) -> Generated {
    let template = pick_template(stage, label, rng);
    let mut ctx = Ctx { rng, stage, events: Vec::with_capacity(12), users: Seen::new(), ips: Seen::new() };
    (template.build)(&mut ctx);
    if ctx.adversarial() && ctx.chance(0.4) {
        templates::add_lower_signal(&mut ctx, label);
    }
    let (lo, hi) = ctx.span();
    for _ in 0..stage.decoys() {
        let t = ctx.range(lo - 240, hi + 240);
        ctx.decoy(t);
    }
    // Stable sort: equal times keep build order, so "after" relations in templates hold.
    ctx.events.sort_by_key(|e| e.ts);
    let day = ctx.range(0, 59);
    let start = ctx.range(6 * 3600, 12 * 3600);
    let base = MARCH_1_2026 + day * 86_400 + start - lo;
    let mut events = std::mem::take(&mut ctx.events);
    for (k, e) in events.iter_mut().enumerate() {
        e.log_id = LogId::new(1, k as u16);
        e.ts = Timestamp(base + e.ts.0);
    }
    let mut params = IncidentParams { category: template.category, target_label: None, narrative: Cow::Borrowed(""), events };
    if ctx.adversarial() && ctx.chance(0.3) {
        let k = ctx.range(0, Category::ALL.len() as i64 - 1) as usize;
        let alt = Category::ALL[k];
        if category_supported(&params, alt) {
            params.category = alt;
        }
    }
    Generated { params, template: template.name }
}
