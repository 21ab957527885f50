//! 200 concurrent sessions on 127.0.0.1, all live at once, each checked against a local replay
//! of its own episode: no transcript, observation or outcome may come from another session.
//! Figures for the report come from `examples/loadtest.rs`, not from this test.

mod common;

use std::sync::Arc;

use vigil_core::Split;
use vigil_env_server::{Client, EnvServer, LoadTest, ServerConfig, run_load_test};
use vigil_testkit::mock::MockEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_sessions_keep_to_themselves() {
    let env = Arc::new(MockEnv::new(50));
    let server = EnvServer::new(env.clone(), ServerConfig { max_sessions: 200, ..ServerConfig::default() }).unwrap();
    let base = common::spawn(server).await;
    let client = Client::new(base.clone()).unwrap().with_max_in_flight(100);
    for (split, mode) in [(Split::Train, None), (Split::Eval, Some("shouty".to_string()))] {
        let cfg =
            LoadTest { sessions: 200, max_steps: 6, split, mode, replay: Some(env.clone()), ..LoadTest::default() };
        let report = run_load_test(&client, &cfg).await.expect("load test");
        assert_eq!(report.sessions, 200);
        // Mock episodes last 2–5 turns, so every session ends within 6 steps and is graded.
        assert_eq!(report.finished, 200);
        // reset + steps + state + grade + close per session.
        assert!(report.requests >= 200 * (1 + 2 + 3), "{report}");
        assert_eq!(client.health().await.unwrap().sessions, 0, "every session was closed");
    }

    // One slot short: the 200th reset gets 429 while 199 are live, and the driver reports it.
    let small = EnvServer::new(env.clone(), ServerConfig { max_sessions: 199, ..ServerConfig::default() }).unwrap();
    let client = Client::new(common::spawn(small).await).unwrap().with_max_in_flight(100);
    let e = run_load_test(&client, &LoadTest { replay: Some(env), ..LoadTest::default() }).await.unwrap_err();
    assert!(e.to_string().contains("HTTP 429"), "{e}");
}

/// 1,000 concurrent sessions × 10 steps from one client, all live at once, with zero errors;
/// prints the process's peak resident memory (server and client share the process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)]
async fn a_thousand_sessions_of_ten_steps_without_an_error() {
    let env = Arc::new(MockEnv::new(50).with_extra_turns(10));
    let config = ServerConfig { max_sessions: 1000, max_sessions_per_client: 1000, ..ServerConfig::default() };
    let base = common::spawn(EnvServer::new(env.clone(), config).unwrap()).await;
    // All 1,000 sessions are live at once; 100 requests in flight keep both ends' sockets under
    // the common limit of 1,024 open files.
    let client = Client::new(base).unwrap().with_max_in_flight(100);
    let cfg = LoadTest { sessions: 1000, max_steps: 10, replay: Some(env), ..LoadTest::default() };
    let report = run_load_test(&client, &cfg).await.expect("no request may fail");
    // Episodes last 12+ turns here: every session took all 10 steps and none ended.
    assert_eq!((report.sessions, report.finished), (1000, 0));
    // reset + 10 steps + state + close per session.
    assert_eq!(report.requests, 1000 * 13, "{report}");
    assert_eq!(client.health().await.unwrap().sessions, 0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: unknown");
    eprintln!("1000 sessions x 10 steps: {report}; peak RSS {}", peak.trim_start_matches("VmHWM:").trim());
}
