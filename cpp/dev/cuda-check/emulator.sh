#!/usr/bin/env bash
# Builds the CUDA backend's kernels for the CPU emulator (emu/emu.h) and runs the checks of main.cc: every kernel
# against the reference loops, then whole models on the emulated device against the CPU path. No GPU needed.
# Usage: bash cpp/dev/cuda-check/emulator.sh [preset.json ...]   (default: configs/model/tiny.json)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/build/cuda-emulator"
mkdir -p "$out"
# `Kernel<<<grid, block>>>(args)` -> `EMU_LAUNCH(Kernel, grid, block)(args)`; the rest of each .cu is C++ as is.
for f in check gemm kernels suffix; do
  { echo "#line 1 \"$root/cpp/pi0/cuda/$f.cu\""
    sed -E 's/([A-Za-z_][A-Za-z0-9_]*)<<<(.*)>>>\(/EMU_LAUNCH(\1, \2)(/' "$root/cpp/pi0/cuda/$f.cu"; } > "$out/$f.cc"
done
flags=(-std=c++20 -O2 -pthread -DRIPTIDE_HAVE_CUDA=1 -I "$here/emu/include" -I "$root/cpp"
  -I /usr/include/x86_64-linux-gnu/openblas-pthread -Wno-unused-result)
srcs=("$out"/check.cc "$out"/gemm.cc "$out"/kernels.cc "$out"/suffix.cc "$here"/emu/runtime.cc "$here"/main.cc)
for f in buffer config fast model value; do srcs+=("$root/cpp/pi0/$f.cc"); done
echo "cuda emulator: building ${#srcs[@]} files"
objs=() pids=()
for s in "${srcs[@]}"; do
  o="$out/$(basename "${s%.*}").o"
  g++ "${flags[@]}" -c "$s" -o "$o" &
  objs+=("$o") pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
g++ -pthread "${objs[@]}" -lopenblas -o "$out/cuda-check"
if [ $# -eq 0 ]; then set -- "$root/configs/model/tiny.json"; fi
"$out/cuda-check" "$@"
