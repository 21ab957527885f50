//! Load test of the env server: N concurrent sessions (all live at once), each reset → steps →
//! state → grade → close, every session checked for leakage. Prints sessions, requests/s and
//! latency percentiles.
//!
//! ```text
//! # in-process server over the testkit mock (measures the server itself)
//! cargo run --release -p vigil-env-server --example loadtest -- --sessions 200 --rounds 5
//! # against a running server, e.g. `exp serve-env opensec --port 7861 --max-sessions 256`
//! cargo run --release -p vigil-env-server --example loadtest -- --url http://127.0.0.1:7861 --split eval
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use tokio::net::TcpListener;
use vigil_core::Split;
use vigil_env_server::{Client, EnvServer, LoadTest, ServerConfig, run_load_test};
use vigil_testkit::mock::MockEnv;

struct Args {
    url: Option<String>,
    rounds: usize,
    test: LoadTest,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { url: None, rounds: 3, test: LoadTest::default() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => a.url = Some(value()?),
            "--sessions" => a.test.sessions = num(value()?)?,
            "--steps" => a.test.max_steps = num(value()?)? as u32,
            "--rounds" => a.rounds = num(value()?)?,
            "--action" => a.test.action = value()?,
            "--mode" => a.test.mode = Some(value()?),
            "--split" => {
                a.test.split = match value()?.as_str() {
                    "train" => Split::Train,
                    "eval" => Split::Eval,
                    s => return Err(format!("--split: expected train or eval, got `{s}`")),
                }
            }
            f => {
                return Err(format!("unknown flag `{f}`; flags: --url --sessions --steps --rounds --action --mode --split"));
            }
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mut test = args.test;
    let base = match args.url {
        Some(u) => u,
        None => {
            let env = Arc::new(MockEnv::new(50));
            test.replay = Some(env.clone());
            let n = test.sessions.max(1);
            let config = ServerConfig { max_sessions: n, max_sessions_per_client: n, ..ServerConfig::default() };
            let server = EnvServer::new(env, config).expect("server");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(server.serve(listener, std::future::pending()));
            format!("http://{addr}")
        }
    };
    let client = Client::new(base.clone()).expect("client");
    println!("load test against {base}: {test:?}");
    for round in 1..=args.rounds {
        match run_load_test(&client, &test).await {
            Ok(r) => println!("round {round}: {r}"),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
}
