//! Byte quotas on what sessions store: the transcript (prompt, actions, observations) is the
//! part of a session that a client controls the size of, so it is counted per session and for
//! the whole server, and released when the session goes.
//!
//! Limits (from [`ServerConfig`](crate::ServerConfig)): one action at most `max_action_bytes`
//! (413), one session at most `max_session_bytes` (429), all sessions at most
//! `max_total_bytes` (429). Text the environment itself produces (prompt, observations) is
//! recorded without being refused, so a session may pass its quota by one observation; its
//! next step is then refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{ServerConfig, ServerError};

/// The server-wide byte budget.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicU64,
    max_total: u64,
    max_session: u64,
    max_action: usize,
}

impl Budget {
    pub(crate) fn new(c: &ServerConfig) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicU64::new(0),
            max_total: c.max_total_bytes,
            max_session: c.max_session_bytes,
            max_action: c.max_action_bytes,
        })
    }

    /// Bytes held by all sessions now.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Refuses new sessions while the server's budget is used up.
    pub(crate) fn admit(&self) -> Result<(), ServerError> {
        if self.used() >= self.max_total { Err(ServerError::ServerFull { max: self.max_total }) } else { Ok(()) }
    }
}

/// One session's share of the budget; dropping it gives the bytes back.
#[derive(Debug)]
pub(crate) struct Usage {
    bytes: AtomicU64,
    budget: Arc<Budget>,
}

impl Usage {
    pub(crate) fn new(budget: Arc<Budget>) -> Self {
        Self { bytes: AtomicU64::new(0), budget }
    }

    /// Bytes this session holds.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Checks and charges an action before it is stored. Callers hold the session's lock, so
    /// the check and the charge cannot interleave with another step of the same session.
    pub(crate) fn charge_action(&self, session: &str, len: usize) -> Result<(), ServerError> {
        let b = &self.budget;
        if len > b.max_action {
            return Err(ServerError::ActionTooLarge { len, max: b.max_action });
        }
        let n = len as u64;
        if self.bytes().saturating_add(n) > b.max_session {
            return Err(ServerError::SessionQuota { session: session.to_string(), max: b.max_session });
        }
        if b.used.fetch_add(n, Ordering::Relaxed).saturating_add(n) > b.max_total {
            b.used.fetch_sub(n, Ordering::Relaxed);
            return Err(ServerError::ServerFull { max: b.max_total });
        }
        self.bytes.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    /// Records text the environment produced (never refused; see the module docs).
    pub(crate) fn record(&self, len: usize) {
        let n = len as u64;
        self.budget.used.fetch_add(n, Ordering::Relaxed);
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
}

impl Drop for Usage {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_refuse_and_sessions_give_bytes_back() {
        let c = ServerConfig {
            max_action_bytes: 10,
            max_session_bytes: 25,
            max_total_bytes: 40,
            ..ServerConfig::default()
        };
        let budget = Budget::new(&c);
        let a = Usage::new(Arc::clone(&budget));
        assert!(matches!(a.charge_action("a", 11), Err(ServerError::ActionTooLarge { len: 11, max: 10 })));
        a.record(5);
        a.charge_action("a", 10).unwrap();
        a.charge_action("a", 10).unwrap();
        assert!(matches!(a.charge_action("a", 1), Err(ServerError::SessionQuota { .. })));
        let b = Usage::new(Arc::clone(&budget));
        b.charge_action("b", 10).unwrap();
        assert!(matches!(b.charge_action("b", 10), Err(ServerError::ServerFull { max: 40 })));
        assert_eq!(budget.used(), 35);
        drop(a);
        assert_eq!(budget.used(), 10);
        budget.admit().unwrap();
    }
}
