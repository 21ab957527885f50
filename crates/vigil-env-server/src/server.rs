//! The server object: shared state, the idle-session sweep, and serving on a socket.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};

use axum::Router;
use tokio::net::TcpListener;
use vigil_core::{Environment, Policy, Split, TaskId, derive_seed};

use crate::demo::DemoPolicy;
use crate::extract::BodyLimit;
use crate::openenv::{OpenEnvShape, Registry};
use crate::quota::Budget;
use crate::routes::{guarded, router};
use crate::sessions::Sessions;
use crate::{ServerConfig, ServerError};

/// Task lists by split and stage.
type TaskLists = HashMap<(Split, Option<String>), Arc<Vec<TaskId>>>;

/// State shared by every request.
pub(crate) struct App {
    pub env: Arc<dyn Environment>,
    pub config: ServerConfig,
    pub sessions: Sessions,
    /// Resets that did not name a seed, so far.
    pub resets: AtomicU64,
    /// Task lists by split and stage (environments are immutable, so computed once).
    task_lists: Mutex<TaskLists>,
    pub demo: Vec<Arc<DemoPolicy>>,
    /// The OpenEnv schema spoken on `/ws` and in OpenEnv-shaped HTTP requests.
    pub shape: OpenEnvShape,
    /// OpenEnv HTTP episodes by `episode_id`.
    pub openenv: Registry,
    /// Bearer token every route but `/health` requires.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("env", &self.env.name()).field("config", &self.config).finish_non_exhaustive()
    }
}

impl BodyLimit for Arc<App> {
    fn body_limit(&self) -> usize {
        self.config.max_body_bytes
    }
}

impl App {
    /// The tasks of `split` (and `stage`), cached.
    pub(crate) fn task_list(&self, split: Split, stage: Option<&str>) -> Result<Arc<Vec<TaskId>>, ServerError> {
        let key = (split, stage.map(str::to_string));
        let cached = self.task_lists.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).cloned();
        if let Some(list) = cached {
            return Ok(list);
        }
        let list = Arc::new(guarded("listing tasks", || self.env.tasks(split, stage))??);
        self.task_lists.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, Arc::clone(&list));
        Ok(list)
    }

    /// A task of `split` (and `stage`) chosen by `seed`.
    pub(crate) fn pick_task(&self, split: Split, stage: Option<&str>, seed: u64) -> Result<TaskId, ServerError> {
        let list = self.task_list(split, stage)?;
        if list.is_empty() {
            return Err(ServerError::NoTasks { split: split.to_string(), stage: stage.map(str::to_string) });
        }
        let i = derive_seed(seed, "server-task", 0) % list.len() as u64;
        Ok(list[i as usize].clone())
    }
}

/// An HTTP server over one environment. Build it, optionally add demo policies, then
/// [`serve`](Self::serve) it on a listener (async) or [`run`](Self::run) it (blocking).
pub struct EnvServer {
    env: Arc<dyn Environment>,
    config: ServerConfig,
    demo: Vec<Arc<DemoPolicy>>,
    shape: OpenEnvShape,
    api_key: Option<String>,
}

impl std::fmt::Debug for EnvServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.demo.iter().map(|p| p.name.as_str()).collect();
        f.debug_struct("EnvServer")
            .field("env", &self.env.name())
            .field("config", &self.config)
            .field("demo", &names)
            .field("shape", &self.shape)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl EnvServer {
    /// A server over `env` with validated limits.
    pub fn new(env: Arc<dyn Environment>, config: ServerConfig) -> Result<Self, ServerError> {
        config.validate()?;
        Ok(Self { env, config, demo: Vec::new(), shape: OpenEnvShape::default(), api_key: None })
    }

    /// The OpenEnv action/observation schema to speak (default [`OpenEnvShape::Text`]).
    pub fn with_openenv_shape(mut self, shape: OpenEnvShape) -> Self {
        self.shape = shape;
        self
    }

    /// Requires `Authorization: Bearer <key>` on every route but `/health` (vLLM's convention).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Result<Self, ServerError> {
        let key = key.into();
        if key.is_empty() {
            return Err(ServerError::Config { field: "api_key", reason: "must not be empty".into() });
        }
        self.api_key = Some(key);
        Ok(self)
    }

    /// Adds a policy whose answers `/demo` shows side by side with the others'.
    pub fn with_demo_policy(mut self, name: impl Into<String>, policy: Box<dyn Policy>) -> Result<Self, ServerError> {
        let name = name.into();
        if name.is_empty() || self.demo.iter().any(|p| p.name == name) {
            return Err(ServerError::Config {
                field: "demo policies",
                reason: format!("policy names must be non-empty and unique, got `{name}` twice or empty"),
            });
        }
        self.demo.push(Arc::new(DemoPolicy::new(name, policy)));
        Ok(self)
    }

    fn into_app(self) -> Arc<App> {
        let budget = Budget::new(&self.config);
        let c = &self.config;
        Arc::new(App {
            sessions: Sessions::new(c.max_sessions, c.max_sessions_per_client, budget, c.idle_timeout()),
            api_key: self.api_key,
            env: self.env,
            config: self.config,
            resets: AtomicU64::new(0),
            task_lists: Mutex::new(HashMap::new()),
            demo: self.demo,
            shape: self.shape,
            openenv: Registry::default(),
        })
    }

    /// Serves on `listener` until `shutdown` resolves, sweeping idle sessions in the background.
    pub async fn serve<F>(self, listener: TcpListener, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let app = self.into_app();
        let sweeper = tokio::spawn(sweep(Arc::downgrade(&app), app.config.sweep_interval()));
        let addr = listener.local_addr().ok();
        if addr.is_some_and(|a| !a.ip().is_loopback()) && app.api_key.is_none() {
            tracing::warn!(
                ?addr,
                "serving on a non-loopback address without an API key: anyone who can reach it can run episodes (set --api-key or {})",
                vigil_core::auth::API_KEY_ENV
            );
        }
        tracing::info!(env = app.env.name(), ?addr, "serving");
        let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
        sweeper.abort();
        result.map_err(|source| ServerError::Io { context: "serving HTTP".into(), source })
    }

    /// Binds `addr`, calls `on_bound` with the bound address (port 0 picks a free port), and
    /// serves on a new multi-threaded runtime until Ctrl-C or SIGTERM.
    pub fn run(self, addr: SocketAddr, on_bound: impl FnOnce(SocketAddr)) -> Result<(), ServerError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("vigil-env-server")
            .build()
            .map_err(|source| ServerError::Io { context: "starting the async runtime".into(), source })?;
        rt.block_on(async move {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Io { context: format!("binding {addr}"), source })?;
            let bound = listener
                .local_addr()
                .map_err(|source| ServerError::Io { context: "reading the bound address".into(), source })?;
            on_bound(bound);
            self.serve(listener, shutdown_signal()).await
        })
    }
}

/// Drops idle sessions every `every` until the server is gone.
async fn sweep(app: Weak<App>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(app) = app.upgrade() else { return };
        let n = app.sessions.sweep();
        if n > 0 {
            tracing::info!(expired = n, live = app.sessions.len(), "dropped idle sessions");
        }
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The router without the background sweep, for embedding in another axum app (idle sessions
/// are then only dropped lazily, when looked up or when the map is full).
pub fn router_for(server: EnvServer) -> Router {
    router(server.into_app())
}
