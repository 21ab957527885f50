//! `/demo`: one task's prompt and several policies' answers side by side, with their reward
//! vectors, for train-split tasks only (eval tasks are held out). Served only when
//! `ServerConfig::demo` is on. Rendered on the server as plain HTML (no scripts, no external assets); every piece
//! of text is escaped. `/demo/run` returns the same data as JSON.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use axum::http::StatusCode;
use axum::response::Html;
use serde::{Deserialize, Serialize};
use vigil_core::{ChatMessage, DriverLimits, Outcome, Policy, Split, TaskId, run_episodes};

use crate::ServerError;
use crate::extract::Params;
use crate::routes::guarded;
use crate::server::App;

/// A named policy shown on the demo page. The mutex serializes demo runs of one policy only.
pub(crate) struct DemoPolicy {
    pub name: String,
    policy: Mutex<Box<dyn Policy>>,
}

impl DemoPolicy {
    pub(crate) fn new(name: String, policy: Box<dyn Policy>) -> Self {
        Self { name, policy: Mutex::new(policy) }
    }

    fn answer(&self, app: &App, task: &TaskId, seed: u64, prompt_len: usize) -> DemoAnswer {
        let mut policy = self.policy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let limits = DriverLimits { max_turns: app.config.max_steps, batch_size: 1 };
        let jobs = [(task.clone(), seed)];
        let run = guarded("running a demo policy", || {
            run_episodes(app.env.as_ref(), policy.as_mut(), &jobs, limits, |_| {})
        });
        let (turns, outcome, error) = match run {
            Ok(Ok(mut records)) if records.len() == 1 => {
                let r = records.remove(0);
                (r.transcript.into_iter().skip(prompt_len).collect(), Some(r.outcome), None)
            }
            Ok(Ok(records)) => (Vec::new(), None, Some(format!("expected one episode, got {}", records.len()))),
            Ok(Err(e)) => (Vec::new(), None, Some(e.to_string())),
            Err(e) => (Vec::new(), None, Some(e.to_string())),
        };
        DemoAnswer { policy: self.name.clone(), turns, outcome, error }
    }
}

/// Query of `/demo` and `/demo/run`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoQuery {
    task: Option<String>,
    split: Option<Split>,
    seed: Option<u64>,
}

/// One policy's episode on the demo task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoAnswer {
    /// The policy's name.
    pub policy: String,
    /// The conversation after the prompt: the policy's actions and the observations.
    pub turns: Vec<ChatMessage>,
    /// The graded outcome (absent when the run failed).
    pub outcome: Option<Outcome>,
    /// Why the run failed.
    pub error: Option<String>,
}

/// `GET /demo/run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoRun {
    /// The environment's name.
    pub env: String,
    /// The split the task selector lists.
    pub split: Split,
    /// The task shown.
    pub task: TaskId,
    /// Its stage.
    pub stage: Option<String>,
    /// The episode seed.
    pub seed: u64,
    /// The prompt every policy saw.
    pub prompt: Vec<ChatMessage>,
    /// One answer per configured policy, in order.
    pub answers: Vec<DemoAnswer>,
}

/// The demo routes, added only when the server config enables the demo.
pub(crate) fn routes(router: Router<Arc<App>>) -> Router<Arc<App>> {
    router.route("/demo", get(page)).route("/demo/run", get(run))
}

/// The demo only runs train-split tasks: its policies (an oracle among them) would otherwise
/// hand out the answers of the held-out evaluation tasks.
fn demo_task(app: &App, q: &DemoQuery) -> Result<TaskId, ServerError> {
    if q.split == Some(Split::Eval) {
        return Err(ServerError::Forbidden("the demo shows train-split tasks only; eval tasks are held out".into()));
    }
    let train = app.task_list(Split::Train, None)?;
    match q.task.as_deref().filter(|t| !t.is_empty()) {
        Some(t) if train.iter().any(|x| x.as_str() == t) => Ok(TaskId::new(t)),
        Some(t) if app.task_list(Split::Eval, None)?.iter().any(|x| x.as_str() == t) => Err(ServerError::Forbidden(
            format!("task `{t}` is in the eval split; the demo shows train-split tasks only"),
        )),
        Some(t) => Err(ServerError::Env(vigil_core::EnvError::UnknownTask(TaskId::new(t)))),
        None => {
            train.first().cloned().ok_or_else(|| ServerError::NoTasks { split: Split::Train.to_string(), stage: None })
        }
    }
}

async fn demo_run(app: Arc<App>, q: DemoQuery) -> Result<DemoRun, ServerError> {
    let split = Split::Train;
    let seed = q.seed.unwrap_or(0);
    let task = demo_task(&app, &q)?;
    let episode = guarded("starting an episode", || app.env.start(&task, seed))??;
    let prompt = guarded("rendering the prompt", || episode.prompt())?;
    drop(episode);
    let (a, t, n) = (Arc::clone(&app), task.clone(), prompt.len());
    let answers = tokio::task::spawn_blocking(move || a.demo.iter().map(|p| p.answer(&a, &t, seed, n)).collect())
        .await
        .map_err(|_| ServerError::Panicked("running the demo policies"))?;
    Ok(DemoRun { env: app.env.name().into(), split, stage: app.env.stage_of(&task), task, seed, prompt, answers })
}

