//! Synthetic CERT r4.2-schema generator (`exp data cert synth`).
//!
//! Writes the same files and columns as r4.2 (five activity CSVs in date order, monthly LDAP
//! snapshots, psychometric scores, `answers/insiders.csv` and one ragged answer file per
//! insider) from a seed. The default (60 users, 90 days, web/mail volume scaled by
//! `activity = 0.1`, 15% insiders) is small enough for tests and for the environment's
//! on-the-fly default; `users = 1000, days = 500, activity = 1` gives roughly r4.2's 33M
//! events (about 85 http requests, 7.5 mails and a few logons per user per workday). Every random choice is drawn from a stream derived from
//! `seed` (per user-day streams), so a dataset is a pure function of its config.

mod day;
mod org;
mod scenario;
mod vocab;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::{Deserialize, Serialize};
use vigil_core::{SeedStream, rng_from_seed};

use self::day::{DayBuf, IdGen, World};
use crate::answers::{Insider, detail_name, write_insiders_csv};
use crate::error::CertError;
use crate::org::{LDAP_HEADER, csv_line};
use crate::source::MemSource;
use crate::types::{Day, SourceKind, Timestamp};

/// Generator settings (`[env.source]` with `kind = "synthetic"`, or `exp data cert synth` flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthConfig {
    /// Number of employees (≥ 20).
    pub users: u32,
    /// Number of calendar days (≥ 60; weekends included, with little activity).
    pub days: u32,
    /// Root seed.
    pub seed: u64,
    /// First day, ISO `YYYY-MM-DD` (r4.2 starts on 2010-01-02).
    pub start: String,
    /// Share of users who are insiders, split 3:3:1 over scenarios 1–3 like r4.2 (70 of 1,000).
    pub insider_fraction: f64,
    /// Explicit insider counts for scenarios 1, 2, 3 (overrides `insider_fraction`).
    pub scenario_counts: Option<[u32; 3]>,
    /// Multiplier on web and e-mail volume (1.0 ≈ r4.2's events per user-day).
    pub activity: f64,
    /// Release label written to `answers/insiders.csv` and the answer-file names.
    pub release: String,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            users: 60,
            days: 90,
            seed: 42,
            start: "2010-01-04".into(),
            insider_fraction: 0.15,
            scenario_counts: None,
            activity: 0.1,
            release: "4.2".into(),
        }
    }
}

impl SynthConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), CertError> {
        if !(20..=10_000).contains(&self.users) {
            return Err(CertError::config("source.users", "must be in 20..=10000"));
        }
        if !(60..=5_000).contains(&self.days) {
            return Err(CertError::config("source.days", "must be in 60..=5000"));
        }
        if !(0.0..=0.5).contains(&self.insider_fraction) {
            return Err(CertError::config("source.insider_fraction", "must be in 0..=0.5"));
        }
        if !(self.activity > 0.0 && self.activity <= 10.0) {
            return Err(CertError::config("source.activity", "must be in (0, 10]"));
        }
        Day::parse_iso(&self.start).map_err(|e| CertError::config("source.start", e.to_string()))?;
        if self.release.is_empty() || self.release.contains(['/', '\\', ',']) {
            return Err(CertError::config("source.release", "must be a plain label like 4.2"));
        }
        let c = self.counts();
        if c.iter().sum::<u32>() > self.users / 2 {
            return Err(CertError::config("source.scenario_counts", "more insiders than half the users"));
        }
        if c[2] > self.users / 10 {
            return Err(CertError::config("source.scenario_counts", "scenario 3 needs one IT admin per 10 users"));
        }
        Ok(())
    }

    /// Insiders per scenario.
    pub fn counts(&self) -> [u32; 3] {
        if let Some(c) = self.scenario_counts {
            return c;
        }
        let n = f64::from(self.users) * self.insider_fraction;
        let s12 = (n * 3.0 / 7.0).round().max(1.0) as u32;
        let s3 = (n / 7.0).round().max(1.0) as u32;
        if self.insider_fraction == 0.0 { [0, 0, 0] } else { [s12, s12, s3] }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SynthManifest {
    /// The config used.
    pub config: Option<SynthConfig>,
    /// Rows per activity file.
    pub rows: BTreeMap<String, u64>,
    /// Total activity rows.
    pub events: u64,
    /// Insiders per scenario.
    pub insiders: [u32; 3],
    /// Answer rows over all insiders.
    pub answer_rows: u64,
    /// Users who leave during the period (insiders included).
    pub leavers: u32,
}

/// Where generated files go.
pub trait Sink {
    /// Appends bytes to file `rel`.
    fn append(&mut self, rel: &str, bytes: &[u8]) -> Result<(), CertError>;
}

/// Writes into a directory: each file goes to `<name>.partial` and is renamed when complete,
/// so an interrupted run never leaves a file that looks finished.
#[derive(Debug)]
pub struct DirSink {
    root: PathBuf,
    open: BTreeMap<String, BufWriter<File>>,
}

impl DirSink {
    /// A sink writing under `root` (created if needed).
    pub fn new(root: &Path) -> Result<Self, CertError> {
        std::fs::create_dir_all(root).map_err(|e| CertError::io(root, e))?;
        Ok(Self { root: root.to_path_buf(), open: BTreeMap::new() })
    }

    fn partial(&self, rel: &str) -> PathBuf {
        self.root.join(format!("{rel}.partial"))
    }

    /// Flushes, syncs and renames every file into place.
    pub fn finish(mut self) -> Result<(), CertError> {
        for (rel, w) in std::mem::take(&mut self.open) {
            let tmp = self.partial(&rel);
            let f = w.into_inner().map_err(|e| CertError::io(&tmp, e.into_error()))?;
            f.sync_all().map_err(|e| CertError::io(&tmp, e))?;
            let dst = self.root.join(&rel);
            std::fs::rename(&tmp, &dst).map_err(|e| CertError::io(&dst, e))?;
        }
        Ok(())
    }
}

impl Sink for DirSink {
    fn append(&mut self, rel: &str, bytes: &[u8]) -> Result<(), CertError> {
        if !self.open.contains_key(rel) {
            let p = self.partial(rel);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(|e| CertError::io(d, e))?;
            }
            let f = File::create(&p).map_err(|e| CertError::io(&p, e))?;
            self.open.insert(rel.to_string(), BufWriter::with_capacity(1 << 20, f));
        }
        let p = self.partial(rel);
        self.open.get_mut(rel).map_or(Ok(()), |w| w.write_all(bytes)).map_err(|e| CertError::io(p, e))
    }
}

