#!/usr/bin/env bash
# Builds the reference CNNs that tests/big_models.rs runs, into the ignored models/ folder: VGG-19
# (whose 411 MB fc6 weight exceeds a 128 MiB storage binding) and AlexNet (with LRN), as ONNX with
# seeded He-scaled random weights made by scripts/make_reference_cnns.py.
#
#   scripts/make_reference_cnns.sh        # builds once; later calls return at once
#
# Writes models/vgg19.onnx and models/alexnet.onnx (KILN_REFERENCE_CNNS overrides the folder) with
# the venv in cache/onnx-venv (shared with scripts/build_onnx_conformance.sh). A stamp naming the
# onnx version and the script's version makes it idempotent: changing either rebuilds.
set -euo pipefail
ONNX_VERSION=1.23.2
SCRIPT_VERSION=1

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${KILN_REFERENCE_CNNS:-$repo/models}"
venv="$repo/cache/onnx-venv"
stamp="$out/.reference-cnns-$SCRIPT_VERSION-onnx-$ONNX_VERSION"

if [ -f "$stamp" ] && [ -f "$out/vgg19.onnx" ] && [ -f "$out/alexnet.onnx" ]; then
  exit 0
fi

if ! "$venv/bin/python" -c "import numpy, onnx, sys; sys.exit(onnx.__version__ != '$ONNX_VERSION')" 2>/dev/null; then
  echo "installing onnx==$ONNX_VERSION and numpy into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "error: python3 with the venv module is needed (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "onnx==$ONNX_VERSION" numpy
fi

echo "building VGG-19 and AlexNet with seeded weights into $out"
mkdir -p "$out"
rm -f "$out"/.reference-cnns-*
"$venv/bin/python" "$repo/scripts/make_reference_cnns.py" "$out"
touch "$stamp"
