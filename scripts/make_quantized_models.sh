#!/usr/bin/env bash
# Builds the quantized models that tests/quantized_interop.rs runs, into the ignored cache/ folder:
# small SqueezeNet- and MobileNetV2-like float CNNs with seeded weights, quantized by onnxruntime's
# `quantize_static` (QDQ; per-tensor and per-channel; uint8 and int8 activations) and a MatMul model
# by `quantize_dynamic`, each with onnxruntime's own outputs on fixed inputs (.npy), made by
# scripts/make_quantized_models.py; and real architectures (SqueezeNet, ResNet-50, MobileNetV2,
# YOLOv3-tiny with its real weights, a YOLOv8n-style detector) quantized by `quantize_static` and
# `quantize_dynamic` with onnxruntime's outputs on crops of real photos, made by
# scripts/make_quantized_real_models.py (tests/quantized_interop/real_*.rs). The real
# architectures need models/ from scripts/fetch_detection_assets.sh (the photos, and YOLOv3-tiny,
# which `kiln convert` exports to ONNX here).
#
#   scripts/make_quantized_models.sh          # builds once; later calls return at once
#   scripts/make_quantized_models.sh --full   # 500 inputs (KILN_REAL_MODELS_INPUTS) for every
#                                             # real architecture (CI: 500 for one variant of
#                                             # each cheap classifier, 50 or 3 for the others)
#
# Writes cache/quantized-models/ (KILN_QUANTIZED_MODELS overrides the folder) with the venv in
# cache/ort-venv-quantize (KILN_QUANTIZE_VENV), reading models/ (KILN_MODELS_DIR). A stamp naming the pinned versions and the script's version makes it
# idempotent: changing any of them rebuilds.
set -euo pipefail
ONNX_VERSION=1.23.2
ONNXRUNTIME_VERSION=1.32.0
NUMPY_VERSION=2.4.6
PILLOW_VERSION=13.0.0
SCRIPT_VERSION=2

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${KILN_QUANTIZED_MODELS:-$repo/cache/quantized-models}"
models="${KILN_MODELS_DIR:-$repo/models}"
venv="${KILN_QUANTIZE_VENV:-$repo/cache/ort-venv-quantize}"
full=""
if [ "${1:-}" = "--full" ]; then
  full="--full"
fi
stamp="$out/.quantized-models-$SCRIPT_VERSION-onnx-$ONNX_VERSION-ort-$ONNXRUNTIME_VERSION${full:+-full-${KILN_REAL_MODELS_INPUTS:-500}}"

if [ -f "$stamp" ] && [ -f "$out/manifest.txt" ] && [ -f "$out/real_models.json" ]; then
  exit 0
fi

versions_ok="import numpy, onnx, onnxruntime, PIL, sys; sys.exit((onnx.__version__, onnxruntime.__version__, numpy.__version__, PIL.__version__) != ('$ONNX_VERSION', '$ONNXRUNTIME_VERSION', '$NUMPY_VERSION', '$PILLOW_VERSION'))"
if ! "$venv/bin/python" -c "$versions_ok" 2>/dev/null; then
  echo "installing onnx==$ONNX_VERSION onnxruntime==$ONNXRUNTIME_VERSION numpy==$NUMPY_VERSION pillow==$PILLOW_VERSION into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "error: python3 with the venv module is needed (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "onnx==$ONNX_VERSION" \
    "onnxruntime==$ONNXRUNTIME_VERSION" "numpy==$NUMPY_VERSION" "pillow==$PILLOW_VERSION"
fi
if [ ! -f "$models/yolov3-tiny.cfg" ] || [ ! -d "$models/photos" ]; then
  echo "error: $models has no yolov3-tiny.cfg or photos/: run scripts/fetch_detection_assets.sh" >&2
  exit 1
fi

echo "quantizing the test CNNs with onnxruntime into $out"
rm -rf "$out"
mkdir -p "$out"
"$venv/bin/python" -W ignore "$repo/scripts/make_quantized_models.py" "$out" 2> "$out/quantize.log" \
  || { cat "$out/quantize.log" >&2; exit 1; }
echo "exporting YOLOv3-tiny with kiln and quantizing the real architectures into $out"
(cd "$repo" && cargo run --profile test --quiet --bin kiln -- convert "$models/yolov3-tiny.cfg" \
  "$out/yolov3_tiny.kiln.onnx")
"$venv/bin/python" -W ignore "$repo/scripts/make_quantized_real_models.py" "$out" "$models" $full \
  > "$out/quantize_real.log" 2>&1 || { cat "$out/quantize_real.log" >&2; exit 1; }
touch "$stamp"
