//! `GET /ws`: OpenEnv's WebSocket protocol, one environment session per connection. The
//! session is Vigil's (limits, expiry and panics as on HTTP) and is closed with the connection.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::wire::{WsIn, WsOut, reset_params};
use super::{Episode, reset, state, step};
use crate::ServerError;
use crate::guard::Client;
use crate::server::App;

pub(crate) async fn handler(State(app): State<Arc<App>>, client: Client, ws: WebSocketUpgrade) -> Response {
    let max = app.config.max_body_bytes;
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| serve(app, client, socket))
}

fn error(message: impl Into<String>, code: &'static str) -> WsOut {
    WsOut::Error { message: message.into(), code }
}

/// OpenEnv's error code for a Vigil error.
fn error_of(e: &ServerError) -> WsOut {
    let code = match e.status() {
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => "VALIDATION_ERROR",
        StatusCode::TOO_MANY_REQUESTS => "CAPACITY_REACHED",
        _ if matches!(e, ServerError::UnknownSession(_)) => "SESSION_ERROR",
        _ => "EXECUTION_ERROR",
    };
    error(e.to_string(), code)
}

async fn serve(app: Arc<App>, client: Client, mut socket: WebSocket) {
    let mut episode: Option<Episode> = None;
    while let Some(msg) = socket.recv().await {
        let text = match msg {
            Ok(Message::Text(t)) => t.to_string(),
            Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => break,
        };
        let Some(reply) = handle(&app, client, &mut episode, &text).await else {
            break;
        };
        let Ok(out) = serde_json::to_string(&reply) else {
            break;
        };
        if socket.send(Message::Text(out.into())).await.is_err() {
            break;
        }
    }
    if let Some(ep) = episode {
        app.sessions.remove(&ep.session_id);
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// The reply to one client message; `None` closes the connection.
async fn handle(app: &Arc<App>, client: Client, episode: &mut Option<Episode>, text: &str) -> Option<WsOut> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(error(format!("Invalid JSON: {e}"), "INVALID_JSON")),
    };
    let kind = value.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    let msg: WsIn = match serde_json::from_value(value) {
        Ok(m) => m,
        Err(_) if !matches!(kind.as_str(), "reset" | "step" | "state" | "close") => {
            return Some(error(
                format!("Unknown message type: `{kind}` (expected reset, step, state or close)"),
                "UNKNOWN_TYPE",
            ));
        }
        Err(e) => return Some(error(format!("Invalid message: {e}"), "VALIDATION_ERROR")),
    };
    Some(match msg {
        WsIn::Reset { data } => {
            let (episode_id, req) = match reset_params(data.unwrap_or_else(|| json!({}))) {
                Ok(p) => p,
                Err(e) => return Some(error(e.to_string(), "VALIDATION_ERROR")),
            };
            if let Some(old) = episode.take() {
                app.sessions.remove(&old.session_id);
            }
            match reset(app, client, episode_id, req).await {
                Ok((ep, reply)) => {
                    *episode = Some(ep);
                    WsOut::Observation(reply)
                }
                Err(e) => error_of(&e),
            }
        }
        WsIn::Step { data } => match episode {
            None => error("no episode on this connection: send a reset first", "EXECUTION_ERROR"),
            Some(ep) => step(app, ep, data).await.map_or_else(|e| error_of(&e), WsOut::Observation),
        },
        WsIn::State {} => match episode {
            None => WsOut::State(json!({"episode_id": null, "step_count": 0})),
            Some(ep) => state(app, ep).await.map_or_else(|e| error_of(&e), WsOut::State),
        },
        WsIn::Close {} => return None,
    })
}
