//! `GET /metadata` and `GET /schema` in OpenEnv's shapes (`EnvironmentMetadata`,
//! `SchemaResponse`). The schemas are generated from the Rust types the server parses actions
//! with and builds observations and states from.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use schemars::{JsonSchema, schema_for};
use serde::Serialize;
use serde_json::Value;

use super::OpenEnvShape;
use super::opensec::{PeerObservation, PeerState};
use super::wire::{ChatObservation, ChatState, TextAction, ToolCallAction};
use crate::server::App;

/// OpenEnv's `EnvironmentMetadata`.
#[derive(Debug, Serialize)]
pub(crate) struct Metadata {
    name: String,
    description: String,
    readme_content: Option<String>,
    version: Option<String>,
    author: Option<String>,
    documentation_url: Option<String>,
}

/// OpenEnv's `SchemaResponse`.
#[derive(Debug, Serialize)]
pub(crate) struct Schemas {
    action: Value,
    observation: Value,
    state: Value,
}

fn schema<T: JsonSchema>() -> Value {
    serde_json::to_value(schema_for!(T)).unwrap_or(Value::Null)
}

/// The schemas of a shape.
pub(crate) fn schemas(shape: OpenEnvShape) -> Schemas {
    match shape {
        OpenEnvShape::Text => Schemas {
            action: schema::<TextAction>(),
            observation: schema::<ChatObservation>(),
            state: schema::<ChatState>(),
        },
        OpenEnvShape::ToolCall => Schemas {
            action: schema::<ToolCallAction>(),
            observation: schema::<ChatObservation>(),
            state: schema::<ChatState>(),
        },
        OpenEnvShape::OpenSecPeer => Schemas {
            action: schema::<ToolCallAction>(),
            observation: schema::<PeerObservation>(),
            state: schema::<PeerState>(),
        },
    }
}

pub(crate) async fn get_schema(State(app): State<Arc<App>>) -> Json<Schemas> {
    Json(schemas(app.shape))
}

pub(crate) async fn get_metadata(State(app): State<Arc<App>>) -> Json<Metadata> {
    let name = app.env.name();
    let components: Vec<String> = app.env.reward_components().into_iter().map(|c| c.name).collect();
    let answer = match app.shape {
        OpenEnvShape::Text => "actions are {\"text\": ANSWER}",
        OpenEnvShape::ToolCall => "actions are tool calls {\"name\", \"arguments\"}; chat observations",
        OpenEnvShape::OpenSecPeer => "actions are tool calls; observations and state in the peer opensec-env's schema",
    };
    Json(Metadata {
        name: name.to_string(),
        description: format!(
            "Vigil's {name} environment ({answer}); reward = the sum of the components {}, each returned in the final \
             observation's outcome; GET /schema for the JSON Schemas",
            components.join(", ")
        ),
        readme_content: None,
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
        author: None,
        documentation_url: None,
    })
}
