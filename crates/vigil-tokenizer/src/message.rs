//! Chat messages in transformers' (OpenAI-style) format: what `apply_chat_template` accepts and
//! what the Qwen3 template reads (`role`, `content`, `reasoning_content`, `tool_calls`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use vigil_core::{ChatMessage, Role};

/// One message of a conversation to render.
///
/// Unknown keys are rejected so that a typo (`reasoning_contnet`) is an error instead of text
/// silently missing from the prompt; `name` and `tool_call_id` are accepted because
/// OpenAI-style transcripts carry them, though the Qwen3 template does not print them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text. For assistant messages it may contain `<think>…</think>` reasoning, which the
    /// template splits off when `reasoning_content` is absent.
    pub content: String,
    /// Reasoning kept apart from `content` (the template prints it inside `<think>` only for
    /// assistant turns after the last user query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Calls the assistant made (`null` reads as none).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// Id of the call a tool message answers (not rendered by Qwen3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Author name (not rendered by Qwen3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One function call made by the assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawToolCall", into = "RawToolCall")]
pub struct ToolCall {
    /// Call id, when the transcript has one (not rendered by Qwen3).
    pub id: Option<String>,
    /// Function name.
    pub name: String,
    /// Arguments: a JSON string is printed verbatim, any other value as Python's `json.dumps`.
    pub arguments: Value,
}

impl Message {
    /// A message with only a role and text.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            reasoning_content: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// A tool-result message.
    pub fn tool(content: impl Into<String>) -> Self {
        Self::new(Role::Tool, content)
    }
}

impl From<&ChatMessage> for Message {
    fn from(m: &ChatMessage) -> Self {
        Self::new(m.role, m.content.clone())
    }
}

impl From<ChatMessage> for Message {
    fn from(m: ChatMessage) -> Self {
        Self::new(m.role, m.content)
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ToolCall>, D::Error> {
    Ok(Option::<Vec<ToolCall>>::deserialize(d)?.unwrap_or_default())
}

/// Both shapes transformers accepts: `{"type": "function", "function": {"name", "arguments"}}`
/// and the flat `{"name", "arguments"}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToolCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function: Option<RawFunction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arguments: Option<Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    name: String,
    arguments: Value,
}

impl TryFrom<RawToolCall> for ToolCall {
    type Error = String;

    fn try_from(raw: RawToolCall) -> Result<Self, String> {
        if let Some(kind) = raw.kind.as_ref().filter(|k| *k != "function") {
            return Err(format!("tool call type `{kind}` is not \"function\""));
        }
        let (name, arguments) = match (raw.function, raw.name, raw.arguments) {
            (Some(f), None, None) => (f.name, f.arguments),
            (None, Some(name), Some(arguments)) => (name, arguments),
            (Some(_), _, _) => {
                return Err("tool call has both `function` and top-level name/arguments".into());
            }
            (None, None, _) => return Err("tool call has neither `function` nor `name`".into()),
            (None, Some(_), None) => return Err("tool call has no `arguments`".into()),
        };
        Ok(Self {
            id: raw.id,
            name,
            arguments,
        })
    }
}

impl From<ToolCall> for RawToolCall {
    fn from(c: ToolCall) -> Self {
        Self {
            id: c.id,
            kind: Some("function".into()),
            function: Some(RawFunction {
                name: c.name,
                arguments: c.arguments,
            }),
            name: None,
            arguments: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_tool_call_shapes_and_round_trips() {
        let m: Message = serde_json::from_str(
            r#"{"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}},
                {"name": "g", "arguments": "{\"y\":2}"}]}"#,
        )
        .unwrap();
        assert_eq!(m.tool_calls[0].name, "f");
        assert_eq!(m.tool_calls[1].arguments, Value::String("{\"y\":2}".into()));
        let back: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn typos_and_missing_content_are_errors() {
        for bad in [
            r#"{"role": "assistant", "content": "a", "reasoning_contnet": "r"}"#,
            r#"{"role": "assistant", "content": null}"#,
            r#"{"role": "assistant"}"#,
            r#"{"role": "robot", "content": "a"}"#,
            r#"{"role": "assistant", "content": "", "tool_calls": [{"name": "f"}]}"#,
            r#"{"role": "assistant", "content": "", "tool_calls": [{"type": "code", "name": "f", "arguments": {}}]}"#,
        ] {
            assert!(serde_json::from_str::<Message>(bad).is_err(), "{bad}");
        }
        let ok: Message =
            serde_json::from_str(r#"{"role": "tool", "content": "x", "tool_calls": null}"#)
                .unwrap();
        assert!(ok.tool_calls.is_empty());
    }
}
