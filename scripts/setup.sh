#!/usr/bin/env bash
# Installs the Debian packages riptide builds and runs against, when they are missing.
# ffmpeg is only needed for rollout videos (src/report/video.ts).
# Runs as root (CI) or through sudo. Idempotent: does nothing when everything is there.
set -euo pipefail
packages=(libmujoco-dev libosmesa6-dev libopenblas-dev cmake g++ make ffmpeg)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: system packages present (${packages[*]})"
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
