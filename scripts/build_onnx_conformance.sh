#!/usr/bin/env bash
# Builds the ONNX backend conformance suites that tests/onnx_conformance.rs runs, into the ignored
# cache/ folder: the node suite generated from the pinned `onnx` PyPI package's test definitions,
# and the pytorch-converted, pytorch-operator and simple suites as its wheel ships them.
#
#   scripts/build_onnx_conformance.sh        # builds once; later calls return at once
#
# Writes cache/onnx-conformance/ (KILN_ONNX_CONFORMANCE overrides the folder) and keeps the venv in
# cache/onnx-venv. A stamp file holding the onnx version makes the build idempotent: changing
# ONNX_VERSION here rebuilds.
set -euo pipefail
ONNX_VERSION=1.23.2

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${KILN_ONNX_CONFORMANCE:-$repo/cache/onnx-conformance}"
venv="$repo/cache/onnx-venv"
stamp="$out/.built-onnx-$ONNX_VERSION"

if [ -f "$stamp" ]; then
  exit 0
fi

if ! "$venv/bin/python" -c "import onnx, sys; sys.exit(onnx.__version__ != '$ONNX_VERSION')" 2>/dev/null; then
  echo "installing onnx==$ONNX_VERSION into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "error: python3 with the venv module is needed (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "onnx==$ONNX_VERSION"
fi

echo "building the ONNX conformance suites into $out"
rm -rf "$out"
mkdir -p "$out"
"$venv/bin/python" -W ignore "$repo/scripts/build_onnx_conformance.py" "$out"
touch "$stamp"
