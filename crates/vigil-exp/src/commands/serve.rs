//! `exp serve`: Vigil's own OpenAI-compatible chat-completions server over the burn Qwen3
//! (log-probs, token ids, vLLM-style LoRA hot-loading). Prints the API root on stdout once it
//! listens (`--port 0` picks a free port).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use vigil_policy::openai::serve::{ServeConfig, ServeLimits, Server};
use vigil_policy::{ComputeDtype, resolve_model_dir};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Model folder or Hugging Face id in the local cache.
    #[arg(long)]
    pub model: String,
    /// PEFT adapter folder folded into the served model.
    #[arg(long)]
    pub adapter: Option<PathBuf>,
    /// Tokenizer folder or id (default: the model's).
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0: any free port).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Name clients use as `model` (default: `--model` as given).
    #[arg(long)]
    pub name: Option<String>,
    /// Compute dtype: f32, bf16 or f16.
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Requests decoded together.
    #[arg(long, default_value_t = 8)]
    pub max_batch: usize,
    /// Token budget of requests that give none.
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// Render prompts with `enable_thinking = false` unless a request says otherwise.
    #[arg(long)]
    pub no_thinking: bool,
    /// Bearer token required on /v1 routes (vLLM's convention; also read from VIGIL_API_KEY).
    #[arg(long, env = vigil_core::auth::API_KEY_ENV, hide_env_values = true)]
    pub api_key: Option<String>,
    /// Folder `/v1/load_lora_adapter` may load from (without it, run-time loading is off).
    #[arg(long)]
    pub adapter_root: Option<PathBuf>,
    /// Prompt + completion tokens at most (default: the model's max_position_embeddings).
    #[arg(long)]
    pub max_model_len: Option<usize>,
    /// Chat requests queued or running at once (429 beyond).
    #[arg(long, default_value_t = ServeLimits::default().max_queue)]
    pub max_queue: usize,
    /// Seconds a chat request may take (504 after; decoding stops).
    #[arg(long, default_value_t = ServeLimits::default().request_timeout.as_secs())]
    pub request_timeout_secs: u64,
}

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let dtype = ComputeDtype::parse(&args.dtype)
        .with_context(|| format!("--dtype {}: expected f32, bf16 or f16", args.dtype))?;
    anyhow::ensure!(args.max_batch >= 1, "--max-batch must be at least 1");
    anyhow::ensure!(args.max_tokens >= 1, "--max-tokens must be at least 1");
    let model_dir =
        resolve_model_dir(&args.model).with_context(|| format!("--model {}", args.model))?;
    let tokenizer_dir = match &args.tokenizer {
        Some(t) => resolve_model_dir(t).with_context(|| format!("--tokenizer {t}"))?,
        None => model_dir.clone(),
    };
    let cfg = ServeConfig {
        model_dir,
        tokenizer_dir,
        adapter: args.adapter.clone(),
        dtype,
        served_name: args.name.clone().unwrap_or_else(|| args.model.clone()),
        max_batch: args.max_batch,
        default_max_tokens: args.max_tokens,
        enable_thinking: !args.no_thinking,
        api_key: args.api_key.clone(),
        adapter_root: args.adapter_root.clone(),
        limits: ServeLimits {
            max_model_len: args.max_model_len,
            max_queue: args.max_queue,
            request_timeout: std::time::Duration::from_secs(args.request_timeout_secs),
            ..ServeLimits::default()
        },
    };
    let name = cfg.served_name.clone();
    let server = Server::load::<vigil_policy::CpuBackend>(cfg, &Default::default())
        .context("loading the model")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("binding {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        #[allow(clippy::print_stdout)]
        {
            println!("serving `{name}` at http://{addr}/v1");
        }
        std::io::stdout().flush()?;
        server.run(listener).await.context("serving")
    })
}
