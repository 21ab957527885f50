//! `/demo`: the prompt and every demo policy's answer with its reward vector, all text escaped.

mod common;

use common::{Raw, mock};
use vigil_env_server::{DemoRun, ServerConfig};

#[tokio::test]
async fn demo_runs_every_policy_on_the_chosen_task() {
    let c = mock(ServerConfig::default()).await;
    let r = c.get("/demo/run?task=hard-e1&seed=4").await;
    assert_eq!(r.0, 200, "{}", r.1);
    let run: DemoRun = serde_json::from_value(r.1).unwrap();
    assert_eq!((run.task.as_str(), run.seed, run.stage.as_deref()), ("hard-e1", 4, Some("hard")));
    assert!(run.prompt[1].content.contains("Task hard-e1 (seed 4)"));
    let names: Vec<&str> = run.answers.iter().map(|a| a.policy.as_str()).collect();
    assert_eq!(names, ["always_ok", "markup"]);
    let ok = run.answers[0].outcome.as_ref().unwrap();
    assert_eq!(ok.rewards.get("ok_rate"), Some(1.0));
    assert_eq!(ok.steps, 4);
    // Turns after the prompt: 4 actions and 3 observations.
    assert_eq!(run.answers[0].turns.len(), 7);
    assert_eq!(run.answers[1].outcome.as_ref().unwrap().rewards.get("ok_rate"), Some(0.0));

    // Defaults: first eval task, seed 0.
    let d: DemoRun = serde_json::from_value(c.get("/demo/run").await.1).unwrap();
    assert_eq!((d.task.as_str(), d.seed), ("easy-e0", 0));
}

#[tokio::test]
async fn demo_page_is_escaped_html() {
    let c = mock(ServerConfig::default()).await;
    let (status, body) = c.get("/demo?task=easy-e2&seed=1&split=eval").await;
    assert_eq!(status, 200);
    let html = body.as_str().expect("html text");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Task easy-e2 (seed 1)"), "prompt shown");
    assert!(html.contains("<h3>always_ok</h3>") && html.contains("<h3>markup</h3>"));
    assert!(html.contains("<td>ok_rate</td><td>1.000</td>"), "reward vector shown");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "policy text escaped");
    assert!(!html.contains("<script"), "no script tag may reach the page");
    assert!(html.contains("<option value=\"easy-e2\" selected>"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no external assets");

    let (status, body) = c.get("/demo?task=%3Cb%3E").await;
    assert_eq!(status, 404);
    let html = body.as_str().expect("html text");
    assert!(html.contains("unknown task `&lt;b&gt;`"), "{html}");
    assert!(Raw::error(&c.get("/demo/run?task=nope").await, 404).contains("unknown task `nope`"));
}
