//! One simulated day: every active person's routine plus the insiders' scenario steps.
//!
//! Rows are formatted straight into per-file buffers, sorted by time at the end of the day,
//! so every generated file is in date order like r4.2's. Scenario rows are also copied into
//! the insider's answer file (`type,` + the row exactly as written).

use rand::Rng;

use super::org::{Org, poisson};
use super::vocab::{self, EXTS};
use crate::types::{Day, PcId, SourceKind, Timestamp, UserId};

/// A scenario row: which insider, its time, and the full answer line.
#[derive(Debug, Clone)]
pub(crate) struct AnswerLine {
    pub insider: usize,
    pub time: Timestamp,
    pub line: String,
}

/// Deterministic, unique CERT-style event ids: a bijective mix of (file, counter) in base 36.
#[derive(Debug, Default)]
pub(crate) struct IdGen {
    counters: [u64; 5],
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl IdGen {
    fn next(&mut self, kind: SourceKind, out: &mut String) {
        const ALPHA: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let k = kind as usize;
        self.counters[k] += 1;
        // `mix` is a bijection, so distinct (kind, counter) pairs give distinct 13-char heads.
        let x = mix(((k as u64) << 58) ^ self.counters[k]);
        let mut chars = [0u8; 20];
        let mut v = x;
        for c in chars.iter_mut().take(13) {
            *c = ALPHA[(v % 36) as usize];
            v /= 36;
        }
        let mut w = mix(x ^ 0x5DEE_CE66_D1CE_4E5B);
        for c in chars.iter_mut().skip(13) {
            *c = ALPHA[(w % 36) as usize];
            w /= 36;
        }
        out.push('{');
        for (i, c) in chars.iter().enumerate() {
            if i == 4 || i == 12 {
                out.push('-');
            }
            out.push(char::from(*c));
        }
        out.push('}');
    }
}

/// The rows of one day, per file, before sorting.
#[derive(Debug)]
pub(crate) struct DayBuf {
    pub rows: [Vec<(u32, u32, String)>; 5],
    pub answers: Vec<AnswerLine>,
    day: Day,
    date: String,
    seq: u32,
}

fn quote(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")).into() } else { s.into() }
}

impl DayBuf {
    pub(crate) fn new(day: Day) -> Self {
        let (y, m, d) = day.civil();
        Self {
            rows: Default::default(),
            answers: Vec::new(),
            day,
            date: format!("{m:02}/{d:02}/{y:04}"),
            seq: 0,
        }
    }

    /// Appends a row; `rest` is everything after `user,pc,`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        ids: &mut IdGen,
        kind: SourceKind,
        secs: u32,
        user: UserId,
        pc: PcId,
        rest: &str,
        insider: Option<usize>,
    ) {
        let secs = secs.min(86_399);
        let mut line = String::with_capacity(64 + rest.len());
        ids.next(kind, &mut line);
        let t = Timestamp::from_day_secs(self.day, secs);
        use std::fmt::Write;
        let _ = write!(line, ",{} {:02}:{:02}:{:02},{user},{pc},{rest}", self.date, secs / 3600, secs / 60 % 60, secs % 60);
        if let Some(i) = insider {
            self.answers.push(AnswerLine { insider: i, time: t, line: format!("{kind},{line}") });
        }
        self.seq += 1;
        self.rows[kind as usize].push((secs, self.seq, line));
    }

    /// Sorts every file's rows by time (stable on insertion order).
    pub(crate) fn sort(&mut self) {
        for r in &mut self.rows {
            r.sort_unstable_by_key(|&(s, q, _)| (s, q));
        }
    }
}

/// Shared generator context: org, vocabulary, domains.
#[derive(Debug)]
pub(crate) struct World {
    pub org: Org,
    pub words: Vec<String>,
    pub domains: Vec<String>,
}

impl World {
    pub(crate) fn keywords<R: Rng>(&self, rng: &mut R, n: usize, extra: &[&str], n_extra: usize) -> String {
        let mut s = String::with_capacity(n * 8);
        let total = n + n_extra;
        let mut left_extra = n_extra;
        for k in 0..total {
            if k > 0 {
                s.push(' ');
            }
            let take_extra = left_extra > 0 && rng.random_range(0..total - k) < left_extra;
            if take_extra && !extra.is_empty() {
                left_extra -= 1;
                s.push_str(extra[rng.random_range(0..extra.len())]);
            } else {
                // Skewed towards frequent words, like a topic-keyword bag.
                let u: f64 = rng.random();
                s.push_str(&self.words[((u * u * u) * self.words.len() as f64) as usize % self.words.len()]);
            }
        }
        s
    }

