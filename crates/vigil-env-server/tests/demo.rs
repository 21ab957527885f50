//! `/demo`: the prompt and every demo policy's answer with its reward vector, all text escaped.

mod common;

use common::{Raw, mock};
use vigil_env_server::{DemoRun, ServerConfig};

#[tokio::test]
async fn demo_runs_every_policy_on_the_chosen_task() {
    let c = mock(ServerConfig { demo: true, ..ServerConfig::default() }).await;
    let r = c.get("/demo/run?task=hard-1&seed=4").await;
    assert_eq!(r.0, 200, "{}", r.1);
    let run: DemoRun = serde_json::from_value(r.1).unwrap();
    assert_eq!((run.task.as_str(), run.seed, run.stage.as_deref()), ("hard-1", 4, Some("hard")));
    assert!(run.prompt[1].content.contains("Task hard-1 (seed 4)"));
    let names: Vec<&str> = run.answers.iter().map(|a| a.policy.as_str()).collect();
    assert_eq!(names, ["always_ok", "markup"]);
    let ok = run.answers[0].outcome.as_ref().unwrap();
    assert_eq!(ok.rewards.get("ok_rate"), Some(1.0));
    assert_eq!(ok.steps, 4);
    // Turns after the prompt: 4 actions and 3 observations.
    assert_eq!(run.answers[0].turns.len(), 7);
    assert_eq!(run.answers[1].outcome.as_ref().unwrap().rewards.get("ok_rate"), Some(0.0));

    // Defaults: first train task, seed 0.
    let d: DemoRun = serde_json::from_value(c.get("/demo/run").await.1).unwrap();
    assert_eq!((d.task.as_str(), d.seed), ("easy-0", 0));
}

#[tokio::test]
async fn demo_page_is_escaped_html() {
    let c = mock(ServerConfig { demo: true, ..ServerConfig::default() }).await;
    let (status, body) = c.get("/demo?task=easy-2&seed=1").await;
    assert_eq!(status, 200);
    let html = body.as_str().expect("html text");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Task easy-2 (seed 1)"), "prompt shown");
    assert!(html.contains("<h3>always_ok</h3>") && html.contains("<h3>markup</h3>"));
    assert!(html.contains("<td>ok_rate</td><td>1.000</td>"), "reward vector shown");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "policy text escaped");
    assert!(!html.contains("<script"), "no script tag may reach the page");
    assert!(html.contains("<option value=\"easy-2\" selected>"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no external assets");

    let (status, body) = c.get("/demo?task=%3Cb%3E").await;
    assert_eq!(status, 404);
    let html = body.as_str().expect("html text");
    assert!(html.contains("unknown task `&lt;b&gt;`"), "{html}");
    assert!(Raw::error(&c.get("/demo/run?task=nope").await, 404).contains("unknown task `nope`"));
}

#[tokio::test]
async fn demo_is_off_by_default_and_never_runs_eval_tasks() {
    let off = mock(ServerConfig::default()).await;
    assert_eq!(off.get("/demo").await.0, 404);
    assert_eq!(off.get("/demo/run?task=easy-0").await.0, 404);

    let c = mock(ServerConfig { demo: true, ..ServerConfig::default() }).await;
    for q in ["/demo/run?task=easy-e0", "/demo/run?split=eval", "/demo/run?task=hard-e1&seed=9", "/demo?task=easy-e1"] {
        let (status, body) = c.get(q).await;
        assert_eq!(status, 403, "{q}: {body}");
        assert!(!body.to_string().contains("secret-gold-of"), "{q} leaked the answer: {body}");
    }
    assert_eq!(c.get("/demo/run?task=easy-1&seed=5").await.0, 200, "train tasks still run");
}
