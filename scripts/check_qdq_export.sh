#!/usr/bin/env bash
# Exports YOLOv3-tiny with Q8 and Q4 weights to ONNX QDQ and checks the files with the reference
# tools (scripts/check_qdq_export.py): onnx.checker (full), and onnxruntime's outputs against kiln's
# outputs of the packed .kiln model and of its re-import of the exported ONNX file.
#
#   scripts/check_qdq_export.sh [KILN_BINARY] [-- extra `kiln run` flags, e.g. --cpu]
#
# KILN_BINARY defaults to target/debug/kiln (build it with `cargo build --bin kiln`); kiln runs on
# the default GPU backend unless `-- --cpu` is given (lavapipe needs XDG_RUNTIME_DIR, made if unset). Needs
# models/yolov3-tiny.{cfg,weights} (scripts/fetch_detection_assets.sh). Uses the venv
# cache/ort-venv-kiln-format when it has onnx and onnxruntime, else makes cache/qdq-venv with
# them from PyPI. Work files go to cache/qdq-export/.
set -euo pipefail
ONNX_VERSION=1.23.2
ORT_VERSION=1.23.2

repo="$(cd "$(dirname "$0")/.." && pwd)"
kiln="${1:-$repo/target/debug/kiln}"
shift || true
[ "${1:-}" = "--" ] && shift
run_flags=("$@")
work="$repo/cache/qdq-export"
cfg="$repo/models/yolov3-tiny.cfg"

python="$repo/cache/ort-venv-kiln-format/bin/python"
if ! "$python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  venv="$repo/cache/qdq-venv"
  python="$venv/bin/python"
  if ! "$python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
    echo "installing onnx==$ONNX_VERSION and onnxruntime==$ORT_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "onnx==$ONNX_VERSION" "onnxruntime==$ORT_VERSION" numpy
  fi
fi
[ -x "$kiln" ] || { echo "error: no kiln binary at $kiln (cargo build --bin kiln)" >&2; exit 1; }
[ -f "$cfg" ] || "$repo/scripts/fetch_detection_assets.sh"

mkdir -p "$work"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
status=0
for layout in q8 q4; do
  packed="$work/yolov3-tiny-$layout.kiln"
  exported="$work/yolov3-tiny-$layout.onnx"
  "$kiln" convert "$cfg" "$packed" --pack "$layout"
  "$kiln" convert "$packed" "$exported"
  mapfile -t inputs < <("$python" "$repo/scripts/check_qdq_export.py" inputs "$exported" "$work/inputs")
  input_flags=()
  for flag in "${inputs[@]}"; do input_flags+=($flag); done
  rm -rf "$work/kiln-$layout" "$work/kiln-reimport-$layout"
  "$kiln" run "$packed" "${input_flags[@]}" ${run_flags[@]+"${run_flags[@]}"} \
    --output-dir "$work/kiln-$layout" >/dev/null
  "$kiln" run "$exported" "${input_flags[@]}" ${run_flags[@]+"${run_flags[@]}"} \
    --output-dir "$work/kiln-reimport-$layout" >/dev/null
  echo "== YOLOv3-tiny $layout"
  "$python" "$repo/scripts/check_qdq_export.py" compare "$exported" "$work/inputs" \
    "$work/kiln-$layout" "$work/kiln-reimport-$layout" || status=1
done
exit $status
