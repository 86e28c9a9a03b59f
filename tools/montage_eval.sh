#!/usr/bin/env bash
# The held-out montage evaluation of docs/evaluation.md: six montages cut at known times from
# ../shared/samples/media, scored with each cue plan, then the form measures, the piano rolls
# and the owner's sound measures.
#   usage: tools/montage_eval.sh OUT [MODELS_DIR]   (MODELS_DIR holds tiny/; default: the shipped one)
# OUT/{auto,per-clip,one}/form.{txt,json}, OUT/figures/*.png, OUT/one/*.mm.txt
set -u
cd "$(dirname "$0")/.."
OUT=${1:?usage: tools/montage_eval.sh OUT [MODELS_DIR]}
MODELS=${2:-resources/models}
PY=.venv/bin/python
rm -rf "$OUT"; mkdir -p "$OUT"
$PY -m engine.eval.montages "$OUT" --set all >/dev/null
for cues in auto per-clip one; do
  mkdir -p "$OUT/$cues"
  for f in "$OUT"/*.otio; do
    n=$(basename "$f" .otio)
    VIDMUSICIAN_MODELS_DIR=$MODELS .venv/bin/vm-editor score "$f" --in-process --cues $cues \
      -o "$OUT/$cues/$n.scored.otio" --cue-dir "$OUT/$cues/$n-cues" > "$OUT/$cues/$n.log" 2>&1 || echo "FAILED $cues $n"
  done
  $PY -m engine.eval.form_check "$OUT/$cues"/*.scored.otio --json > "$OUT/$cues/form.json" 2> "$OUT/$cues/form.err"
  $PY -m engine.eval.form_check "$OUT/$cues"/*.scored.otio > "$OUT/$cues/form.txt" 2>&1
done
$PY -m engine.eval.form_check "$OUT"/one/*.scored.otio --figures "$OUT/figures" > /dev/null 2>&1
for f in "$OUT"/one/*.scored.otio; do
  $PY ../shared/tools/music_measures.py "$f" > "$OUT/one/$(basename "$f" .scored.otio).mm.txt" 2>&1
done
echo "done: $OUT"
