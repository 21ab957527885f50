//! The cast of a generated scenario: users, hosts, domains and data targets, and which of them
//! the attack uses. Ids carry no role; the attacker's domain is drawn like the legitimate ones.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use super::text::{self, domain_name, fresh, hex, pick};
use crate::seed::{DataTarget, Domain, DomainType, Host, User};

/// Everyone and everything a scenario names.
pub(super) struct Cast {
    /// The organisation's own domain.
    pub(super) internal: String,
    /// Users; the first is the one compromised.
    pub(super) users: Vec<User>,
    /// Hosts; the first is patient zero's workstation, the second the file server.
    pub(super) hosts: Vec<Host>,
    /// Every domain, shuffled.
    pub(super) domains: Vec<Domain>,
    /// External domains but the attacker's.
    pub(super) legit: Vec<String>,
    /// Data targets.
    pub(super) targets: Vec<DataTarget>,
    /// The attacker's domain.
    pub(super) attacker_domain: String,
    /// Patient zero's host.
    pub(super) patient_zero: String,
    /// The host the attacker moves to.
    pub(super) lateral_host: String,
    /// The compromised user.
    pub(super) user: String,
    /// The data target the attacker takes.
    pub(super) target: String,
}

/// Draws a cast with `benign` users besides the victim and `n_targets` data targets.
pub(super) fn cast(rng: &mut ChaCha8Rng, benign: usize, n_targets: usize) -> Cast {
    let mut used = HashSet::new();
    let company = pick(rng, text::COMPANIES);
    let internal = format!("{company}{}", pick(rng, text::TLDS));
    let mut addresses = HashSet::new();
    let users: Vec<User> = (0..=benign)
        .map(|_| {
            let (role, dept) = *text::ROLES.choose(rng).unwrap_or(&("staff", "ops"));
            let mut email;
            loop {
                email = format!("{}.{}@{internal}", pick(rng, text::FIRST), pick(rng, text::LAST));
                if addresses.insert(email.clone()) {
                    break;
                }
            }
            User { user_id: fresh(rng, &mut used, &hex("u")), email, role: role.into(), dept: dept.into() }
        })
        .collect();
    let hosts = hosts(rng, &mut used, &users);
    let (patient_zero, lateral_host) = (hosts[0].host_id.clone(), hosts[1].host_id.clone());
    let user = users[0].user_id.clone();

    let mut names = HashSet::from([internal.clone()]);
    let mut ext = |rng: &mut ChaCha8Rng| fresh(rng, &mut names, &domain_name);
    let attacker_domain = ext(rng);
    let legit: Vec<String> = (0..=benign).map(|_| ext(rng)).collect();
    let mut domains: Vec<Domain> =
        std::iter::once(Domain { domain: internal.clone(), domain_type: DomainType::Internal })
            .chain(std::iter::once(Domain { domain: attacker_domain.clone(), domain_type: DomainType::Attacker }))
            .chain(legit.iter().map(|d| Domain { domain: d.clone(), domain_type: DomainType::Legit }))
            .collect();
    domains.shuffle(rng);
    let mut pool: Vec<(&str, &str)> = text::TARGETS.to_vec();
    pool.shuffle(rng);
    let targets: Vec<DataTarget> = pool
        .iter()
        .take(n_targets)
        .map(|(name, sens)| DataTarget {
            target_id: fresh(rng, &mut used, &hex("t")),
            name: (*name).into(),
            sensitivity: (*sens).into(),
            description: Some(format!("{name} export.")),
        })
        .collect();
    let target = targets[rng.random_range(0..targets.len())].target_id.clone();
    Cast { internal, users, hosts, domains, legit, targets, attacker_domain, patient_zero, lateral_host, user, target }
}

/// The victim's workstation, a file server, every other user's workstation and an application
/// server (the last two groups shuffled), on one private /16.
fn hosts(rng: &mut ChaCha8Rng, used: &mut HashSet<String>, users: &[User]) -> Vec<Host> {
    let net = rng.random_range(1..250);
    let mut host = |rng: &mut ChaCha8Rng, kind: &str, os: &str, owner: &str| Host {
        host_id: fresh(rng, used, &hex("h")),
        hostname: format!("{kind}-{:02}", rng.random_range(1..99)),
        owner_user_id: owner.into(),
        ip: format!("10.{net}.{}.{}", rng.random_range(0..255), rng.random_range(2..254)),
        os: os.into(),
    };
    let admin = |rng: &mut ChaCha8Rng| users.choose(rng).map_or(String::new(), |u| u.user_id.clone());
    let ws = |rng: &mut ChaCha8Rng| {
        *[("laptop", "windows"), ("desktop", "windows"), ("mac", "macos")].choose(rng).unwrap_or(&("laptop", "windows"))
    };
    let (k, os) = ws(rng);
    let mut hosts = vec![host(rng, k, os, &users[0].user_id)];
    let a = admin(rng);
    hosts.push(host(rng, "fileserver", "linux", &a));
    let mut rest: Vec<Host> = users[1..]
        .iter()
        .map(|u| {
            let (k, os) = ws(rng);
            host(rng, k, os, &u.user_id)
        })
        .collect();
    let a = admin(rng);
    rest.push(host(rng, "appserver", "linux", &a));
    rest.shuffle(rng);
    hosts.extend(rest);
    hosts
}
