//! Live sessions: a bounded map from session id to session, with idle expiry.
//!
//! The map's lock is held only to insert, look up or remove an `Arc<Session>`; each session has
//! its own async mutex around its episode (episodes are `Send` but not `Sync`), so a slow step
//! in one session never blocks another.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Mutex as AsyncMutex;
use vigil_core::{ChatMessage, Episode, EpisodeOptions, Outcome, TaskId};

use crate::ServerError;
use crate::quota::{Budget, Usage};

/// What a session is about; fixed at reset.
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub task: TaskId,
    pub stage: Option<String>,
    pub seed: u64,
    pub options: EpisodeOptions,
}

/// The mutable part of a session.
pub(crate) struct Run {
    pub episode: Box<dyn Episode>,
    pub transcript: Vec<ChatMessage>,
    pub steps: u32,
    pub outcome: Option<Outcome>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").field("steps", &self.steps).field("done", &self.outcome.is_some()).finish()
    }
}

/// One session.
#[derive(Debug)]
pub(crate) struct Session {
    pub id: String,
    pub info: SessionInfo,
    /// The address that created it (per-client limits).
    client: Option<IpAddr>,
    /// Its share of the server's byte budget (given back when the session is dropped).
    pub usage: Usage,
    /// Milliseconds since the store's epoch when the session was last used.
    last_used: AtomicU64,
    pub run: AsyncMutex<Run>,
}

/// The bounded session map.
#[derive(Debug)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    max: usize,
    max_per_client: usize,
    budget: Arc<Budget>,
    idle: Duration,
    epoch: Instant,
}

impl Sessions {
    pub(crate) fn new(max: usize, max_per_client: usize, budget: Arc<Budget>, idle: Duration) -> Self {
        Self { map: Mutex::new(HashMap::new()), max, max_per_client, budget, idle, epoch: Instant::now() }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        // No code panics while holding this lock, but a poisoned map is still a valid map.
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn expired(&self, s: &Session, now: u64) -> bool {
        now.saturating_sub(s.last_used.load(Ordering::Relaxed)) > self.idle.as_millis() as u64
    }

    /// Live sessions.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Fails fast when every slot (or the client's share, or the byte budget) is taken;
    /// checked again on insert.
    pub(crate) fn check_capacity(&self, client: Option<IpAddr>) -> Result<(), ServerError> {
        let mut map = self.lock();
        self.room_locked(&mut map, client)
    }

    fn room_locked(&self, map: &mut HashMap<String, Arc<Session>>, client: Option<IpAddr>) -> Result<(), ServerError> {
        if map.len() >= self.max {
            self.sweep_locked(map);
        }
        if map.len() >= self.max {
            return Err(ServerError::TooManySessions { max: self.max });
        }
        if client.is_some() && map.values().filter(|s| s.client == client).count() >= self.max_per_client {
            self.sweep_locked(map);
            if map.values().filter(|s| s.client == client).count() >= self.max_per_client {
                return Err(ServerError::ClientSessions { max: self.max_per_client });
            }
        }
        self.budget.admit()
    }

    /// Adds a session under a fresh random id.
    pub(crate) fn insert(
        &self,
        info: SessionInfo,
        run: Run,
        client: Option<IpAddr>,
    ) -> Result<Arc<Session>, ServerError> {
        let mut map = self.lock();
        self.room_locked(&mut map, client)?;
        let id = loop {
            let id = format!("{:032x}", rand::random::<u128>());
            if !map.contains_key(&id) {
                break id;
            }
        };
        let session = Arc::new(Session {
            id: id.clone(),
            info,
            client,
            usage: Usage::new(Arc::clone(&self.budget)),
            last_used: AtomicU64::new(self.now_ms()),
            run: AsyncMutex::new(run),
        });
        map.insert(id, Arc::clone(&session));
        Ok(session)
    }

    /// The session `id`, marked as used now; unknown and expired ids are errors.
    pub(crate) fn get(&self, id: &str) -> Result<Arc<Session>, ServerError> {
        let now = self.now_ms();
        let mut map = self.lock();
        let Some(s) = map.get(id) else {
            return Err(ServerError::UnknownSession(id.to_string()));
        };
        if self.expired(s, now) {
            map.remove(id);
            return Err(ServerError::UnknownSession(id.to_string()));
        }
        s.last_used.store(now, Ordering::Relaxed);
        Ok(Arc::clone(s))
    }

    /// Marks `session` as used now (after a long step, so it is not swept right away).
    pub(crate) fn touch(&self, session: &Session) {
        session.last_used.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Removes the session `id`; false when it did not exist.
    pub(crate) fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Whether the session `id` is in the map (expired or not), without marking it used.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// Drops every idle session; returns how many.
    pub(crate) fn sweep(&self) -> usize {
        let mut map = self.lock();
        self.sweep_locked(&mut map)
    }

    fn sweep_locked(&self, map: &mut HashMap<String, Arc<Session>>) -> usize {
        let now = self.now_ms();
        let before = map.len();
        map.retain(|_, s| !self.expired(s, now));
        before - map.len()
    }
}
