#!/usr/bin/env bash
# Builds the quantized models that tests/quantized_interop.rs runs, into the ignored cache/ folder:
# small SqueezeNet- and MobileNetV2-like float CNNs with seeded weights, quantized by onnxruntime's
# `quantize_static` (QDQ; per-tensor and per-channel; uint8 and int8 activations) and a MatMul model
# by `quantize_dynamic`, each with onnxruntime's own outputs on fixed inputs (.npy), made by
# scripts/make_quantized_models.py.
#
#   scripts/make_quantized_models.sh        # builds once; later calls return at once
#
# Writes cache/quantized-models/ (KILN_QUANTIZED_MODELS overrides the folder) with the venv in
# cache/ort-venv-quantize. A stamp naming the pinned versions and the script's version makes it
# idempotent: changing any of them rebuilds.
set -euo pipefail
ONNX_VERSION=1.23.2
ONNXRUNTIME_VERSION=1.32.0
NUMPY_VERSION=2.4.6
SCRIPT_VERSION=1

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${KILN_QUANTIZED_MODELS:-$repo/cache/quantized-models}"
venv="$repo/cache/ort-venv-quantize"
stamp="$out/.quantized-models-$SCRIPT_VERSION-onnx-$ONNX_VERSION-ort-$ONNXRUNTIME_VERSION"

if [ -f "$stamp" ] && [ -f "$out/manifest.txt" ]; then
  exit 0
fi

versions_ok="import numpy, onnx, onnxruntime, sys; sys.exit((onnx.__version__, onnxruntime.__version__, numpy.__version__) != ('$ONNX_VERSION', '$ONNXRUNTIME_VERSION', '$NUMPY_VERSION'))"
if ! "$venv/bin/python" -c "$versions_ok" 2>/dev/null; then
  echo "installing onnx==$ONNX_VERSION onnxruntime==$ONNXRUNTIME_VERSION numpy==$NUMPY_VERSION into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "error: python3 with the venv module is needed (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "onnx==$ONNX_VERSION" \
    "onnxruntime==$ONNXRUNTIME_VERSION" "numpy==$NUMPY_VERSION"
fi

echo "quantizing the test CNNs with onnxruntime into $out"
rm -rf "$out"
mkdir -p "$out"
"$venv/bin/python" -W ignore "$repo/scripts/make_quantized_models.py" "$out" 2> "$out/quantize.log" \
  || { cat "$out/quantize.log" >&2; exit 1; }
touch "$stamp"
