#!/usr/bin/env bash
# GPU check for a lent GPU machine (python3 with CUDA torch, no network, node maybe absent).
# Builds a random-weight ir50 checkpoint of MTLFace's released variant, then for fp32 and fp16:
#   - torch alone: images/s of the model on the same batches the pipe carries
#   - the worker's pipe driven from Python, and from TypeScript (openTorchEmbedder) if node is here
#   - CPU-vs-GPU cosine agreement of the embeddings
#   - `ecaf benchmark` end to end on random faces written as JPEGs, if node and dist/ are here
#   - face age synthesis on a random whole checkpoint (843 keys, released shapes): rendered faces/s
#     of plain PyTorch, the encoder once per face and aging + decoder once per each of the 7 groups
# Goal (issue 5): >= 5000 images/s for ir50 fp16 on an H100; the TypeScript pipe >= 80% of torch alone.
# Goal (issue 19): >= 1000 rendered faces/s for synthesis fp16 on an H100.
# Environment: ECAF_GPU_CHECK_COUNT (20000), ECAF_GPU_CHECK_BATCH (256), ECAF_GPU_CHECK_DEVICE (cuda;
# cpu with a tiny count proves the script on a machine without a GPU), ECAF_GPU_CHECK_SYNTH_COUNT
# (faces; 1024 on cuda, 1 on cpu: a full-size face and group takes seconds there),
# ECAF_GPU_CHECK_SYNTH_BATCH (128), ECAF_PYTHON (python with torch),
# OUT (folder for the JSON results; default ./gpu-check-out).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${ECAF_GPU_CHECK_COUNT:-20000}
BATCH=${ECAF_GPU_CHECK_BATCH:-256}
DEVICE=${ECAF_GPU_CHECK_DEVICE:-cuda}
SYNTH_COUNT=${ECAF_GPU_CHECK_SYNTH_COUNT:-$([ "$DEVICE" = cuda ] && echo 1024 || echo 1)}
SYNTH_BATCH=${ECAF_GPU_CHECK_SYNTH_BATCH:-128}
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# the first python that imports torch: ECAF_PYTHON, python3 on PATH, Debian's
PY=""
for cand in ${ECAF_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch' 2>/dev/null; then PY=$(command -v "$cand"); break; fi
done
[ -n "$PY" ] || { echo "gpu-check: no python with torch (set ECAF_PYTHON)"; exit 1; }
export ECAF_PYTHON=$PY PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH} PYTHONDONTWRITEBYTECODE=1

echo "== machine"
date -u +%Y-%m-%dT%H:%M:%SZ
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
"$PY" -c 'import torch, os; print("python", os.sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "", "cpus", os.cpu_count())'
NODE=""
if command -v node >/dev/null && [ -d node_modules ] && [ -f dist/models/torch.js ]; then NODE=$(command -v node); echo "node $($NODE --version) with node_modules and dist/"; else echo "node, node_modules or dist/ missing: TypeScript and ecaf benchmark steps skipped"; fi
echo "count $COUNT, batch $BATCH, device $DEVICE"

echo "== random-weight checkpoint: ir50, released variant"
CKPT=$WORK/mtlface-ir50-random.pth
"$PY" -m ecaf_torch.make_checkpoint "$CKPT" --depth ir50 --variant released --prefix encoder.

PRECISIONS="fp32"
[ "$DEVICE" = cuda ] && PRECISIONS="fp32 fp16" || echo "(fp16 skipped: it needs CUDA)"
for prec in $PRECISIONS; do
  flag=""; [ "$prec" = fp16 ] && flag="--fp16"
  echo "== $prec"
  "$PY" -m ecaf_torch.throughput "$CKPT" --mode torch --device "$DEVICE" --count "$COUNT" --batch "$BATCH" $flag | tee "$OUT/torch-$prec.json"
  "$PY" -m ecaf_torch.throughput "$CKPT" --mode pipe --device "$DEVICE" --count "$COUNT" --batch "$BATCH" $flag | tee "$OUT/pipe-python-$prec.json"
  if [ "$DEVICE" = cuda ]; then
    "$PY" -m ecaf_torch.throughput "$CKPT" --mode agree --device cuda --agree 64 $flag | tee "$OUT/agree-$prec.json"
  else
    echo "(CPU-vs-GPU agreement skipped: device is $DEVICE)"
  fi
  if [ -n "$NODE" ]; then
    "$NODE" scripts/torch-pipe-throughput.mjs "$CKPT" "$DEVICE" "$COUNT" "$BATCH" $( [ "$prec" = fp16 ] && echo fp16 ) | tee "$OUT/pipe-typescript-$prec.json"
  fi
