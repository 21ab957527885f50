//! Insider plans for scenarios 1–3 (research note §1.4) and their daily steps.
//!
//! 1. after-hours USB exfiltration to wikileaks.org by someone with no USB or after-hours habit,
//!    on one or two days, then leaving;
//! 2. weeks of job-site browsing (and a mail to a competitor), then a burst of thumb-drive
//!    copies, then leaving;
//! 3. an IT admin complains by mail, downloads a keylogger, plants it on the supervisor's PC,
//!    then logs on as the supervisor and sends an alarming mass mail, then leaves. The last
//!    day's rows are recorded under the supervisor's account (as in r4.2).

use rand::Rng;
use rand::seq::SliceRandom;

use super::day::{DayBuf, IdGen, World};
use super::org::Org;
use super::vocab;
use crate::types::{Day, SourceKind};

/// Days of an insider's scenario.
#[derive(Debug, Clone)]
pub(crate) enum Steps {
    /// One or two after-hours exfiltration days.
    S1 { days: Vec<Day> },
    /// Job hunting from `start`, thumb-drive copies from `exfil`, until `end`.
    S2 { start: Day, exfil: Day, end: Day, competitor: &'static str },
    /// Complaint mails, keylogger download, planting, impersonation.
    S3 { complain: Day, download: Day, plant: Day, impersonate: Day, supervisor: usize },
}

/// One insider.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub person: usize,
    pub scenario: u8,
    pub steps: Steps,
}

fn offset(d: Day, n: i32) -> Day {
    Day(d.0 + n)
}

/// Chooses insiders and their days inside `[first, first + days)`, sets their leave days,
/// and adapts scenario 1 actors' habits (no prior USB or after-hours use).
pub(crate) fn plan<R: Rng>(rng: &mut R, org: &mut Org, first: Day, days: u32, counts: [u32; 3]) -> Vec<Plan> {
    let days = days as i32;
    let warmup = (days / 8).max(7);
    let last = days - 8;
    let mut plans = Vec::new();
    let it: Vec<usize> =
        (1..org.people.len()).filter(|&i| org.people[i].role == vocab::IT_ROLE && org.people[i].supervisor.is_some()).collect();
    let mut others: Vec<usize> = (1..org.people.len()).filter(|&i| org.people[i].role != vocab::IT_ROLE).collect();
    others.shuffle(rng);
    let mut it = it;
    it.shuffle(rng);
    let pick_day = |rng: &mut R, span: i32| offset(first, rng.random_range(warmup..(last - span).max(warmup + 1)));
    for _ in 0..counts[0] {
        let Some(i) = others.pop() else { break };
        let h = &mut org.people[i].habits;
        h.usb_prob = 0.0;
        h.late_prob = 0.0;
        h.start = h.start.max(7 * 3600 + 900);
        let d1 = pick_day(rng, 6);
        let mut ds = vec![d1];
        if rng.random_bool(0.5) {
            ds.push(offset(d1, rng.random_range(1..=5)));
        }
        org.people[i].leave = Some(offset(*ds.last().unwrap_or(&d1), rng.random_range(3..=21)));
        plans.push(Plan { person: i, scenario: 1, steps: Steps::S1 { days: ds } });
    }
    for _ in 0..counts[1] {
        let Some(i) = others.pop() else { break };
        let len = rng.random_range(20..=55).min((days / 3).max(6));
        let start = pick_day(rng, len);
        let end = offset(start, len);
        let exfil = offset(start, len * 2 / 3);
        let competitor = vocab::COMPETITORS[rng.random_range(0..vocab::COMPETITORS.len())];
        org.people[i].leave = Some(offset(end, rng.random_range(1..=10)));
        plans.push(Plan { person: i, scenario: 2, steps: Steps::S2 { start, exfil, end, competitor } });
    }
    for _ in 0..counts[2] {
        let Some(i) = it.pop() else { break };
        let Some(supervisor) = org.people[i].supervisor else { continue };
        let complain = pick_day(rng, 16);
        let download = offset(complain, rng.random_range(2..=8));
        let plant = offset(download, rng.random_range(1..=4));
        let impersonate = offset(plant, 1);
        org.people[i].leave = Some(offset(impersonate, rng.random_range(0..=2)));
        plans.push(Plan { person: i, scenario: 3, steps: Steps::S3 { complain, download, plant, impersonate, supervisor } });
    }
    plans
}

