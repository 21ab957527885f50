#!/usr/bin/env python3
"""Drive `exp serve-env` with openenv-core's own generic client (pip install openenv-core).

Runs full episodes over /ws with `GenericEnvClient(...).sync()` and the OpenEnv HTTP shapes
(/reset with seed and episode_id, /step with action, /state, /schema, /metadata) against a
running server, and checks every reply's shape. With --episodes (an `exp eval` episodes.jsonl of
an OpenSec compat run), replays each recorded episode's assistant turns through the client and
checks that the client sees exactly the recorded reward, and that observations and state carry
exactly the fields of the peer opensec-env's models. Prints one JSON line of counts; exits
non-zero on the first mismatch.

    python tools/openenv_check.py --base http://127.0.0.1:7861 --env opensec --episodes runs/x/oracle/episodes.jsonl
"""

import argparse
import json
import sys
import urllib.request

from openenv.core import GenericEnvClient

# The peer's Observation fields as OpenEnv sends them (done, reward and metadata travel beside).
PEER_OBSERVATION = {
    "scenario_id": str, "step_index": int, "attacker_state": str, "containment": dict,
    "new_emails": list, "new_alerts": list, "evidence_seen_ids": list, "evidence_content_ids": list,
    "last_action_result": dict, "hint": (str, type(None)),
}
PEER_STATE = {
    "episode_id": str, "scenario_id": str, "step_count": int, "max_steps": int,
    "terminated": bool, "truncated": bool,
}
CHAT_OBSERVATION = {"task_id": str, "stage": (str, type(None)), "step": int, "messages": list,
                    "outcome": (dict, type(None))}

# A fixed answer per environment for the episodes that are not replays (graded, whatever it scores).
ANSWERS = {
    "opensoc": {"text": "Action: escalate\nCitedLog: L1\nConfidence: 0.6"},
    "cert": {"text": "Verdict: suspicious\nEvidence: E1\nConfidence: 0.5"},
    "opensec": {"name": "submit_report", "arguments": {"summary_json": {}}},
}


def fail(msg):
    print(f"openenv_check: {msg}", file=sys.stderr)
    sys.exit(1)


def check_fields(what, obj, fields):
    if set(obj) != set(fields):
        fail(f"{what} fields {sorted(obj)} != {sorted(fields)}")
    for k, t in fields.items():
        if not isinstance(obj[k], t) or (t is int and isinstance(obj[k], bool)):
            fail(f"{what}.{k} = {obj[k]!r} is not {t}")


def check_observation(peer, obs):
    if peer:
        check_fields("observation", obs, PEER_OBSERVATION)
        check_fields("containment", obs["containment"], {"isolated_hosts": list, "blocked_domains": list, "reset_users": list})
        check_fields("last_action_result", obs["last_action_result"], {"ok": bool, "message": str, "data": dict})
    else:
        check_fields("observation", obs, CHAT_OBSERVATION)


def outcome_of(peer, obs):
    return obs["last_action_result"]["data"].get("outcome") if peer else obs["outcome"]


def action_of(text):
    """A recorded assistant turn as an OpenEnv action: the tool call as a dict, else the text."""
    try:
        v = json.loads(text)
    except ValueError:
        return {"text": text}
    return v if isinstance(v, dict) and "name" in v else {"text": text}


def episode(env, peer, reset_kwargs, actions, max_steps=64):
    r = env.reset(**reset_kwargs)
    if r.done or r.reward is not None:
        fail(f"reset gave done={r.done} reward={r.reward}")
    check_observation(peer, r.observation)
    steps = 0
    for a in actions:
        r = env.step(a)
        steps += 1
        check_observation(peer, r.observation)
        state = env.state()
        if peer:
            check_fields("state", state, PEER_STATE)
        if state["step_count"] != steps or state["episode_id"] != reset_kwargs["episode_id"]:
            fail(f"state {state} after {steps} steps of {reset_kwargs}")
        if r.done or steps >= max_steps:
            break
    if not r.done:
        fail(f"episode {reset_kwargs} did not end after {steps} steps")
    return r


def http(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def http_shapes(base, env_name, peer):
    r = http(base, "POST", "/reset", {"seed": 42, "episode_id": "http-1"})
    if set(r) != {"observation", "reward", "done"} or r["reward"] is not None or r["done"]:
        fail(f"/reset answered {r}")
    check_observation(peer, r["observation"])
    s = http(base, "POST", "/step", {"action": ANSWERS[env_name], "episode_id": "http-1"})
    if set(s) != {"observation", "reward", "done"} or not isinstance(s["reward"], float):
        fail(f"/step answered {s}")
    check_observation(peer, s["observation"])
    st = http(base, "GET", "/state?episode_id=http-1")
    if st["episode_id"] != "http-1" or st["step_count"] != 1:
        fail(f"/state answered {st}")
    schema = http(base, "GET", "/schema")
    if set(schema) != {"action", "observation", "state"}:
        fail(f"/schema answered keys {sorted(schema)}")
    props = set(schema["observation"]["properties"])
    if props != set(PEER_OBSERVATION if peer else CHAT_OBSERVATION):
        fail(f"/schema observation properties {sorted(props)}")
    meta = http(base, "GET", "/metadata")
    if meta["name"] != env_name:
        fail(f"/metadata answered {meta}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--env", required=True, choices=sorted(ANSWERS))
    ap.add_argument("--peer", action="store_true", help="OpenSec compat: the peer's schema")
    ap.add_argument("--episodes", help="exp eval episodes.jsonl to replay (reward must match exactly)")
    ap.add_argument("--n", type=int, default=5, help="episodes with the fixed answer")
    args = ap.parse_args()

    counts = {"episodes": 0, "replayed": 0, "steps": 0}
    with GenericEnvClient(base_url=args.base).sync() as env:
        for i in range(args.n):
            r = episode(env, args.peer, {"seed": i, "episode_id": f"fixed-{i}"}, [ANSWERS[args.env]] * 64)
            outcome = outcome_of(args.peer, r.observation)
            if outcome is None or r.reward != sum(outcome["rewards"].values()):
                fail(f"final reward {r.reward} vs outcome {outcome}")
            counts["episodes"] += 1
        if args.episodes:
            with open(args.episodes) as f:
                records = [json.loads(line) for line in f if line.strip()]
            for i, rec in enumerate(records):
                actions = [action_of(m["content"]) for m in rec["transcript"] if m["role"] == "assistant"]
                kwargs = {"seed": rec["seed"], "task": rec["task"], "episode_id": f"replay-{i}"}
                r = episode(env, args.peer, kwargs, actions)
                want = rec["outcome"]["rewards"]
                got = outcome_of(args.peer, r.observation)["rewards"]
                if got != want or r.reward != sum(want.values()):
                    fail(f"{rec['task']}: client saw reward {r.reward} {got}, exp eval gave {want}")
                counts["replayed"] += 1
                counts["steps"] += len(actions)
    http_shapes(args.base, args.env, args.peer)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
