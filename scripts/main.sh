#!/usr/bin/env bash
# The main job on the embedded default, offline and on CPU: install (first run only), then rank
# the bundled example lists and score one response with the shipped distilled reward head.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
J=.venv/bin/judge
echo "== judge score (shipped head) =="
$J score --principle "Prefer concise answers that get straight to the point." \
    --prompt "What is the capital of Australia?" \
    --response "Canberra." \
    --response "The capital of Australia is Canberra, which was purpose-built as a compromise between Sydney and Melbourne and has hosted Parliament since 1927."
echo "== judge rank examples/items.jsonl (shipped head) =="
mkdir -p out
$J rank --input examples/items.jsonl --output out/ranked.jsonl
.venv/bin/python - <<'EOF'
import json
for line in open("out/ranked.jsonl"):
    row = json.loads(line)
    scores = ", ".join(f"{k}={v:+.2f}" for k, v in row["scores"].items())
    print(f"{row['id']:<18} {row['provenance']['principle']['id']:<32} best={row['ranking'][0]:<8} {scores}")
EOF
echo "(full verdicts with provenance: out/ranked.jsonl)"