impl World {
    /// The scenario rows of insider `k` (index into the plans) on `day`.
    pub(crate) fn scenario_day<R: Rng>(&self, rng: &mut R, buf: &mut DayBuf, ids: &mut IdGen, k: usize, plan: &Plan, day: Day) {
        let p = &self.org.people[plan.person];
        let (user, pc) = (p.user, p.pc);
        let mal = Some(k);
        let workday = day.weekday() < 5;
        match &plan.steps {
            Steps::S1 { days } if days.contains(&day) => {
                let mut t = rng.random_range(21 * 3600..23 * 3600);
                buf.push(ids, SourceKind::Logon, t, user, pc, "Logon", mal);
                t += rng.random_range(60..300);
                buf.push(ids, SourceKind::Device, t, user, pc, "Connect", mal);
                for _ in 0..rng.random_range(0..=3) {
                    t += rng.random_range(10..120);
                    self.file(rng, buf, ids, (t, user, pc), None, vocab::LEAK_WORDS, mal);
                }
                for _ in 0..rng.random_range(1..=3) {
                    t += rng.random_range(20..200);
                    self.http(rng, buf, ids, (t, user, pc), vocab::LEAK_SITE, vocab::LEAK_WORDS, mal);
                }
                t += rng.random_range(30..300);
                buf.push(ids, SourceKind::Device, t, user, pc, "Disconnect", mal);
                t += rng.random_range(30..300);
                buf.push(ids, SourceKind::Logon, t, user, pc, "Logoff", mal);
            }
            Steps::S2 { start, exfil, end, competitor } if (*start..=*end).contains(&day) && workday => {
                let work = |rng: &mut R| p.habits.start + rng.random_range(1800..p.habits.length.max(3600));
                let hunting = day < *exfil;
                if rng.random_bool(if hunting { 0.65 } else { 0.3 }) {
                    for _ in 0..rng.random_range(1..=4) {
                        let site = vocab::JOB_SITES[rng.random_range(0..vocab::JOB_SITES.len())];
                        let t = work(rng);
                        self.http(rng, buf, ids, (t, user, pc), site, vocab::JOB_WORDS, mal);
                    }
                }
                if day == *start {
                    let to = [format!("careers@{competitor}")];
                    let t = work(rng);
                    self.email(rng, buf, ids, (t, user, pc), &p.personal[0], &to, &[], vocab::JOB_WORDS, mal);
                }
                if !hunting && rng.random_bool(0.85) {
                    for _ in 0..rng.random_range(1..=3) {
                        let files = rng.random_range(3..=10);
                        let t = work(rng);
                        self.usb_session(rng, buf, ids, (t, user, pc), files, mal, &[]);
                    }
                }
            }
            Steps::S3 { complain, download, plant, impersonate, supervisor } => {
                let sup = &self.org.people[*supervisor];
                let work = |rng: &mut R| p.habits.start + rng.random_range(1800..p.habits.length.max(3600));
                if day == *complain {
                    for _ in 0..rng.random_range(1..=3) {
                        let c = &p.habits.contacts;
                        let to = [self.org.people[c[rng.random_range(0..c.len())]].email.clone()];
                        let t = work(rng);
                        self.email(rng, buf, ids, (t, user, pc), &p.email, &to, &[], vocab::COMPLAINT_WORDS, mal);
                    }
                } else if day == *download {
                    let mut t = work(rng);
                    for _ in 0..rng.random_range(1..=2) {
                        let site = vocab::KEYLOGGER_SITES[rng.random_range(0..vocab::KEYLOGGER_SITES.len())];
                        self.http(rng, buf, ids, (t, user, pc), site, vocab::KEYLOG_WORDS, mal);
                        t += rng.random_range(30..400);
                    }
                    buf.push(ids, SourceKind::Device, t, user, pc, "Connect", mal);
                    self.file(rng, buf, ids, (t + 40, user, pc), Some("exe"), vocab::KEYLOG_WORDS, mal);
                    buf.push(ids, SourceKind::Device, t + rng.random_range(100..600), user, pc, "Disconnect", mal);
                } else if day == *plant {
                    let mut t = rng.random_range(19 * 3600 + 1800..21 * 3600 + 1800);
                    buf.push(ids, SourceKind::Logon, t, user, sup.pc, "Logon", mal);
                    t += rng.random_range(30..200);
                    buf.push(ids, SourceKind::Device, t, user, sup.pc, "Connect", mal);
                    self.file(rng, buf, ids, (t + 30, user, sup.pc), Some("exe"), vocab::KEYLOG_WORDS, mal);
                    t += rng.random_range(100..400);
                    buf.push(ids, SourceKind::Device, t, user, sup.pc, "Disconnect", mal);
                    buf.push(ids, SourceKind::Logon, t + rng.random_range(30..300), user, sup.pc, "Logoff", mal);
                } else if day == *impersonate {
                    // Logged on as the supervisor: these rows carry the supervisor's user id.
                    let mut t = rng.random_range(20 * 3600..22 * 3600);
                    buf.push(ids, SourceKind::Logon, t, sup.user, pc, "Logon", mal);
                    let n = rng.random_range(10..=40).min(self.org.people.len() - 1);
                    let mut to: Vec<String> = self.org.people.iter().map(|q| q.email.clone()).collect();
                    to.shuffle(rng);
                    to.truncate(n);
                    t += rng.random_range(60..600);
                    self.email(rng, buf, ids, (t, sup.user, pc), &sup.email, &to, &[], vocab::ALARM_WORDS, mal);
                    buf.push(ids, SourceKind::Logon, t + rng.random_range(60..600), sup.user, pc, "Logoff", mal);
                }
            }
            _ => {}
        }
    }
}
