//! Counting what one client address holds open (TCP connections, WebSockets), so no single
//! client can take all of them.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

/// Open things per client address; cheap to clone.
#[derive(Clone, Default)]
pub struct PerClient {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open thing of one client: gives its place back when dropped.
pub struct Slot {
    table: PerClient,
    ip: IpAddr,
}

impl PerClient {
    /// A place for `ip`, unless it already holds `max`.
    pub fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            table: self.clone(),
            ip,
        })
    }

    /// How many places `ip` holds.
    #[cfg(test)]
    pub fn held(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            // Forget the address entirely, so the table stays as small as what is open.
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_given_back() {
        let table = PerClient::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = table.take(a, 2).unwrap();
        let _second = table.take(a, 2).unwrap();
        assert!(table.take(a, 2).is_none());
        assert!(table.take(b, 2).is_some(), "addresses are separate");
        drop(first);
        assert_eq!(table.held(a), 1);
        assert!(table.take(a, 2).is_some());
        assert_eq!(table.held(b), 0, "a dropped slot leaves nothing behind");
    }
}
