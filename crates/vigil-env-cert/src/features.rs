//! Summary features of a user/day window and the user's history before that day.
//!
//! CERT's signals are relative to the user's own past (first thumb-drive use, first
//! after-hours logon, logons to someone else's PC), so each window also carries a summary of
//! the user's earlier days, computed in one streaming pass from strictly earlier days only
//! (no look-ahead, no labels). SOC Narrative's public heuristics are fixed here: mail counts
//! as external when **any** recipient is outside the company, not only when all are; the URL
//! marker `file` (which matched almost everything) is dropped.

use serde::{Deserialize, Serialize};

use crate::rows::Activity;
use crate::types::{PcId, SourceKind, Timestamp};

/// Job-hunting domains (scenario 2; r4.2 uses these names).
pub const JOB_SITES: &[&str] = &[
    "monster.com", "careerbuilder.com", "craigslist.org", "jobhuntersbible.com", "indeed.com", "simplyhired.com",
    "linkedin.com", "hotjobs.yahoo.com",
];
/// Leak sites (scenario 1).
pub const LEAK_SITES: &[&str] = &["wikileaks.org"];
/// Markers of hacking-tool pages in URL or keywords (scenario 3).
pub const HACKING_MARKERS: &[&str] = &["keylog", "spyware", "stealth"];
/// Cloud/paste markers of SOC Narrative's "suspicious URL" flag (minus `file`).
pub const CLOUD_MARKERS: &[&str] = &["dropbox", "pastebin", "mega.", "drive.google", "upload", "share"];

/// One event as the feature code sees it.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// Source file.
    pub kind: SourceKind,
    /// When.
    pub time: Timestamp,
    /// Where.
    pub pc: PcId,
    /// Logon/device activity.
    pub activity: Option<Activity>,
    /// file.csv filename.
    pub filename: &'a str,
    /// http URL.
    pub url: &'a str,
    /// Recipients (to, cc, bcc).
    pub recipients: [&'a str; 3],
    /// Attachment count.
    pub attachments: u32,
    /// Keyword content.
    pub content: &'a str,
}

/// Per-window summary features (counts over the whole day, before any event cap).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    /// Events in the day.
    pub events: u32,
    /// Events per source.
    pub logon: u32,
    /// device.csv rows.
    pub device: u32,
    /// file.csv rows (copies to removable media).
    pub file: u32,
    /// Mails sent.
    pub email: u32,
    /// Web requests.
    pub http: u32,
    /// Events before `after_hours.0` or after hour `after_hours.1`.
    pub after_hours: u32,
    /// Logons among them.
    pub after_hours_logons: u32,
    /// Thumb-drive connects.
    pub usb_connects: u32,
    /// Copies of executables (`.exe` or MZ header).
    pub exe_copies: u32,
    /// Mails with at least one recipient outside the company domain.
    pub external_emails: u32,
    /// Most recipients on one mail.
    pub max_recipients: u32,
    /// Attachments over all mails.
    pub attachments: u32,
    /// Requests to job sites.
    pub job_site_http: u32,
    /// Requests to leak sites.
    pub leak_site_http: u32,
    /// Requests to hacking-tool pages.
    pub hacking_http: u32,
    /// Requests to cloud/paste/upload pages.
    pub cloud_http: u32,
    /// Distinct PCs used.
    pub pcs: u32,
    /// Logons on a PC other than the user's usual one (0 without history).
    pub other_pc_logons: u32,
}

impl Features {
    /// SOC Narrative's four high-risk flags raised by this day (thumb drive, ≥25 copies,
    /// ≥3 external mails, cloud/paste URL).
    pub fn high_risk_flags(&self) -> u32 {
        u32::from(self.device > 0)
            + u32::from(self.file >= 25)
            + u32::from(self.external_emails >= 3)
            + u32::from(self.cloud_http > 0)
    }