done

echo "== face age synthesis: random whole checkpoint (843 keys, released shapes), $SYNTH_COUNT faces x 7 groups, batch $SYNTH_BATCH"
SYNTH_CKPT=$WORK/mtlface-synthesis-random.pth
"$PY" -m ecaf_torch.make_checkpoint "$SYNTH_CKPT" --synthesis
for prec in $PRECISIONS; do
  flag=""; [ "$prec" = fp16 ] && flag="--fp16"
  "$PY" -m ecaf_torch.throughput "$SYNTH_CKPT" --mode synth --device "$DEVICE" --count "$SYNTH_COUNT" --batch "$SYNTH_BATCH" $flag | tee "$OUT/synth-$prec.json"
done
rm -f "$SYNTH_CKPT"

if [ -n "$NODE" ]; then
  BENCH_COUNT=$(( COUNT < 40 ? 40 : COUNT ))  # 10 folds need at least one positive and one negative pair each
  echo "== ecaf benchmark on $BENCH_COUNT random faces (JPEG, decoded and preprocessed by ecaf)"
  ROOT=$WORK/root
  "$PY" - "$ROOT" "$BENCH_COUNT" <<'PYEOF'
import os, sys
import numpy as np
from PIL import Image
root, count = sys.argv[1], int(sys.argv[2])
faces = os.path.join(root, 'image_data', 'img_mtcnn')
os.makedirs(faces, exist_ok=True)
os.makedirs(os.path.join(root, 'image_pairs'), exist_ok=True)
rng = np.random.default_rng(0)
for i in range(count):
    Image.fromarray(rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)).save(os.path.join(faces, f'{i:06d}.jpg'), quality=90)
pairs = count // 2 // 20 * 20  # 10 folds, each half positive then half negative
per = pairs // 10
with open(os.path.join(root, 'image_pairs', 'random.txt'), 'w') as f:
    for k in range(pairs):
        f.write(f'{2 * k:06d}.jpg {2 * k + 1:06d}.jpg {1 if k % per < per // 2 else -1}\n')
PYEOF
  for prec in $PRECISIONS; do
    flag=""; [ "$prec" = fp16 ] && flag="--fp16"
    rm -rf "$ROOT/.ecaf-cache" "$ROOT/reports"
    start=$(date +%s.%N)
    if "$NODE" bin/ecaf.js benchmark --root "$ROOT" --model "$CKPT" --device "$DEVICE" --batch "$BATCH" --folds 10 $flag; then
      end=$(date +%s.%N)
      cp "$ROOT/reports/mtlface-ir50-random/random/report.json" "$OUT/ecaf-benchmark-$prec.json" 2>/dev/null || true
      "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); s=r['speed']; print('ecaf benchmark $prec:', round(s['imagesPerSecond'] or 0, 1), 'images/s embedding (flip on: 2 views each),', round(float(sys.argv[3]) - float(sys.argv[2]), 1), 's wall in all')" "$OUT/ecaf-benchmark-$prec.json" "$start" "$end" || true
    else
      echo "ecaf benchmark $prec failed (exit $?)"
    fi
  done
fi

echo "== summary"
"$PY" - "$OUT" <<'PYEOF'
import glob, json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
for prec in ('fp32', 'fp16'):
    t = load(f'torch-{prec}.json')
    if not t:
        continue
    line = f"{prec}: torch alone {t['images_per_s']} img/s ({t['device']}{', ' + t['gpu'] if t['gpu'] else ''})"
    for name, label in ((f'pipe-python-{prec}.json', 'pipe from Python'), (f'pipe-typescript-{prec}.json', 'pipe from TypeScript')):
        p = load(name)
        if p:
            line += f"; {label} {p['images_per_s']} img/s = {100 * p['images_per_s'] / t['images_per_s']:.0f}% of torch"
    a = load(f'agree-{prec}.json')
    if a:
        line += f"; cosine vs CPU min {a['cosine_min']} mean {a['cosine_mean']}"
    print(line)
    s = load(f'synth-{prec}.json')
    if s:
        goal = ' (goal >= 1000 on an H100)' if prec == 'fp16' else ''
        print(f"synthesis {prec}: {s['rendered_faces_per_s']} rendered faces/s{goal}, {s['faces_per_s']} faces/s x {s['groups']} groups "
              f"({s['device']}{', ' + s['gpu'] if s['gpu'] else ''})")
PYEOF
echo "results in $OUT"
