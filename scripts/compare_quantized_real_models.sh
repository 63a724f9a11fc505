#!/usr/bin/env bash
# Beside CI (too slow for it): the real architectures quantized by onnxruntime (ResNet-50,
# SqueezeNet, MobileNetV2, YOLOv3-tiny, a YOLOv8n-style detector), every variant compared over
# 500 inputs (CI compares 500 for one variant of each cheap classifier and a few for the rest),
# by the tests of tests/quantized_interop/real_*.rs on the GPU; then each model timed on the CPU
# reference over CI's smaller data set. Prints one Markdown table row per model and backend:
# model | quantization | max |kiln − onnxruntime| in output steps (bound) | top-1 agreement or
# boxes | integer / float / conversion nodes | ms per input.
#
#   scripts/compare_quantized_real_models.sh              # everything
#   scripts/compare_quantized_real_models.sh resnet50     # a test-name filter
#   KILN_REAL_MODELS_INPUTS=100 scripts/compare_quantized_real_models.sh   # fewer inputs
#
# The 500-input data goes to cache/quantized-models-full (KILN_QUANTIZED_MODELS_FULL overrides),
# made by scripts/make_quantized_models.sh --full.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-real_}"
full="${KILN_QUANTIZED_MODELS_FULL:-$PWD/cache/quantized-models-full}"
ci="${KILN_QUANTIZED_MODELS:-$PWD/cache/quantized-models}"
KILN_QUANTIZED_MODELS="$full" scripts/make_quantized_models.sh --full
scripts/make_quantized_models.sh

run() {
  KILN_QUANTIZED_MODELS="$1" KILN_REAL_MODELS_BACKEND="$2" KILN_REQUIRE_QUANTIZED_MODELS=1 \
    cargo test --quiet --test quantized_interop "$filter" -- --nocapture --test-threads 1 2>&1 \
    | grep '^REAL\| REAL ' | sed 's/.*REAL /| /; s/$/ |/'
}
echo "| model | quantization | max steps (bound) | agreement | nodes | time |"
echo "|---|---|---|---|---|---|"
run "$full" gpu
run "$ci" cpu