impl Sink for MemSource {
    fn append(&mut self, rel: &str, bytes: &[u8]) -> Result<(), CertError> {
        let mut cur = self.get(rel).map(<[u8]>::to_vec).unwrap_or_default();
        cur.extend_from_slice(bytes);
        self.insert(rel, cur);
        Ok(())
    }
}

/// Generates a dataset into `dir`, plus `synth_manifest.json`.
pub fn generate_to_dir(cfg: &SynthConfig, dir: &Path) -> Result<SynthManifest, CertError> {
    let mut sink = DirSink::new(dir)?;
    let m = generate(cfg, &mut sink)?;
    sink.finish()?;
    let p = dir.join("synth_manifest.json");
    vigil_core::write_json_atomic(&p, &m).map_err(|e| CertError::io(&p, e))?;
    Ok(m)
}

/// Generates a dataset in memory.
pub fn generate_in_memory(cfg: &SynthConfig) -> Result<(MemSource, SynthManifest), CertError> {
    let mut files = MemBuffers::default();
    let m = generate(cfg, &mut files)?;
    let mut src = MemSource::new();
    for (k, v) in files.0 {
        src.insert(k, v);
    }
    Ok((src, m))
}

/// Plain in-memory buffers (appends without the copy `MemSource` needs).
#[derive(Debug, Default)]
struct MemBuffers(BTreeMap<String, Vec<u8>>);

impl Sink for MemBuffers {
    fn append(&mut self, rel: &str, bytes: &[u8]) -> Result<(), CertError> {
        self.0.entry(rel.to_string()).or_default().extend_from_slice(bytes);
        Ok(())
    }
}

