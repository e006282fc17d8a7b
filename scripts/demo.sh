#!/usr/bin/env bash
# The demo: convert the sample EWT excerpt, write the default tagger config, train it
# for a few hundred steps, evaluate it and tag a few sentences. Uses only the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=demo_output
STEPS=${DEMO_STEPS:-600}
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. convert CoNLL-U → .spacy"
transfer-cli convert sample_data/en_ewt/train.conllu "$OUT/corpus" -n 10
transfer-cli convert sample_data/en_ewt/dev.conllu "$OUT/corpus" -n 10

echo "== 2. init-config: a tok2vec + tagger pipeline (efficiency)"
transfer-cli init-config "$OUT/config.cfg" --pipeline tagger --optimize efficiency

echo "== 3. train for $STEPS steps"
transfer-cli train "$OUT/config.cfg" --output "$OUT/model" \
  --paths.train "$OUT/corpus/train.spacy" --paths.dev "$OUT/corpus/dev.spacy" \
  --training.max_steps "$STEPS" --training.eval_frequency 100

echo "== 4. evaluate model-best on the dev excerpt"
transfer-cli evaluate "$OUT/model/model-best" "$OUT/corpus/dev.spacy" --output "$OUT/metrics.json"

echo "== 5. apply to new sentences"
cat > "$OUT/input.txt" <<'TEXT'
The committee approved the new budget on Tuesday.
She didn't know where the keys were, so she called her brother.
Prices rose 3.5% in October, according to the report.
TEXT
transfer-cli apply "$OUT/model/model-best" "$OUT/input.txt" "$OUT/tagged.jsonl"
python - "$OUT/tagged.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf8"):
    doc = json.loads(line)
    print(" ".join(f"{t['text']}/{t.get('tag', '?')}" for t in doc["tokens"]))
PY
