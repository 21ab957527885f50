#!/usr/bin/env python3
"""One episode of a Vigil environment with openenv-core's generic client.

    exp serve-env opensec --config configs/opensec-peer-compat.toml --port 8000
    pip install openenv-core
    python examples/openenv_episode.py --base http://127.0.0.1:8000

Works with any `exp serve-env` environment: it asks `/metadata` which one is served, then plays
a tiny scripted policy (a real agent would render the observation for a model and send back its
completion). Prints each observation, the final reward and its components.
"""

import argparse
import json
import urllib.request

from openenv.core import GenericEnvClient


def opensec_policy(obs, turn):
    """Read the alerts, then report what they name (peer-compat observations)."""
    if turn == 0:
        return {"name": "query_logs", "arguments": {"table": "alerts", "limit": 5}}
    rows = obs["last_action_result"]["data"].get("rows", []) if "last_action_result" in obs else []
    host = next((r.get("host_id") for r in rows if r.get("host_id")), "unknown")
    report = {"patient_zero_host": host, "compromised_user": "unknown", "attacker_domain": "unknown",
              "data_target": "unknown", "initial_vector": "phish"}
    return {"name": "submit_report", "arguments": {"summary_json": report}}


def text_policy(answer):
    return lambda obs, turn: {"text": answer}


POLICIES = {
    "opensec": opensec_policy,
    "opensoc": text_policy("Action: escalate\nCitedLog: L1\nConfidence: 0.7"),
    "cert": text_policy("Verdict: normal\nEvidence: none\nConfidence: 0.6"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with urllib.request.urlopen(args.base + "/metadata") as resp:
        meta = json.loads(resp.read())
    print(f"environment: {meta['name']}: {meta['description']}")
    policy = POLICIES[meta["name"]]

    with GenericEnvClient(base_url=args.base).sync() as env:
        result = env.reset(seed=args.seed, episode_id="example-1")
        turn = 0
        while not result.done and turn < 20:
            print(json.dumps(result.observation)[:400])
            result = env.step(policy(result.observation, turn))
            turn += 1
        print("state:", env.state())
    obs = result.observation
    outcome = obs["last_action_result"]["data"].get("outcome") if "last_action_result" in obs else obs.get("outcome")
    print(f"done={result.done} after {turn} steps, reward={result.reward}")
    if outcome:
        print("components:", outcome["rewards"])


if __name__ == "__main__":
    main()
