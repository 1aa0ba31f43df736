#!/usr/bin/env bash
# Builds the CUDA backend and main.cc for a real GPU with nvcc alone (no Node, MuJoCo or npm packages, which a bare
# GPU machine may lack) and runs it: the kernel checks and whole models against the CPU path, then (--bench) the
# training and sampling timings. OpenBLAS is used when installed, else blas/cblas.cc (plain loops) serves the CPU
# side of the comparison.
# Usage: bash cpp/dev/cuda-check/gpu.sh [main.cc arguments]
#   default: configs/model/tiny.json configs/model/small.json --bench configs/model/small.json
#            --bench configs/model/pi0.json --batch 2   (pi0: ~48 GiB of fp32 weights, grads and Adam state)
# CUDA_ARCH (default 90: H100, H200) picks the GPU code nvcc builds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/build/cuda-check"
mkdir -p "$out"
arch="${CUDA_ARCH:-90}"
blas_inc=() blas_lib=(-lopenblas) srcs=()
if ! echo '#include <cblas.h>' | g++ -x c++ -E - -I /usr/include/x86_64-linux-gnu/openblas-pthread >/dev/null 2>&1; then
  echo "cuda-check: no OpenBLAS here; the CPU reference uses blas/cblas.cc"
  blas_inc=(-I "$here/blas") blas_lib=() srcs+=("$here/blas/cblas.cc")
fi
cxx=(g++ -std=c++17 -O3 -march=native -pthread -DRIPTIDE_HAVE_CUDA=1 -I "$root/cpp"
  -I /usr/include/x86_64-linux-gnu/openblas-pthread "${blas_inc[@]}")
cu=(nvcc -std=c++17 -O3 --extended-lambda -arch="sm_$arch" -DRIPTIDE_HAVE_CUDA=1 -I "$root/cpp")
for f in buffer config fast model value; do srcs+=("$root/cpp/pi0/$f.cc"); done
srcs+=("$here/main.cc")
objs=() pids=()
for s in "${srcs[@]}"; do
  o="$out/$(basename "${s%.*}").o"; "${cxx[@]}" -c "$s" -o "$o" & objs+=("$o") pids+=($!)
done
for f in check gemm kernels runtime suffix; do
  o="$out/$f.cu.o"; "${cu[@]}" -c "$root/cpp/pi0/cuda/$f.cu" -o "$o" & objs+=("$o") pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
nvcc -arch="sm_$arch" "${objs[@]}" "${blas_lib[@]}" -lpthread -o "$out/cuda-check"
if [ $# -eq 0 ]; then
  set -- "$root/configs/model/tiny.json" "$root/configs/model/small.json" \
    --bench "$root/configs/model/small.json" --bench "$root/configs/model/pi0.json" --batch 2
fi
"$out/cuda-check" "$@"