/// Generates a dataset into any sink.
pub fn generate(cfg: &SynthConfig, sink: &mut dyn Sink) -> Result<SynthManifest, CertError> {
    cfg.validate()?;
    let seeds = SeedStream::new(cfg.seed);
    let mut rng = seeds.rng("cert-synth-org");
    let counts = cfg.counts();
    let first = Day::parse_iso(&cfg.start).map_err(|e| CertError::config("source.start", e.to_string()))?;
    let mut org = org::Org::build(&mut rng, cfg.users as usize, cfg.activity, counts[2] as usize + 1);
    let plans = scenario::plan(&mut rng, &mut org, first, cfg.days, counts);
    // Ordinary leavers, so that leaving alone does not identify an insider.
    let protected: Vec<usize> = plans
        .iter()
        .flat_map(|p| match p.steps {
            scenario::Steps::S3 { supervisor, .. } => vec![p.person, supervisor],
            _ => vec![p.person],
        })
        .chain([0])
        .collect();
    for i in 0..org.people.len() {
        if !protected.contains(&i) && org.people[i].leave.is_none() && rng.random_bool(0.08) {
            org.people[i].leave = Some(Day(first.0 + rng.random_range(30..cfg.days as i32)));
        }
    }
    let world = World { org, words: (0..vocab::VOCAB).map(vocab::word).collect(), domains: (0..vocab::DOMAINS).map(vocab::domain).collect() };
    let mut manifest = SynthManifest { config: Some(cfg.clone()), insiders: counts, ..Default::default() };
    for k in SourceKind::ALL {
        sink.append(k.file_name(), format!("{}\r\n", k.header().join(",")).as_bytes())?;
    }
    let mut ids = IdGen::default();
    let mut answers: Vec<Vec<String>> = vec![Vec::new(); plans.len()];
    let mut spans: Vec<Option<(Timestamp, Timestamp)>> = vec![None; plans.len()];
    let mut out = Vec::with_capacity(1 << 20);
    for di in 0..cfg.days {
        let day = Day(first.0 + di as i32);
        let workday = day.weekday() < 5;
        let mut buf = DayBuf::new(day);
        for (i, p) in world.org.people.iter().enumerate() {
            if p.leave.is_some_and(|l| day > l) {
                continue;
            }
            let mut r = rng_from_seed(seeds.seed_at("cert-synth-day", ((i as u64) << 32) | u64::from(di)));
            world.routine(&mut r, &mut buf, &mut ids, i, workday);
        }
        for (k, plan) in plans.iter().enumerate() {
            let mut r = rng_from_seed(seeds.seed_at("cert-synth-insider", ((k as u64) << 32) | u64::from(di)));
            world.scenario_day(&mut r, &mut buf, &mut ids, k, plan, day);
        }
        buf.sort();
        for k in SourceKind::ALL {
            out.clear();
            for (_, _, line) in &buf.rows[k as usize] {
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            *manifest.rows.entry(k.file_name().to_string()).or_default() += buf.rows[k as usize].len() as u64;
            sink.append(k.file_name(), &out)?;
        }
        let mut day_answers = std::mem::take(&mut buf.answers);
        day_answers.sort_by_key(|a| a.time);
        for a in day_answers {
            let s = spans[a.insider].get_or_insert((a.time, a.time));
            s.0 = s.0.min(a.time);
            s.1 = s.1.max(a.time);
            answers[a.insider].push(a.line);
        }
    }
    manifest.events = manifest.rows.values().sum();
    let mut insiders = Vec::new();
    for (k, plan) in plans.iter().enumerate() {
        let Some((start, end)) = spans[k] else { continue };
        let user = world.org.people[plan.person].user;
        let details = detail_name(&cfg.release, plan.scenario, user);
        let mut body = String::new();
        for line in &answers[k] {
            body.push_str(line);
            body.push_str("\r\n");
        }
        manifest.answer_rows += answers[k].len() as u64;
        sink.append(&format!("answers/r{}-{}/{details}", cfg.release, plan.scenario), body.as_bytes())?;
        insiders.push(Insider { user, scenario: plan.scenario, details, start, end });
    }
    sink.append("answers/insiders.csv", &write_insiders_csv(&cfg.release, &insiders))?;
    write_org(cfg, first, &world, sink)?;
    manifest.leavers = world.org.people.iter().filter(|p| p.leave.is_some()).count() as u32;
    Ok(manifest)
}

fn write_org(cfg: &SynthConfig, first: Day, world: &World, sink: &mut dyn Sink) -> Result<(), CertError> {
    let mut psy = String::from("employee_name,user_id,O,C,E,A,N\r\n");
    for i in 0..world.org.people.len() {
        let p = world.org.psychometric(i);
        let o = p.ocean.map(|x| x.to_string());
        let name = &world.org.people[i].name;
        psy.push_str(&csv_line(&[name, &p.user_id.to_string(), &o[0], &o[1], &o[2], &o[3], &o[4]]));
    }
    sink.append("psychometric.csv", psy.as_bytes())?;
    // Monthly snapshots from the month before the first day to the month of the last day.
    let (mut y, mut m, _) = first.civil();
    (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let (ly, lm, _) = Day(first.0 + cfg.days as i32 - 1).civil();
    while (y, m) <= (ly, lm) {
        let month_start = Timestamp::from_parts(y as u32, m, 1, 0, 0, 0).map(Timestamp::day).unwrap_or(first);
        let mut s = csv_line(&LDAP_HEADER);
        for (i, p) in world.org.people.iter().enumerate() {
            if p.leave.is_some_and(|l| l < month_start) {
                continue;
            }
            let r = world.org.ldap_row(i);
            let uid = r.user_id.to_string();
            s.push_str(&csv_line(&[
                &r.employee_name, &uid, &r.email, &r.role, &r.business_unit, &r.functional_unit, &r.department,
                &r.team, &r.supervisor,
            ]));
        }
        sink.append(&format!("LDAP/{y:04}-{m:02}.csv"), s.as_bytes())?;
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    Ok(())
}