    /// Computes the features of one day's events.
    pub fn compute<'a>(
        events: impl Iterator<Item = EventRef<'a>>,
        after_hours: (u32, u32),
        internal_domain: &str,
        usual_pc: Option<PcId>,
    ) -> Features {
        let mut f = Features::default();
        let mut pcs: Vec<PcId> = Vec::new();
        for e in events {
            f.events += 1;
            let late = {
                let h = e.time.hour();
                h < after_hours.0 || h > after_hours.1
            };
            f.after_hours += u32::from(late);
            if !pcs.contains(&e.pc) {
                pcs.push(e.pc);
            }
            match e.kind {
                SourceKind::Logon => {
                    f.logon += 1;
                    if e.activity == Some(Activity::Logon) {
                        f.after_hours_logons += u32::from(late);
                        f.other_pc_logons += u32::from(usual_pc.is_some_and(|p| p != e.pc));
                    }
                }
                SourceKind::Device => {
                    f.device += 1;
                    f.usb_connects += u32::from(e.activity == Some(Activity::Connect));
                }
                SourceKind::File => {
                    f.file += 1;
                    let exe = e.filename.to_ascii_lowercase().ends_with(".exe") || e.content.starts_with("4D-5A");
                    f.exe_copies += u32::from(exe);
                }
                SourceKind::Email => {
                    f.email += 1;
                    f.attachments += e.attachments;
                    let mut n = 0u32;
                    let mut external = false;
                    for a in e.recipients.iter().flat_map(|r| r.split(';')).map(str::trim).filter(|a| !a.is_empty()) {
                        n += 1;
                        let domain = a.rsplit_once('@').map_or("", |(_, d)| d);
                        external |= !domain.eq_ignore_ascii_case(internal_domain);
                    }
                    f.max_recipients = f.max_recipients.max(n);
                    f.external_emails += u32::from(external);
                }
                SourceKind::Http => {
                    f.http += 1;
                    let host = host_of(e.url);
                    let on = |list: &[&str]| list.iter().any(|d| on_domain(&host, d));
                    f.job_site_http += u32::from(on(JOB_SITES));
                    f.leak_site_http += u32::from(on(LEAK_SITES));
                    let url = e.url.to_ascii_lowercase();
                    let hacking = HACKING_MARKERS.iter().any(|m| url.contains(m) || e.content.contains(m));
                    f.hacking_http += u32::from(hacking);
                    f.cloud_http += u32::from(CLOUD_MARKERS.iter().any(|m| url.contains(m)));
                }
            }
        }
        f.pcs = pcs.len() as u32;
        f
    }
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn on_domain(host: &str, domain: &str) -> bool {
    host.len() >= domain.len()
        && host.ends_with(domain)
        && (host.len() == domain.len() || host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// The host part of a URL, lower-cased, without `www.`.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#', ':']).next().unwrap_or("");
    let host = host.to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_string).unwrap_or(host)
}

/// The user's history before the window's day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Earlier days with any activity.
    pub prior_active_days: u32,
    /// Earlier days with thumb-drive use.
    pub prior_usb_days: u32,
    /// Earlier days with after-hours logons.
    pub prior_after_hours_days: u32,
    /// Earlier days with job-site requests.
    pub prior_job_site_days: u32,
    /// Mean file copies per earlier active day.
    pub mean_file_copies: f64,
    /// Mean events per earlier active day.
    pub mean_events: f64,
    /// The PC with the most logons so far.
    pub usual_pc: Option<PcId>,
}

/// Running per-user state behind [`History`].
#[derive(Debug, Clone, Default)]
pub struct UserState {
    days: u32,
    usb_days: u32,
    after_hours_days: u32,
    job_days: u32,
    file_copies: u64,
    events: u64,
    pc_logons: Vec<(PcId, u32)>,
}

impl UserState {
    /// The history summary before today.
    pub fn summary(&self) -> History {
        let per_day = |x: u64| if self.days == 0 { 0.0 } else { x as f64 / f64::from(self.days) };
        History {
            prior_active_days: self.days,
            prior_usb_days: self.usb_days,
            prior_after_hours_days: self.after_hours_days,
            prior_job_site_days: self.job_days,
            mean_file_copies: (per_day(self.file_copies) * 100.0).round() / 100.0,
            mean_events: (per_day(self.events) * 10.0).round() / 10.0,
            usual_pc: self.usual_pc(),
        }
    }

    /// The PC with the most logons so far (ties: the lower PC number).
    pub fn usual_pc(&self) -> Option<PcId> {
        self.pc_logons.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|x| x.0)
    }

    /// Adds a finished day.
    pub fn update(&mut self, f: &Features, logon_pcs: impl Iterator<Item = PcId>) {
        self.days += 1;
        self.usb_days += u32::from(f.usb_connects > 0);
        self.after_hours_days += u32::from(f.after_hours_logons > 0);
        self.job_days += u32::from(f.job_site_http > 0);
        self.file_copies += u64::from(f.file);
        self.events += u64::from(f.events);
        for pc in logon_pcs {
            match self.pc_logons.iter_mut().find(|x| x.0 == pc) {
                Some(x) => x.1 += 1,
                None => self.pc_logons.push((pc, 1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_external_mail() {
        assert_eq!(host_of("http://www.Monster.com/jobs/x.htm"), "monster.com");
        assert_eq!(host_of("https://wikileaks.org"), "wikileaks.org");
        let t = Timestamp::parse(b"01/04/2010 22:10:00").unwrap();
        let pc = PcId::new(1);
        let mail = |to| EventRef {
            kind: SourceKind::Email,
            time: t,
            pc,
            activity: None,
            filename: "",
            url: "",
            recipients: [to, "", ""],
            attachments: 1,
            content: "",
        };
        let f = Features::compute(
            [mail("A.B.C@dtaa.com;x@gmail.com"), mail("A.B.C@dtaa.com")].into_iter(),
            (7, 20),
            "dtaa.com",
            None,
        );
        assert_eq!((f.email, f.external_emails, f.max_recipients, f.after_hours), (2, 1, 2, 2));
    }
}
