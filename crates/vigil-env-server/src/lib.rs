//! OpenEnv-style HTTP server over any Vigil [`Environment`](vigil_core::Environment), with
//! per-session state, so many agents (rollout workers, external evaluators) can run episodes of
//! one environment at once. `exp serve-env <opensoc|opensec|cert>` starts it.
//!
//! Unlike the peers' FastAPI servers (stateless `/step`, one fixed seed per process, a crash on
//! a bad query), every episode here lives in a session created by `/reset` and addressed by its
//! `session_id`; sessions are bounded, expire when idle, and never see each other's state.
//!
//! # API
//!
//! Bodies are JSON (any `Content-Type`). Every error is a 4xx (the request's fault) or 5xx (the
//! environment's) with a body `{"error": "<what is wrong>"}`.
//!
//! | route | input | output |
//! |---|---|---|
//! | `GET /health` | | `{status, env, sessions, max_sessions, idle_timeout_secs}` |
//! | `GET /tasks` | `?split=train\|eval&stage=&offset=&limit=` (default `train`, 1000 per page) | `{env, split, stage, stages, reward_components: [{name,min,max,description}], label_classes, total, offset, tasks: [{id, stage}]}` |
//! | `POST /reset` | query `?task=&stage=&split=&seed=&mode=` and/or body `{task, stage, split, seed, mode, options}` | `{session_id, task, stage, seed, options, observation: {messages: [{role, content}]}, step: 0, done: false}` |
//! | `POST /step` | `{session_id, action}` (`action`: text, or a JSON object sent as JSON text) | `{session_id, step, done, observation: {role, content} \| null, outcome: Outcome \| null}` |
//! | `GET /state` | `?session_id=` | `{session_id, task, stage, seed, options, step, done, transcript: [...]}` |
//! | `POST /grade` | `{session_id}` (or `?session_id=`) | `{session_id, task, outcome}`; 409 until the episode ends |
//! | `DELETE /session` | `?session_id=` (or body) | `{session_id, closed: true}` |
//! | `GET /demo` | `?task=&seed=` (only with `demo = true`; train-split tasks only) | HTML: the prompt and each demo policy's answer and reward vector |
//! | `GET /demo/run` | same | the same as JSON ([`DemoRun`]) |
//! | `GET /ws` | WebSocket, OpenEnv's messages `reset` / `step` / `state` / `close` | `observation` / `state` / `error` messages, one session per connection |
//! | `GET /metadata`, `GET /schema` | | OpenEnv's `EnvironmentMetadata`; JSON Schemas of action, observation and state |
//!
//! OpenEnv's HTTP shapes share `/reset`, `/step` and `/state`: a reset with `episode_id`, a step
//! with `{"action": {...}}` and no `session_id`, and a state query without `session_id` are
//! answered as OpenEnv does (`{observation, reward, done}`; its state), in the schema the server's
//! [`OpenEnvShape`] names (see the `openenv` module).
//!
//! `Outcome` is `{rewards: {component: value, ...}, format_valid, metrics: {...}, prediction:
//! {predicted, gold, confidence} | null, steps}`.
//!
//! `/reset` chooses the task: `task` is a task id, or a stage name (OpenSOC's `?task=stage3_mixed`)
//! in which case, as when `task` is absent, the seed picks a task of that `stage` in `split`
//! (default `train`). A parameter may come from the query or the body, not both. A missing
//! `seed` is derived from the server's seed and a reset counter and returned, so any episode can
//! be replayed. `mode` is shorthand for `options.mode` (OpenSOC: `defender_only` | `self_play`);
//! options go to [`Environment::start_with`](vigil_core::Environment::start_with), which rejects
//! options it does not know (400).
//!
//! Statuses: 400 malformed JSON or parameter, unknown stage or option, conflicting fields;
//! 401 missing or wrong API key (when one is set; every route but `/health`); 403 a demo of an
//! eval-split task; 404 unknown route, task or session (closed or expired); 405 wrong method;
//! 409 step after the end, grade before it, step limit; 413 body over `max_body_bytes` or action
//! over `max_action_bytes`; 429 all `max_sessions` taken, the client's
//! `max_sessions_per_client` taken, the session's `max_session_bytes` or the server's
//! `max_total_bytes` of text used up; 500 the environment failed or panicked (the session is
//! then closed).
//!
//! Memory is bounded: a session's stored text (prompt, actions, observations) is counted against
//! its quota and the server's budget, and given back when the session is closed or expires.

//! `/state` shows only what the policy saw and did; ground truth appears only in the graded
//! outcome (`/step` at the end, `/grade`).
//!
//! ```text
//! curl -s localhost:7860/health
//! curl -s 'localhost:7860/tasks?split=eval&limit=3'
//! curl -s -X POST 'localhost:7860/reset?task=stage3_mixed&mode=defender_only&seed=7'
//! curl -s -X POST localhost:7860/step -d '{"session_id":"<id>","action":"Action: escalate\nCitedLog: L2-3"}'
//! curl -s 'localhost:7860/state?session_id=<id>'
//! curl -s -X POST localhost:7860/grade -d '{"session_id":"<id>"}'
//! curl -s -X DELETE 'localhost:7860/session?session_id=<id>'
//! ```
//!
//! Concurrency: the session map's lock is held only to find a session; each session has its own
//! async mutex around its episode, so steps of different sessions run in parallel and steps of
//! one session are serialized.

mod api;
mod client;
mod config;
mod demo;
mod error;
mod extract;
mod openenv;
mod guard;
mod quota;
mod routes;
mod server;
mod sessions;

pub use api::{
    Action, Closed, Grade, Health, Prompt, ResetRequest, ResetResponse, SessionRef, State, StepRequest, StepResponse,
    TaskInfo, Tasks,
};
pub use client::{Client, LoadReport, LoadTest, run_load_test, run_load_test_blocking};
pub use config::ServerConfig;
pub use demo::{DemoAnswer, DemoRun, escape};
pub use error::ServerError;
pub use openenv::OpenEnvShape;
pub use server::{EnvServer, router_for};