    fn url<R: Rng>(&self, rng: &mut R, domain: &str) -> String {
        const EXT: &[&str] = &["htm", "html", "php", "jsp", "asp"];
        let w = |rng: &mut R| &self.words[rng.random_range(0..self.words.len())];
        format!(
            "http://{domain}/{}/{}/{}{}.{}",
            w(rng),
            w(rng),
            w(rng),
            rng.random_range(1000..99_999_999u32),
            EXT[rng.random_range(0..EXT.len())]
        )
    }

    /// An http row on `domain` with `n` keywords, `n_extra` of them from `extra`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn http<R: Rng>(
        &self,
        rng: &mut R,
        buf: &mut DayBuf,
        ids: &mut IdGen,
        (secs, user, pc): (u32, UserId, PcId),
        domain: &str,
        extra: &[&str],
        insider: Option<usize>,
    ) {
        let n_extra = if extra.is_empty() { 0 } else { rng.random_range(2..=5) };
        let n = rng.random_range(15..=45);
        let mut content = self.keywords(rng, n, extra, n_extra);
        if rng.random_bool(0.01) {
            content.push_str(", ");
            content.push_str(&self.words[rng.random_range(0..self.words.len())]);
        }
        let rest = format!("{},{}", self.url(rng, domain), quote(&content));
        buf.push(ids, SourceKind::Http, secs, user, pc, &rest, insider);
    }

    /// A file copy to removable media.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn file<R: Rng>(
        &self,
        rng: &mut R,
        buf: &mut DayBuf,
        ids: &mut IdGen,
        (secs, user, pc): (u32, UserId, PcId),
        ext: Option<&str>,
        extra: &[&str],
        insider: Option<usize>,
    ) {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let ext = ext.unwrap_or(EXTS[rng.random_range(0..EXTS.len())]);
        let name: String = (0..8).map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())])).collect();
        let n_extra = if extra.is_empty() { 0 } else { 2 };
        let n = rng.random_range(8..=30);
        let words = self.keywords(rng, n, extra, n_extra);
        let content = match vocab::magic(ext) {
            "" => words,
            m => format!("{m} {words}"),
        };
        buf.push(ids, SourceKind::File, secs, user, pc, &format!("{name}.{ext},{content}"), insider);
    }

    /// An e-mail sent by `sender` (person index) from `pc` as `user`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn email<R: Rng>(
        &self,
        rng: &mut R,
        buf: &mut DayBuf,
        ids: &mut IdGen,
        (secs, user, pc): (u32, UserId, PcId),
        from: &str,
        to: &[String],
        cc: &[String],
        extra: &[&str],
        insider: Option<usize>,
    ) {
        let n_extra = if extra.is_empty() { 0 } else { rng.random_range(2..=4) };
        let n = rng.random_range(10..=40);
        let content = self.keywords(rng, n, extra, n_extra);
        let size: u32 = (10f64.powf(rng.random_range(3.0..5.3))) as u32;
        let attachments = if rng.random_bool(0.25) { rng.random_range(1..=3) } else { 0 };
        let rest = format!("{},{},,{from},{size},{attachments},{content}", to.join(";"), cc.join(";"));
        buf.push(ids, SourceKind::Email, secs, user, pc, &rest, insider);
    }

    /// A person's ordinary day (no scenario activity).
    pub(crate) fn routine<R: Rng>(&self, rng: &mut R, buf: &mut DayBuf, ids: &mut IdGen, i: usize, workday: bool) {
        let p = &self.org.people[i];
        let h = &p.habits;
        let mut sessions: Vec<(u32, u32, PcId)> = Vec::new();
        if workday {
            if rng.random_bool(0.04) {
                return; // vacation or sick day
            }
            let start = (h.start as i64 + rng.random_range(-1800..=1800)).clamp(4 * 3600, 11 * 3600) as u32;
            let end = (start + h.length).saturating_add_signed(rng.random_range(-2700..=2700)).min(86_000);
            sessions.push((start, end, p.pc));
            if rng.random_bool(h.late_prob) {
                let s = rng.random_range(19 * 3600 + 1800..22 * 3600);
                sessions.push((s, (s + rng.random_range(1800..7200)).min(86_300), p.pc));
            }
            if rng.random_bool(h.lab_prob) {
                let lab = self.org.lab_pcs[rng.random_range(0..self.org.lab_pcs.len())];
                let s = rng.random_range(start..(end - 3600).max(start + 1));
                sessions.push((s, s + rng.random_range(600..3000), lab));
            }
        } else if rng.random_bool(h.weekend_prob) {
            let s = rng.random_range(9 * 3600..17 * 3600);
            sessions.push((s, s + rng.random_range(1800..10_800), p.pc));
        }
        let scale = if workday { 1.0 } else { 0.15 };
        for (k, &(s, e, pc)) in sessions.iter().enumerate() {
            let ctx = |t: u32| (t, p.user, pc);
            buf.push(ids, SourceKind::Logon, s, p.user, pc, "Logon", None);
            // Screen unlocks are recorded as logons.
            for _ in 0..rng.random_range(0..=2) {
                buf.push(ids, SourceKind::Logon, rng.random_range(s..=e), p.user, pc, "Logon", None);
            }
            if !rng.random_bool(0.02) {
                buf.push(ids, SourceKind::Logon, e, p.user, pc, "Logoff", None);
            }
            let frac = if k == 0 { 1.0 } else { 0.2 };
            for _ in 0..poisson(rng, h.http_rate * scale * frac) {
                let dom = if rng.random_bool(0.25) {
                    vocab::POPULAR[rng.random_range(0..vocab::POPULAR.len())]
                } else if rng.random_bool(0.8) {
                    &self.domains[h.favourites[rng.random_range(0..h.favourites.len())]]
                } else {
                    &self.domains[rng.random_range(0..self.domains.len())]
                };
                let t = rng.random_range(s..=e);
                self.http(rng, buf, ids, ctx(t), dom, &[], None);
            }
            if workday && k == 0 && rng.random_bool(h.job_prob) {
                let site = vocab::JOB_SITES[rng.random_range(0..vocab::JOB_SITES.len())];
                let t = rng.random_range(s..=e);
                self.http(rng, buf, ids, ctx(t), site, vocab::JOB_WORDS, None);
            }
            for _ in 0..poisson(rng, h.email_rate * scale * frac) {
                let t = rng.random_range(s..=e);
                self.routine_email(rng, buf, ids, i, ctx(t));
            }
            if workday && k == 0 && rng.random_bool(h.usb_prob) {
                for _ in 0..rng.random_range(1..=3) {
                    let c = rng.random_range(s..=e);
                    let files = rng.random_range(0..=4);
                    self.usb_session(rng, buf, ids, (c, p.user, pc), files, None, &[]);
                }
            }
        }
    }

    fn routine_email<R: Rng>(&self, rng: &mut R, buf: &mut DayBuf, ids: &mut IdGen, i: usize, at: (u32, UserId, PcId)) {
        let p = &self.org.people[i];
        let h = &p.habits;
        let work = |j: usize| self.org.people[j].email.clone();
        let external = rng.random_bool(0.1) && !h.external.is_empty();
        let (from, to): (String, Vec<String>) = if external {
            let from = if rng.random_bool(0.3) { p.personal[0].clone() } else { p.email.clone() };
            let mut to = vec![h.external[rng.random_range(0..h.external.len())].clone()];
            if rng.random_bool(0.3) && !h.contacts.is_empty() {
                to.push(work(h.contacts[rng.random_range(0..h.contacts.len())]));
            }
            (from, to)
        } else {
            let n = rng.random_range(1..=3).min(h.contacts.len().max(1));
            let to = (0..n).filter_map(|_| h.contacts.get(rng.random_range(0..h.contacts.len().max(1)))).map(|&j| work(j)).collect();
            (p.email.clone(), to)
        };
        let cc: Vec<String> = if rng.random_bool(0.2) && !h.contacts.is_empty() {
            vec![work(h.contacts[rng.random_range(0..h.contacts.len())])]
        } else {
            Vec::new()
        };
        self.email(rng, buf, ids, at, &from, &to, &cc, &[], None);
    }

    /// Connect, `files` copies, disconnect.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn usb_session<R: Rng>(
        &self,
        rng: &mut R,
        buf: &mut DayBuf,
        ids: &mut IdGen,
        (start, user, pc): (u32, UserId, PcId),
        files: u32,
        insider: Option<usize>,
        extra: &[&str],
    ) {
        buf.push(ids, SourceKind::Device, start, user, pc, "Connect", insider);
        let mut t = start;
        for _ in 0..files {
            t += rng.random_range(5..240);
            self.file(rng, buf, ids, (t, user, pc), None, extra, insider);
        }
        t += rng.random_range(30..900);
        buf.push(ids, SourceKind::Device, t, user, pc, "Disconnect", insider);
    }
}
