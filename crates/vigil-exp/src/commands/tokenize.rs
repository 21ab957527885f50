//! `exp tokenize`, `exp chat-template` and `exp tokenizer build`: the tokenizer and chat template
//! from the command line, JSON on stdout, so prompts and ids can be checked against transformers.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use vigil_tokenizer::{ChatOptions, ChatTokenizer, Message, build_tiny_tokenizer};

/// Where the tokenizer comes from (shared by the tokenizer subcommands).
#[derive(Debug, Args)]
pub(crate) struct TokenizerSource {
    /// Tokenizer or model folder (tokenizer.json, tokenizer_config.json, ...), or a Hugging Face
    /// model id (`Qwen/Qwen3-4B`) already in the local HF cache ($HF_HUB_CACHE, $HF_HOME/hub or
    /// ~/.cache/huggingface/hub); nothing is downloaded.
    #[arg(long, value_name = "DIR|ORG/NAME")]
    pub tokenizer: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["text", "text_file"])))]
pub(crate) struct TokenizeArgs {
    #[command(flatten)]
    pub source: TokenizerSource,
    /// Text to encode.
    #[arg(long)]
    pub text: Option<String>,
    /// Read the text to encode from a file (exact bytes, no newline stripping).
    #[arg(long, value_name = "FILE")]
    pub text_file: Option<PathBuf>,
    /// Do not apply the tokenizer's post-processor (special tokens it would add).
    #[arg(long)]
    pub no_special_tokens: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ChatTemplateArgs {
    #[command(flatten)]
    pub source: TokenizerSource,
    /// JSON list of messages in transformers' format: {role, content} plus optionally
    /// reasoning_content, tool_calls, tool_call_id, name.
    #[arg(long, value_name = "FILE.json")]
    pub messages: PathBuf,
    /// JSON list of tool schemas (transformers' `tools=`).
    #[arg(long, value_name = "FILE.json")]
    pub tools: Option<PathBuf>,
    /// `enable_thinking=False`: the prompt ends with an empty `<think>` block.
    #[arg(long)]
    pub no_thinking: bool,
    /// `add_generation_prompt=False`: render the conversation only.
    #[arg(long)]
    pub no_generation_prompt: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenizerCommand {
    /// Train a tiny byte-level BPE with Qwen's special tokens and chat template (no downloads).
    Build(BuildArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// UTF-8 text to learn merges from.
    #[arg(long, value_name = "FILE")]
    pub corpus: PathBuf,
    /// Total ids: BPE vocabulary plus the 9 special tokens (at least 265).
    #[arg(long)]
    pub vocab_size: usize,
    /// Folder to write tokenizer.json and tokenizer_config.json into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn load(source: &TokenizerSource) -> anyhow::Result<ChatTokenizer> {
    ChatTokenizer::load(&source.tokenizer)
        .with_context(|| format!("loading tokenizer `{}`", source.tokenizer))
}

fn print_json(value: &Value) {
    #[allow(clippy::print_stdout)]
    {
        println!("{value}");
    }
}

pub(crate) fn tokenize(args: &TokenizeArgs) -> anyhow::Result<()> {
    let text = match (&args.text, &args.text_file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => read(path)?,
        (None, None) => anyhow::bail!("give --text or --text-file"),
    };
    let tok = load(&args.source)?;
    let ids = tok.encode(&text, !args.no_special_tokens)?;
    print_json(&json!({ "ids": ids }));
    Ok(())
}

pub(crate) fn chat_template(args: &ChatTemplateArgs) -> anyhow::Result<()> {
    let messages: Vec<Message> = parse_json(&args.messages, "a JSON list of messages")?;
    let tools: Vec<Value> = match &args.tools {
        Some(path) => parse_json(path, "a JSON list of tool schemas")?,
        None => Vec::new(),
    };
    let tok = load(&args.source)?;
    let options = ChatOptions {
        add_generation_prompt: !args.no_generation_prompt,
        enable_thinking: !args.no_thinking,
        tools,
    };
    let text = tok
        .render_chat(&messages, &options)
        .with_context(|| args.messages.display().to_string())?;
    // Special-token text inside messages stays text: only the template's markers are special.
    let ids = tok.encode_chat(&messages, &options)?;
    print_json(&json!({ "text": text, "ids": ids }));
    Ok(())
}

pub(crate) fn tokenizer(command: &TokenizerCommand) -> anyhow::Result<()> {
    match command {
        TokenizerCommand::Build(args) => {
            let corpus = read(&args.corpus)?;
            let tiny = build_tiny_tokenizer(&corpus, args.vocab_size)
                .with_context(|| format!("corpus {}", args.corpus.display()))?;
            tiny.write(&args.out)?;
            print_json(&json!({ "out": args.out, "vocab_size": tiny.vocab_size }));
            Ok(())
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    serde_json::from_str(&read(path)?)
        .with_context(|| format!("{}: expected {what}", path.display()))
}
