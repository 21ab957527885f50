//! Server limits: how many sessions, for how long, and how big a request may be.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ServerError;

/// Limits and defaults of an [`EnvServer`](crate::EnvServer). Every field has a default, so
/// `ServerConfig::default()` (or an empty TOML table) is a working server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Most live sessions (finished but not yet closed ones included); `/reset` answers 429 when full.
    pub max_sessions: usize,
    /// A session untouched for this long is dropped by the background sweep.
    pub idle_timeout_secs: u64,
    /// Largest accepted request body, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Safety net on steps per session for environments that never end an episode.
    pub max_steps: u32,
    /// Root of the seeds given to resets that do not name one (the `n`-th such reset gets
    /// `derive_seed(seed, "reset", n)`), so a server's episodes are reproducible.
    pub seed: u64,
    /// Most tasks offered in the `/demo` task selector.
    pub demo_tasks: usize,
    /// Serve `/demo` and `/demo/run` (train-split tasks only; off by default, since a demo
    /// runs the configured policies, oracles included, on request).
    pub demo: bool,
    /// Largest action one `/step` accepts, in bytes (413 above).
    pub max_action_bytes: usize,
    /// Most bytes of text (prompt, actions, observations) one session may hold; steps beyond
    /// get 429.
    pub max_session_bytes: u64,
    /// Most bytes of session text the whole server holds; resets and steps beyond get 429.
    pub max_total_bytes: u64,
    /// Most live sessions one client address may hold (429 beyond).
    pub max_sessions_per_client: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_sessions: 1024,
            idle_timeout_secs: 600,
            max_body_bytes: 1 << 20,
            max_steps: 512,
            seed: 0,
            demo_tasks: 200,
            demo: false,
            max_action_bytes: 128 << 10,
            max_session_bytes: 2 << 20,
            max_total_bytes: 512 << 20,
            max_sessions_per_client: 256,
        }
    }
}

impl ServerConfig {
    /// Checks the limits; [`EnvServer::new`](crate::EnvServer::new) calls it.
    pub fn validate(&self) -> Result<(), ServerError> {
        let bad = |field, reason: &str| Err(ServerError::Config { field, reason: reason.to_string() });
        if self.max_sessions == 0 {
            return bad("max_sessions", "must be at least 1");
        }
        if self.idle_timeout_secs == 0 {
            return bad("idle_timeout_secs", "must be at least 1");
        }
        if self.idle_timeout_secs > 7 * 24 * 3600 {
            return bad("idle_timeout_secs", "must be at most one week (604800)");
        }
        if self.max_body_bytes < 1024 {
            return bad("max_body_bytes", "must be at least 1024");
        }
        if self.max_steps == 0 {
            return bad("max_steps", "must be at least 1");
        }
        if self.demo_tasks == 0 {
            return bad("demo_tasks", "must be at least 1");
        }
        if self.max_action_bytes == 0 {
            return bad("max_action_bytes", "must be at least 1");
        }
        if self.max_session_bytes < self.max_action_bytes as u64 || self.max_total_bytes < self.max_session_bytes {
            return bad("max_session_bytes", "must lie between max_action_bytes and max_total_bytes");
        }
        if self.max_sessions_per_client == 0 {
            return bad("max_sessions_per_client", "must be at least 1");
        }
        Ok(())
    }

    /// The idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// How often the background sweep looks for idle sessions: a quarter of the timeout,
    /// between 100 ms and 30 s, so a session outlives its timeout by at most 25%.
    pub fn sweep_interval(&self) -> Duration {
        (self.idle_timeout() / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_limits_are_named() {
        ServerConfig::default().validate().unwrap();
        let c: ServerConfig = serde_json::from_str(r#"{"max_sessions": 0}"#).unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("`max_sessions` must be at least 1"));
        let e = serde_json::from_str::<ServerConfig>(r#"{"max_session": 3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `max_session`"));
        let c = ServerConfig { idle_timeout_secs: 1, ..ServerConfig::default() };
        assert_eq!(c.sweep_interval(), Duration::from_millis(250));
        let c = ServerConfig { idle_timeout_secs: 3600, ..ServerConfig::default() };
        assert_eq!(c.sweep_interval(), Duration::from_secs(30));
    }
}