pub(crate) async fn run(State(app): State<Arc<App>>, Params(q): Params<DemoQuery>) -> Result<Json<DemoRun>, ServerError> {
    Ok(Json(demo_run(app, q).await?))
}

pub(crate) async fn page(State(app): State<Arc<App>>, Params(q): Params<DemoQuery>) -> (StatusCode, Html<String>) {
    let options = app.task_list(Split::Train, None).map(|l| l.iter().take(app.config.demo_tasks).cloned().collect::<Vec<_>>());
    match demo_run(Arc::clone(&app), q).await {
        Ok(run) => (StatusCode::OK, Html(render(&run, &options.unwrap_or_default()))),
        Err(e) => {
            let body = format!(
                "<h1>{} demo</h1><p class=\"error\">{}</p><p><a href=\"/demo\">back</a></p>",
                escape(app.env.name()),
                escape(&e.to_string())
            );
            (e.status(), Html(wrap(app.env.name(), &body)))
        }
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
pre{white-space:pre-wrap;word-break:break-word;margin:.2em 0;font-size:.85em}\
.msg{border-left:3px solid #ccc;padding:.2em .6em;margin:.4em 0;background:#fafafa}\
.role-assistant{border-color:#2a6}.role-tool{border-color:#c80}.role-system{border-color:#888}.role-user{border-color:#36c}\
.who{font-size:.75em;color:#666;text-transform:uppercase}\
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:1em}\
.col{border:1px solid #ddd;border-radius:6px;padding:.6em}\
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:.15em .5em;text-align:left;font-size:.85em}\
.error{color:#b00}";

fn wrap(env: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} demo</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(env)
    )
}

fn messages(out: &mut String, msgs: &[ChatMessage]) {
    for m in msgs {
        let role = serde_json::to_value(m.role).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = write!(
            out,
            "<div class=\"msg role-{r}\"><div class=\"who\">{r}</div><pre>{}</pre></div>",
            escape(&m.content),
            r = escape(&role)
        );
    }
}

fn outcome_table(out: &mut String, o: &Outcome) {
    out.push_str("<table><tr><th>reward component</th><th>value</th></tr>");
    for (name, v) in o.rewards.iter() {
        let _ = write!(out, "<tr><td>{}</td><td>{v:.3}</td></tr>", escape(name));
    }
    let _ = write!(out, "<tr><th>sum</th><th>{:.3}</th></tr></table>", o.rewards.sum());
    let _ = write!(out, "<p>format valid: <b>{}</b> · steps: <b>{}</b></p>", o.format_valid, o.steps);
    if let Some(p) = &o.prediction {
        let predicted = p.predicted.as_deref().unwrap_or("(unparsed)");
        let _ = write!(out, "<p>predicted <b>{}</b> · gold <b>{}</b></p>", escape(predicted), escape(&p.gold));
    }
    if !o.metrics.is_empty() {
        out.push_str("<table><tr><th>metric</th><th>value</th></tr>");
        for (k, v) in &o.metrics {
            let _ = write!(out, "<tr><td>{}</td><td>{v:.3}</td></tr>", escape(k));
        }
        out.push_str("</table>");
    }
}

fn render(run: &DemoRun, tasks: &[TaskId]) -> String {
    let mut b = String::new();
    let _ = write!(b, "<h1>{} demo</h1><form method=\"get\" action=\"/demo\">", escape(&run.env));
    b.push_str("<label>split <select name=\"split\">");
    // Only the train split is offered: eval tasks are held out.
    let _ = write!(b, "<option value=\"{0}\" selected>{0}</option>", run.split);
    b.push_str("</select></label> <label>task <select name=\"task\">");
    let mut listed = tasks.to_vec();
    if !listed.contains(&run.task) {
        listed.insert(0, run.task.clone());
    }
    for t in &listed {
        let sel = if *t == run.task { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{0}\"{sel}>{0}</option>", escape(t.as_str()));
    }
    let _ = write!(
        b,
        "</select></label> <label>seed <input name=\"seed\" type=\"number\" min=\"0\" value=\"{}\"></label> \
         <button type=\"submit\">show</button></form>",
        run.seed
    );
    let stage = run.stage.as_deref().map(|s| format!(" · stage {}", escape(s))).unwrap_or_default();
    let _ = write!(b, "<h2>Task {}{stage} · seed {}</h2>", escape(run.task.as_str()), run.seed);
    messages(&mut b, &run.prompt);
    if run.answers.is_empty() {
        b.push_str("<p>No demo policies are configured.</p>");
    }
    b.push_str("<div class=\"cols\">");
    for a in &run.answers {
        let _ = write!(b, "<div class=\"col\"><h3>{}</h3>", escape(&a.policy));
        if let Some(e) = &a.error {
            let _ = write!(b, "<p class=\"error\">{}</p>", escape(e));
        }
        if let Some(o) = &a.outcome {
            outcome_table(&mut b, o);
        }
        messages(&mut b, &a.turns);
        b.push_str("</div>");
    }
    b.push_str("</div>");
    wrap(&run.env, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
