//! `exp serve-env <env>`: an environment behind the HTTP API of `vigil-env-server` (`/health`,
//! `/tasks`, `/reset`, `/step`, `/state`, `/grade`, `DELETE /session`, and `/demo` with
//! `--demo`) and OpenEnv's protocol (`/ws`, OpenEnv-shaped `/reset` `/step` `/state`,
//! `/metadata`, `/schema`). Prints the API root on stdout once it listens (`--port 0` picks a
//! free port); stops on Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use vigil_core::SeedStream;
use vigil_env_opensec::ScoringMode;
use vigil_env_server::{EnvServer, OpenEnvShape, ServerConfig};

use crate::config;
use crate::wiring::{BuiltEnv, EnvConfig};

#[derive(Debug, Args)]
pub(crate) struct ServeEnvArgs {
    /// Environment kind: opensoc, opensec or cert (built with its defaults unless --config).
    pub env: String,
    /// Experiment config whose `[env]` is served and whose `[policy]` and `[eval] baselines`
    /// are shown on /demo.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a config key, e.g. `--set env.mode=self_play` (needs --config).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port (default: 7860 opensoc, 7861 opensec, 7862 cert; 0: any free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// Most live sessions (429 beyond).
    #[arg(long, default_value_t = ServerConfig::default().max_sessions)]
    pub max_sessions: usize,
    /// Sessions idle this long are dropped.
    #[arg(long, default_value_t = ServerConfig::default().idle_timeout_secs)]
    pub idle_timeout_secs: u64,
    /// Serve the /demo page (train-split tasks only; off by default).
    #[arg(long)]
    pub demo: bool,
    /// Scripted baseline shown on /demo (repeatable; replaces the default: the config's
    /// `[policy]` and `[eval] baselines`, or without --config every baseline of the environment).
    #[arg(long = "demo-policy", value_name = "BASELINE")]
    pub demo_policy: Vec<String>,
    /// Bearer token required on every route but /health (also read from VIGIL_API_KEY).
    #[arg(long, env = vigil_core::auth::API_KEY_ENV, hide_env_values = true)]
    pub api_key: Option<String>,
    /// Largest action per /step in bytes (413 above).
    #[arg(long, default_value_t = ServerConfig::default().max_action_bytes)]
    pub max_action_bytes: usize,
    /// Most bytes of text one session may hold (429 above).
    #[arg(long, default_value_t = ServerConfig::default().max_session_bytes)]
    pub max_session_bytes: u64,
    /// Most live sessions per client address (429 above).
    #[arg(long, default_value_t = ServerConfig::default().max_sessions_per_client)]
    pub max_sessions_per_client: usize,
}

fn default_port(env: &str) -> u16 {
    match env {
        "opensoc" => 7860,
        "opensec" => 7861,
        _ => 7862,
    }
}

pub(crate) fn run(args: &ServeEnvArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.config.is_some() || args.set.is_empty(),
        "--set needs --config"
    );
    let (env, run_seed, mut demo) = match &args.config {
        Some(path) => {
            let loaded = config::load(path, &args.set)?;
            let cfg = loaded.config;
            let env = BuiltEnv::new(&cfg.env).context("building [env]")?;
            let name = env.as_dyn().name();
            anyhow::ensure!(
                name == args.env,
                "{}: [env] is kind `{name}`, but `exp serve-env {}` was asked for",
                path.display(),
                args.env
            );
            let seeds = SeedStream::new(cfg.seed);
            let policy = cfg
                .policy
                .build(&env, seeds.seed("policy"))
                .context("building [policy]")?;
            let mut demo = vec![(cfg.policy.label(), policy)];
            for b in &cfg.eval.baselines {
                if !demo.iter().any(|(n, _)| n == b) {
                    demo.push((
                        b.clone(),
                        env.baseline(b, seeds.seed("policy"))
                            .context("[eval] baselines")?,
                    ));
                }
            }
            (env, cfg.seed, demo)
        }
        None => {
            let section = toml::from_str::<EnvConfig>(&format!(
                "kind = {}",
                toml::Value::String(args.env.clone())
            ))
            .with_context(|| format!("environment `{}`", args.env))?;
            section
                .validate()
                .with_context(|| format!("environment `{}`", args.env))?;
            (
                BuiltEnv::new(&section).with_context(|| format!("building {}", args.env))?,
                0,
                Vec::new(),
            )
        }
    };
    let seeds = SeedStream::new(run_seed);
    let mut names = args.demo_policy.clone();
    if names.is_empty() && demo.is_empty() {
        names = env.baseline_names();
    }
    if !args.demo_policy.is_empty() {
        demo.clear();
    }
    for n in names {
        demo.push((
            n.clone(),
            env.baseline(&n, seeds.seed("policy"))
                .context("--demo-policy")?,
        ));
    }

    let server_config = ServerConfig {
        max_sessions: args.max_sessions,
        idle_timeout_secs: args.idle_timeout_secs,
        seed: seeds.seed("server"),
        demo: args.demo,
        max_action_bytes: args.max_action_bytes,
        max_session_bytes: args.max_session_bytes,
        max_sessions_per_client: args.max_sessions_per_client,
        ..ServerConfig::default()
    };
    // OpenEnv's schema (`/ws`, `/schema`): the peer's for OpenSec compat, tool calls for OpenSec.
    let shape = match &env {
        BuiltEnv::Opensec(e) if e.config().scoring == ScoringMode::Compat => {
            OpenEnvShape::OpenSecPeer
        }
        BuiltEnv::Opensec(_) => OpenEnvShape::ToolCall,
        BuiltEnv::Opensoc(_) | BuiltEnv::Cert(_) => OpenEnvShape::Text,
    };
    let dyn_env: Arc<dyn vigil_core::Environment> = env.as_dyn();
    let name = dyn_env.name();
    let mut server = EnvServer::new(dyn_env, server_config)?.with_openenv_shape(shape);
    if let Some(key) = &args.api_key {
        server = server.with_api_key(key.clone())?;
    }
    for (n, p) in demo {
        server = server.with_demo_policy(n, p)?;
    }
    let addr = SocketAddr::new(args.host, args.port.unwrap_or_else(|| default_port(name)));
    server
        .run(addr, |bound| {
            #[allow(clippy::print_stdout)]
            {
                if args.demo {
                    println!(
                        "serving {name} at http://{bound} (demo: http://{bound}/demo, OpenEnv: ws://{bound}/ws)"
                    );
                } else {
                    println!("serving {name} at http://{bound} (OpenEnv: ws://{bound}/ws)");
                }
            }
            let _ = std::io::stdout().flush();
        })
        .with_context(|| format!("serving {name}"))
}
