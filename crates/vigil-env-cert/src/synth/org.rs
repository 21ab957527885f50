//! The synthetic organisation: units, departments, teams with leads, people with habits.
//!
//! Habits make single signals ambiguous on purpose, as in r4.2: some normal users start
//! before 07:00 or work late, about a quarter use thumb drives, a few browse job sites or
//! log on to shared lab PCs. Insiders are then chosen so each scenario's "new behaviour"
//! is really new for them (scenario 1 picks users with no USB or after-hours habit).

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;

use super::vocab::{self, FIRST, LAST, UNITS};
use crate::org::{LdapRow, Psychometric};
use crate::types::{Day, PcId, UserId};

/// Number of shared lab PCs (r4.2 has 100).
pub(crate) const LAB_PCS: u16 = 100;

/// Daily habits of one person.
#[derive(Debug, Clone)]
pub(crate) struct Habits {
    /// Usual arrival, seconds after midnight.
    pub start: u32,
    /// Usual length of the working day in seconds.
    pub length: u32,
    /// Probability of an evening session on a workday.
    pub late_prob: f64,
    /// Probability of using a thumb drive on a workday (0 for non-USB users).
    pub usb_prob: f64,
    /// Probability of a short weekend session.
    pub weekend_prob: f64,
    /// Mean http requests per workday.
    pub http_rate: f64,
    /// Mean e-mails sent per workday.
    pub email_rate: f64,
    /// Probability of a job-site visit on a workday (benign browsing).
    pub job_prob: f64,
    /// Probability of a short session on a shared lab PC.
    pub lab_prob: f64,
    /// Favourite domains (indices into the synthetic domain table).
    pub favourites: Vec<usize>,
    /// Coworkers this person mails (indices into the people table).
    pub contacts: Vec<usize>,
    /// External correspondents.
    pub external: Vec<String>,
}

/// One employee.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub user: UserId,
    pub name: String,
    pub email: String,
    pub personal: Vec<String>,
    pub role: &'static str,
    pub unit: usize,
    pub dept: usize,
    pub team: usize,
    pub supervisor: Option<usize>,
    pub pc: PcId,
    pub habits: Habits,
    pub ocean: [u8; 5],
    /// Last working day (exclusive of later activity); `None` = stays.
    pub leave: Option<Day>,
}

/// Everyone, plus the lab PCs.
#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub people: Vec<Person>,
    pub lab_pcs: Vec<PcId>,
}

fn gauss<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson-like count with mean `lambda` (exact inversion for small means, normal
/// approximation above 30; only the distribution's rough shape matters here).
pub(crate) fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * gauss(rng)).round().max(0.0) as u32;
    }
    let l = (-lambda).exp();
    let (mut k, mut p) = (0u32, 1.0f64);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

impl Org {
    /// Builds `n` people (at least 10) with departments, teams and leads.
    pub(crate) fn build<R: Rng>(rng: &mut R, n: usize, activity: f64, min_it_admins: usize) -> Org {
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        let mut pcs: Vec<u16> = (1..10_000).collect();
        pcs.shuffle(rng);
        let mut pcs = pcs.into_iter();
        let mut depts: Vec<(usize, usize)> =
            UNITS.iter().enumerate().flat_map(|(u, (_, ds, _))| (0..ds.len()).map(move |d| (u, d))).collect();
        depts.retain(|&d| d != (vocab::IT_UNIT, vocab::IT_DEPT));
        depts.shuffle(rng);
        let mut depts = depts.into_iter().cycle();
        let mut heads: HashMap<(usize, usize), usize> = HashMap::new();
        let mut people: Vec<Person> = Vec::with_capacity(n);
        let mut team = 0usize;
        // The first team is IT (every member an ITAdmin) so scenario 3 always has actors.
        while people.len() < n {
            let (slot, size) = if team == 0 {
                ((vocab::IT_UNIT, vocab::IT_DEPT), min_it_admins.max(3) + 1)
            } else {
                (depts.next().unwrap_or((1, 0)), rng.random_range(4..=12))
            };
            let lead = people.len();
            for k in 0..size.min(n - people.len()) {
                let i = people.len();
                let supervisor = if k > 0 {
                    Some(lead)
                } else {
                    heads.get(&slot).copied().or(if i == 0 { None } else { Some(0) })
                };
                heads.entry(slot).or_insert(i);
                let pc = PcId::new(pcs.next().unwrap_or(1));
                people.push(Person::draw(rng, &mut names, &mut ids, slot, team, supervisor, pc, activity));
            }
            team += 1;
        }
        // Contacts: mostly the own team, some elsewhere; externals from other people's
        // personal addresses and random outsiders.
        for i in 0..n {
            let team = people[i].team;
            let mates: Vec<usize> = (0..n).filter(|&j| j != i && people[j].team == team).collect();
            let k = rng.random_range(4..=12).min(n - 1);
            let mut c: Vec<usize> = mates.into_iter().take(k).collect();
            while c.len() < k {
                let j = rng.random_range(0..n);
                if j != i && !c.contains(&j) {
                    c.push(j);
                }
            }
            let ext = (0..rng.random_range(1..=4))
                .map(|_| {
                    let p = vocab::MAIL_PROVIDERS[rng.random_range(0..vocab::MAIL_PROVIDERS.len())];
                    format!("{}{}@{p}", vocab::word(rng.random_range(0..vocab::VOCAB)), rng.random_range(1..999))
                })
                .collect();
            people[i].habits.contacts = c;
            people[i].habits.external = ext;
        }
        let lab_pcs = (0..LAB_PCS).map(|_| PcId::new(pcs.next().unwrap_or(2))).collect();
        Org { people, lab_pcs }
    }

