#!/usr/bin/env bash
# Builds a QDQ model of element-wise ops (scripts/check_quantized_elementwise_export.py), has kiln
# lower it to its integer ops and export that graph in standard ONNX (`kiln convert --lower-qdq`),
# runs kiln on the CPU and the default GPU, and compares with onnxruntime on the export.
#
#   scripts/check_quantized_elementwise_export.sh [KILN_BINARY]
#
# KILN_BINARY defaults to target/debug/kiln (cargo build --bin kiln). Uses the venv
# cache/ort-venv-quantize (onnx, onnxruntime, numpy). Work files go to $KILN_WORK_DIR, by default
# cache/quantized-elementwise/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
kiln="${1:-$repo/target/debug/kiln}"
python="$repo/cache/ort-venv-quantize/bin/python"
work="${KILN_WORK_DIR:-$repo/cache/quantized-elementwise}"
script="$repo/scripts/check_quantized_elementwise_export.py"
[ -x "$kiln" ] || { echo "error: no kiln binary at $kiln (cargo build --bin kiln)" >&2; exit 1; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
mkdir -p "$work"
mapfile -t inputs < <("$python" "$script" model "$work")
input_flags=()
for flag in "${inputs[@]}"; do input_flags+=($flag); done
"$kiln" convert "$work/qdq.onnx" "$work/lowered.onnx" --lower-qdq
rm -rf "$work/kiln-cpu" "$work/kiln-gpu"
"$kiln" run "$work/qdq.onnx" "${input_flags[@]}" --cpu --output-dir "$work/kiln-cpu" >/dev/null
"$kiln" run "$work/qdq.onnx" "${input_flags[@]}" --output-dir "$work/kiln-gpu" >/dev/null
"$python" "$script" compare "$work" "$work/kiln-cpu" "$work/kiln-gpu"
