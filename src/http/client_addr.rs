//! The client's address: the socket peer, or, when the peer is a trusted proxy, the nearest
//! untrusted address in `X-Forwarded-For` (a client can prepend anything it likes there, so
//! the header is read from the right and only through proxies we trust).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address rate limits and the audit log see.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    // On a dual-stack listener IPv4 peers show up as ::ffff:a.b.c.d.
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
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
    fn forwarded_for_counts_only_through_trusted_proxies() {
        let trusted: [IpNet; 1] = ["10.0.0.0/8".parse().unwrap()];
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
