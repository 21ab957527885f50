//! Address classes the verifier and the plausibility checker reason about.
//!
//! The world is one organisation: RFC 1918 / ULA / loopback / link-local / CGNAT space is
//! internal; two documented external ranges are sanctioned egress (the backup provider and the
//! patch CDN, stated in the defender's runbook); everything else is the internet.

use std::net::{IpAddr, Ipv4Addr};

/// Sanctioned external destinations: `(network, prefix length, what it is)`.
pub const SANCTIONED_EGRESS: [(Ipv4Addr, u8, &str); 2] = [
    (Ipv4Addr::new(203, 0, 113, 0), 24, "offsite backup provider"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "patch and update CDN"),
];

fn in_net(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Inside the organisation's address space. IPv4-mapped IPv6 addresses are unwrapped first, so
/// `::ffff:10.0.0.5` is as internal as `10.0.0.5`.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local() || in_net(v4, Ipv4Addr::new(100, 64, 0, 0), 10),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// One of the [`SANCTIONED_EGRESS`] ranges (mapped IPv6 unwrapped).
pub fn is_sanctioned(ip: IpAddr) -> bool {
    let v4 = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4,
            None => return false,
        },
    };
    SANCTIONED_EGRESS.iter().any(|&(net, len, _)| in_net(v4, net, len))
}

/// Not a usable endpoint at all: unspecified, multicast or broadcast.
pub fn is_unroutable(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_multicast(),
    }
}

/// An internet destination outside every sanctioned range: where data must not go.
pub fn is_untrusted_external(ip: IpAddr) -> bool {
    !is_internal(ip) && !is_sanctioned(ip) && !is_unroutable(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classifies_addresses() {
        for s in ["10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.9", "::1", "fd00::1",
            "fe80::1", "::ffff:10.0.0.5"] {
            assert!(is_internal(ip(s)), "{s}");
            assert!(!is_untrusted_external(ip(s)), "{s}");
        }
        for s in ["203.0.113.9", "198.51.100.200", "::ffff:203.0.113.1"] {
            assert!(is_sanctioned(ip(s)) && !is_internal(ip(s)) && !is_untrusted_external(ip(s)), "{s}");
        }
        for s in ["45.33.12.7", "172.32.0.1", "2001:4860::8888", "::ffff:8.8.8.8"] {
            assert!(is_untrusted_external(ip(s)), "{s}");
        }
        for s in ["0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "ff02::1"] {
            assert!(is_unroutable(ip(s)) && !is_untrusted_external(ip(s)), "{s}");
        }
    }
}
