//! The client's address: the socket peer, or, when the peer is a trusted proxy, the nearest
//! untrusted address in `X-Forwarded-For` (a client can prepend anything it likes there, so
//! the header is read from the right and only through proxies we trust).

use std::net::IpAddr;

use axum::http::HeaderMap;

/// An address or a CIDR block (`10.0.0.0/8`, `::1`), from `TRUSTED_PROXIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not an IP address or CIDR block");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpRange { addr, prefix })
    }
}

/// The address rate limits and the audit log see.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    // On a dual-stack listener IPv4 peers show up as ::ffff:a.b.c.d.
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            Err(_) => break, // garbage: stop at the last address we could trust
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn ranges_match_by_prefix() {
        let r: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(r.contains(ip("10.1.2.3")));
        assert!(!r.contains(ip("11.0.0.1")));
        assert!(!r.contains(ip("::1")));
        let one: IpRange = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")));
        assert!(
            "0.0.0.0/0"
                .parse::<IpRange>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("proxy".parse::<IpRange>().is_err());
    }

    #[test]
    fn forwarded_for_counts_only_through_trusted_proxies() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(
            client_ip(ip("1.2.3.4"), &xff("9.9.9.9"), &trusted),
            ip("1.2.3.4")
        );
        // Through the proxy: the nearest untrusted hop, not what the client prepended.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &xff("6.6.6.6, 5.5.5.5, 10.0.0.9"), &trusted),
            ip("5.5.5.5")
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &xff("junk"), &trusted),
            ip("10.0.0.5")
        );
        // IPv4 proxies reached over a dual-stack socket.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.5"), &xff("5.5.5.5"), &trusted),
            ip("5.5.5.5")
        );
        // Nothing trusted: never read.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &xff("5.5.5.5"), &[]),
            ip("10.0.0.5")
        );
    }
}
