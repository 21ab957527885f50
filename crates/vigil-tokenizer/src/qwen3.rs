//! The Qwen3 chat template (`qwen3_chat_template.jinja`, as shipped in Qwen3's
//! `tokenizer_config.json`) written out in Rust, step for step, so prompts match transformers'
//! `apply_chat_template` byte for byte without a Jinja engine.
//!
//! The parts that are easy to get wrong, all mirrored below:
//! - the *last query index*: the last user message that is not a bare `<tool_response>` block;
//!   assistant turns after it keep their reasoning in `<think>` blocks, earlier ones lose it;
//! - reasoning comes from `reasoning_content` when present (even when empty), otherwise it is
//!   split out of `content` around the last `</think>`;
//! - consecutive tool messages share one `user` turn of `<tool_response>` blocks;
//! - with tools, the system turn carries the tool schemas as `json.dumps` lines.

use serde_json::Value;
use vigil_core::Role;

use crate::error::{Result, TokenizerError};
use crate::message::Message;
use crate::pyjson;
use crate::rendered::Rendered;

/// The template source this module implements (Qwen3, as released with the Qwen3 models).
pub const QWEN3_CHAT_TEMPLATE: &str = include_str!("qwen3_chat_template.jinja");

/// Options of one rendering: the keyword arguments of transformers' `apply_chat_template`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatOptions {
    /// Append `<|im_start|>assistant\n` so the model writes the next turn (`add_generation_prompt`).
    pub add_generation_prompt: bool,
    /// `enable_thinking`; when false the generation prompt ends with an empty think block.
    pub enable_thinking: bool,
    /// Tool schemas (`tools=`), each printed as one `json.dumps` line in the system turn.
    pub tools: Vec<Value>,
}

impl Default for ChatOptions {
    /// A generation prompt with thinking on and no tools (transformers' defaults for Qwen3 with
    /// `add_generation_prompt=True`).
    fn default() -> Self {
        Self {
            add_generation_prompt: true,
            enable_thinking: true,
            tools: Vec::new(),
        }
    }
}

impl ChatOptions {
    /// A generation prompt with thinking on or off.
    pub fn generation(enable_thinking: bool) -> Self {
        Self {
            enable_thinking,
            ..Self::default()
        }
    }
}

const TOOLS_PREAMBLE: &str = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
const TOOLS_POSTAMBLE: &str = "\n</tools>\n\nFor each function call, return a json object with function name \
and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n\
{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

/// Renders `messages` exactly as the Qwen3 template does.
pub(crate) fn render(messages: &[Message], options: &ChatOptions) -> Result<Rendered> {
    let first = messages.first().ok_or(TokenizerError::EmptyConversation)?;
    let mut out = Rendered::default();
    if !options.tools.is_empty() {
        out.template("<|im_start|>system\n");
        if first.role == Role::System {
            out.content(&first.content);
            out.template("\n\n");
        }
        out.template(TOOLS_PREAMBLE);
        for tool in &options.tools {
            out.template("\n");
            out.content(&pyjson::dumps(tool));
        }
        out.template(TOOLS_POSTAMBLE);
    } else if first.role == Role::System {
        push_turn(&mut out, "system", &first.content);
    }

    let last_query_index = last_query_index(messages);
    for (i, message) in messages.iter().enumerate() {
        let is_last = i + 1 == messages.len();
        match message.role {
            Role::System if i == 0 => {}
            Role::System => push_turn(&mut out, "system", &message.content),
            Role::User => push_turn(&mut out, "user", &message.content),
            Role::Assistant => render_assistant(&mut out, message, i > last_query_index, is_last),
            Role::Tool => {
                if i == 0 || messages[i - 1].role != Role::Tool {
                    out.template("<|im_start|>user");
                }
                out.template("\n<tool_response>\n");
                out.content(&message.content);
                out.template("\n</tool_response>");
                if is_last || messages[i + 1].role != Role::Tool {
                    out.template("<|im_end|>\n");
                }
            }
        }
    }

    if options.add_generation_prompt {
        out.template("<|im_start|>assistant\n");
        if !options.enable_thinking {
            out.template("<think>\n\n</think>\n\n");
        }
    }
    Ok(out)
}

