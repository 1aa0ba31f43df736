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
# cuBLAS: CUBLAS_ROOT (a folder with include/cublas_v2.h and lib/libcublas.so*), else the CUDA toolkit's, else a
# pip nvidia-cublas wheel's (the GPU image's PyTorch brings one); without it our own GEMM kernels do the products.
if [ -z "${CUBLAS_ROOT:-}" ]; then
  for d in /usr/local/cuda $(python3 -c 'import nvidia; print(*nvidia.__path__)' 2>/dev/null | xargs -rn1 -I{} sh -c 'ls -d {}/*/' 2>/dev/null); do
    if [ -f "$d/include/cublas_v2.h" ] && ls "$d"/lib*/libcublas.so* >/dev/null 2>&1; then CUBLAS_ROOT="${d%/}"; break; fi
  done
fi
blas_cu=() blas_link=()
if [ -n "${CUBLAS_ROOT:-}" ]; then
  lib="$(ls "$CUBLAS_ROOT"/lib*/libcublas.so* | head -1)"
  echo "cuda-check: cuBLAS from $lib"
  blas_cu=(-DRIPTIDE_HAVE_CUBLAS=1 -I "$CUBLAS_ROOT/include") blas_link=(-Xlinker "$lib" -Xlinker -rpath="$(dirname "$lib")")
else
  echo "cuda-check: no cuBLAS found; our own GEMM kernels only"
fi
cxx=(g++ -std=c++17 -O3 -march=native -pthread -DRIPTIDE_HAVE_CUDA=1 -I "$root/cpp"
  -I /usr/include/x86_64-linux-gnu/openblas-pthread "${blas_inc[@]}")
cu=(nvcc -std=c++17 -O3 --extended-lambda -arch="sm_$arch" -DRIPTIDE_HAVE_CUDA=1 -I "$root/cpp" "${blas_cu[@]}")
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
nvcc -arch="sm_$arch" "${objs[@]}" "${blas_lib[@]}" "${blas_link[@]}" -lpthread -o "$out/cuda-check"
if [ $# -eq 0 ]; then
  set -- "$root/configs/model/tiny.json" "$root/configs/model/small.json" \
    --bench "$root/configs/model/small.json" --bench "$root/configs/model/pi0.json" --batch 2
fi
"$out/cuda-check" "$@"
