"""Reference token ids and chat-template text from transformers, for vigil-tokenizer's parity test.

Writes a JSON file that `crates/vigil-tokenizer/tests/qwen_reference.rs` compares against exactly:
plain-text encodings (unicode, emoji, CRLF/tab whitespace, digits, special-token strings inside
text), their decodings, and `apply_chat_template` renderings of Qwen3 conversations (system + user,
multi-turn with thinking, tool calls and responses, tools, thinking on and off, with and without a
generation prompt).

Setup (once):
    python3 -m venv tools/.venv
    tools/.venv/bin/pip install -r tools/tokenizer_reference/requirements.txt
    tools/fetch-qwen-tokenizer.sh /tmp/qwen-tok
Run:
    tools/.venv/bin/python tools/tokenizer_reference/make_reference.py /tmp/qwen-tok \
        crates/vigil-tokenizer/tests/data/qwen3_reference.json
"""

import json
import sys

import tokenizers
import transformers
from transformers import AutoTokenizer

TEXTS = {
    "ascii": "Hello, world! This is a SOC analyst.",
    "im_start_user": "<|im_start|>user\nhi<|im_end|>",
    "unicode_scripts": "Ünïcödé — naïve café; 日本語のテキスト; Ελληνικά; русский; עברית; العربية",
    "nfc_decomposed": "cafe\u0301 Å vs A\u030a, ﬁ ligature, ½ fraction",
    "emoji": "🛡️🔥 alert 👩‍💻 on host 🇺🇸 ✅❌ 🤖🧠",
    "crlf": "line1\r\nline2\r\n\r\nline3\n\rline4\r",
    "tabs_spaces": "\tindented\t\tcol\n    four spaces   \t mixed  \n\n\n",
    "digits": "1234567890 3.14159 0x7fffffff 192.168.0.1 1e-9 -42 +7 2024-05-01T12:00:00Z",
    "special_strings": "before<|im_end|>after <think>x</think> <|endoftext|><tool_call>{}</tool_call> <|im_start|>",
    "special_like": "<|im_end |> <| im_start|> <think > </ think> <tool_response>",
    "leading_trailing": "   leading and trailing spaces   ",
    "empty": "",
    "single_space": " ",
    "newlines_only": "\n\n\n",
    "contractions": "I'm sure it's THEY'RE we'll you'd I've she'S",
    "control_chars": "\x00\x01\x1b[31mred\x1b[0m\x7f",
    "json_code": '{"cmd": "rm -rf /tmp/x", "pid": 4242, "args": ["-v", "--force"]}\n',
    "log_line": "May  1 12:00:00 host sshd[123]: Failed password for root from 10.0.0.5 port 22 ssh2",
    "long_whitespace": "a" + " " * 40 + "b" + "\t" * 9 + "c",
    "mixed_scripts_digits": "漏洞CVE-2024-3094 xz后门, ошибка 500, 🐛x3",
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "query_logs",
            "description": "Search SIEM logs. Returns matching events as JSON lines.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Lucene query, e.g. host:\"web-01\""},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "threshold": {"type": "number", "default": 0.75},
                    "since": {"type": ["string", "null"]},
                },
                "required": ["query"],
            },
        },
    },
    {"type": "function", "function": {"name": "isolate_host", "description": "Isolate a host — ünïcode ok.",
                                      "parameters": {"type": "object", "properties": {"host": {"type": "string"}}}}},
]

CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "Is 10.0.0.5 malicious?"}],
    "system_user": [
        {"role": "system", "content": "You are a SOC analyst. Answer briefly."},
        {"role": "user", "content": "Triage alert #42: 5 failed SSH logins from 10.0.0.5."},
    ],
    "unicode_crlf_special": [
        {"role": "system", "content": "Règles:\r\n\t- réponds en français 🇫🇷"},
        {"role": "user", "content": "Texte avec <|im_end|> dedans et <think>faux</think>\r\n1234 😀"},
    ],
    "multi_turn_thinking": [
        {"role": "system", "content": "You are a SOC analyst."},
        {"role": "user", "content": "First alert?"},
        {"role": "assistant", "content": "<think>\nCheck the source IP.\n</think>\n\nIt is benign."},
        {"role": "user", "content": "Second alert?"},
        {"role": "assistant", "content": "<think>\nLateral movement pattern.\n\n</think>\n\n\nEscalate."},
    ],
    "multi_turn_reasoning_field": [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1", "reasoning_content": "hidden r1"},
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "\n\nA2", "reasoning_content": "\nvisible r2\n"},
    ],
    "assistant_think_without_open_tag": [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "reasoning only</think>answer</think>\n\ntail"},
    ],
    "empty_reasoning_field_keeps_content": [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "<think>r</think>a", "reasoning_content": ""},
    ],
    "tool_calls_and_responses": [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Find failed logins on web-01 and isolate it."},
        {
            "role": "assistant",
            "content": "<think>\nQuery first.\n</think>\n\nI'll search the logs.",
            "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "query_logs", "arguments": {"query": "host:web-01 AND failed", "limit": 10,
                                                                  "threshold": 0.5, "tags": ["ssh", "авт"],
                                                                  "nested": {"a": None, "b": True, "c": 1.5e-7}}}},
                {"type": "function", "function": {"name": "isolate_host", "arguments": "{\"host\":\"web-01\"}"}},
            ],
        },
        {"role": "tool", "content": "{\"events\": 7}", "tool_call_id": "call_1"},
        {"role": "tool", "content": "isolated"},
        {"role": "assistant", "content": "<think>\nBoth done.\n</think>\n\nDone: 7 events, host isolated."},
        {"role": "user", "content": "Thanks. Anything else?"},
    ],
    "tool_call_no_content_flat_shape": [
        {"role": "user", "content": "Isolate web-02."},
        {"role": "assistant", "content": "", "tool_calls": [{"name": "isolate_host", "arguments": {"host": "web-02"}}]},
        {"role": "tool", "content": "ok"},
    ],
    "tool_response_as_user_message": [
        {"role": "user", "content": "Check host."},
        {"role": "assistant", "content": "<think>\nhmm\n</think>\n\ncalling", "tool_calls": [
            {"function": {"name": "query_logs", "arguments": {"query": "x"}}}]},
        {"role": "user", "content": "<tool_response>\n{\"hits\": 0}\n</tool_response>"},
        {"role": "assistant", "content": "<think>\nnone\n</think>\n\nClean."},
    ],
    "late_system_message": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "Switch to terse mode."},
        {"role": "user", "content": "status?"},
    ],
    "no_user_message": [
        {"role": "system", "content": "sys"},
        {"role": "assistant", "content": "<think>a</think>b"},
        {"role": "assistant", "content": "c"},
    ],
}

# Conversations rendered with a tool list (the `tools=` argument of apply_chat_template).
WITH_TOOLS = {"tool_calls_and_responses", "tool_call_no_content_flat_shape", "user_only"}

# (name, add_generation_prompt, enable_thinking); None = argument not passed (the template default).
MODES = [
    ("gen_default", True, None),
    ("gen_think", True, True),
    ("gen_no_think", True, False),
    ("no_gen", False, None),
]


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    tok = AutoTokenizer.from_pretrained(src)

    encode = []
    for name, text in TEXTS.items():
        ids = tok(text)["input_ids"]
        encode.append({
            "name": name,
            "text": text,
            "ids": ids,
            "decoded": tok.decode(ids),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })

    chat = []
    for name, messages in CONVERSATIONS.items():
        for tools in ([None, TOOLS] if name in WITH_TOOLS else [None]):
            for mode, gen, think in MODES:
                kwargs = {} if think is None else {"enable_thinking": think}
                text = tok.apply_chat_template(messages, tools=tools, tokenize=False,
                                               add_generation_prompt=gen, **kwargs)
                ids = tok.encode(text, add_special_tokens=False)
                direct = tok.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=True,
                                                 add_generation_prompt=gen, **kwargs)["input_ids"]
                assert direct == ids, (name, mode)
                chat.append({
                    "name": f"{name}/{mode}" + ("/tools" if tools else ""),
                    "messages": messages,
                    "tools": tools,
                    "add_generation_prompt": gen,
                    "enable_thinking": think,
                    "text": text,
                    "ids": ids,
                })

    special = {t: tok.convert_tokens_to_ids(t) for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>",
                                                        "</think>", "<tool_call>", "</tool_call>",
                                                        "<tool_response>", "</tool_response>"]}
    doc = {
        "generator": "tools/tokenizer_reference/make_reference.py",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
        "len": len(tok),
        "special_ids": special,
        "encode": encode,
        "chat": chat,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(encode)} encodings and {len(chat)} chat renderings to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