fn push_turn(out: &mut Rendered, role: &str, content: &str) {
    out.template("<|im_start|>");
    out.template(role);
    out.template("\n");
    out.content(content);
    out.template("<|im_end|>\n");
}

/// Index of the last user message that is a real query (not a `<tool_response>` wrapper);
/// the last index when there is none.
fn last_query_index(messages: &[Message]) -> usize {
    messages
        .iter()
        .rposition(|m| {
            m.role == Role::User
                && !(m.content.starts_with("<tool_response>")
                    && m.content.ends_with("</tool_response>"))
        })
        .unwrap_or(messages.len() - 1)
}

/// Splits `<think>reasoning</think>answer` the way the template's `split`/`strip` chain does.
fn split_reasoning(message: &Message) -> (String, String) {
    if let Some(reasoning) = &message.reasoning_content {
        return (message.content.clone(), reasoning.clone());
    }
    let content = &message.content;
    match (content.find("</think>"), content.rfind("</think>")) {
        (Some(first), Some(last)) => {
            // content.split('</think>')[-1].lstrip('\n')
            let answer = content[last + "</think>".len()..].trim_start_matches('\n');
            // content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
            let before = content[..first].trim_end_matches('\n');
            let after_open = before.rsplit("<think>").next().unwrap_or(before);
            (
                answer.to_string(),
                after_open.trim_start_matches('\n').to_string(),
            )
        }
        _ => (content.clone(), String::new()),
    }
}

fn render_assistant(out: &mut Rendered, message: &Message, after_last_query: bool, is_last: bool) {
    let (content, reasoning) = split_reasoning(message);
    out.template("<|im_start|>assistant\n");
    if after_last_query && (is_last || !reasoning.is_empty()) {
        out.template("<think>\n");
        out.content(reasoning.trim_matches('\n'));
        out.template("\n</think>\n\n");
        out.content(content.trim_start_matches('\n'));
    } else {
        out.content(&content);
    }
    for (k, call) in message.tool_calls.iter().enumerate() {
        if k > 0 || !content.is_empty() {
            out.template("\n");
        }
        out.template("<tool_call>\n{\"name\": \"");
        out.content(&call.name);
        out.template("\", \"arguments\": ");
        match &call.arguments {
            Value::String(raw) => out.content(raw),
            other => out.content(&pyjson::dumps(other)),
        }
        out.template("}\n</tool_call>");
    }
    out.template("<|im_end|>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_thinking_prompt_ends_with_empty_think_block() {
        let text = render(&[Message::user("hi")], &ChatOptions::generation(false))
            .unwrap()
            .text;
        assert_eq!(
            text,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
        );
        let text = render(&[Message::user("hi")], &ChatOptions::generation(true))
            .unwrap()
            .text;
        assert_eq!(
            text,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn reasoning_is_dropped_before_the_last_query_and_kept_after() {
        let messages = [
            Message::user("q1"),
            Message::assistant("<think>\nr1\n</think>\n\na1"),
            Message::user("q2"),
            Message::assistant("<think>r2</think>a2"),
        ];
        let options = ChatOptions {
            add_generation_prompt: false,
            ..ChatOptions::default()
        };
        let text = render(&messages, &options).unwrap().text;
        assert_eq!(
            text,
            "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n\
             <|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\n<think>\nr2\n</think>\n\na2<|im_end|>\n"
        );
    }

    #[test]
    fn consecutive_tool_messages_share_one_user_turn() {
        let messages = [Message::user("q"), Message::tool("a"), Message::tool("b")];
        let options = ChatOptions {
            add_generation_prompt: false,
            ..ChatOptions::default()
        };
        let text = render(&messages, &options).unwrap().text;
        assert!(text.ends_with(
            "<|im_start|>user\n<tool_response>\na\n</tool_response>\n<tool_response>\nb\n</tool_response><|im_end|>\n"
        ));
    }

    #[test]
    fn empty_conversation_is_an_error() {
        assert!(matches!(
            render(&[], &ChatOptions::default()),
            Err(TokenizerError::EmptyConversation)
        ));
    }
}