    /// The LDAP row of person `i`.
    pub(crate) fn ldap_row(&self, i: usize) -> LdapRow {
        let p = &self.people[i];
        let (unit, depts, _) = UNITS[p.unit];
        LdapRow {
            employee_name: p.name.clone(),
            user_id: p.user,
            email: p.email.clone(),
            role: p.role.to_string(),
            business_unit: "1".into(),
            functional_unit: unit.into(),
            department: depts[p.dept].into(),
            team: format!("{} - Team{}", p.team % 9 + 1, p.team),
            supervisor: p.supervisor.map(|s| self.people[s].name.clone()).unwrap_or_default(),
        }
    }

    /// The psychometric row of person `i`.
    pub(crate) fn psychometric(&self, i: usize) -> Psychometric {
        Psychometric { user_id: self.people[i].user, ocean: self.people[i].ocean }
    }
}

impl Person {
    #[allow(clippy::too_many_arguments)]
    fn draw<R: Rng>(
        rng: &mut R,
        names: &mut HashSet<(&'static str, &'static str, &'static str)>,
        ids: &mut HashSet<UserId>,
        (unit, dept): (usize, usize),
        team: usize,
        supervisor: Option<usize>,
        pc: PcId,
        activity: f64,
    ) -> Person {
        let (first, middle, last) = loop {
            let f = FIRST[rng.random_range(0..FIRST.len())];
            let m = FIRST[rng.random_range(0..FIRST.len())];
            let l = LAST[rng.random_range(0..LAST.len())];
            // Names repeat only once the combinations are nearly used up.
            if names.insert((f, m, l)) || names.len() > FIRST.len() * FIRST.len() * LAST.len() / 2 {
                break (f, m, l);
            }
        };
        let letters = [first.as_bytes()[0], middle.as_bytes()[0], last.as_bytes()[0]];
        let user = loop {
            let u = UserId::new(letters, rng.random_range(0..10_000));
            if ids.insert(u) {
                break u;
            }
        };
        let role = if (unit, dept) == (vocab::IT_UNIT, vocab::IT_DEPT) {
            vocab::IT_ROLE
        } else {
            let roles = UNITS[unit].2;
            roles[rng.random_range(0..roles.len())]
        };
        let personal = (0..rng.random_range(1..=2))
            .map(|k| {
                let p = vocab::MAIL_PROVIDERS[rng.random_range(0..vocab::MAIL_PROVIDERS.len())];
                format!("{}.{}{}@{p}", first.to_lowercase(), last.to_lowercase(), rng.random_range(1..99) + k)
            })
            .collect();
        Person {
            user,
            name: format!("{first} {middle} {last}"),
            email: format!("{first}.{middle}.{last}@dtaa.com"),
            personal,
            role,
            unit,
            dept,
            team,
            supervisor,
            pc,
            habits: Habits::draw(rng, activity),
            ocean: std::array::from_fn(|_| rng.random_range(10..=50)),
            leave: None,
        }
    }
}

impl Habits {
    fn draw<R: Rng>(rng: &mut R, activity: f64) -> Habits {
        // ~8% early birds start before 07:00 (after hours by the usual definition).
        let start = if rng.random_bool(0.08) {
            rng.random_range(5 * 3600 + 1800..7 * 3600)
        } else {
            rng.random_range(7 * 3600..9 * 3600 + 1800)
        };
        let late = rng.random_bool(0.12);
        let usb = rng.random_bool(0.26);
        let http_mean = 85.0 * activity;
        Habits {
            start,
            length: rng.random_range(8 * 3600..9 * 3600 + 1800),
            late_prob: if late { rng.random_range(0.1..0.5) } else { 0.0 },
            usb_prob: if usb { rng.random_range(0.2..0.9) } else { 0.0 },
            weekend_prob: rng.random_range(0.0..0.08),
            http_rate: (http_mean * (0.5 + rng.random::<f64>())).max(0.5),
            email_rate: (7.5 * activity * (0.4 + 1.2 * rng.random::<f64>())).max(0.3),
            job_prob: if rng.random_bool(0.1) { rng.random_range(0.005..0.03) } else { 0.0 },
            lab_prob: rng.random_range(0.0..0.04),
            favourites: (0..rng.random_range(8..30)).map(|_| rng.random_range(0..vocab::DOMAINS)).collect(),
            contacts: Vec::new(),
            external: Vec::new(),
        }
    }
}
