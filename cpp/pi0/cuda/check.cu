// CheckKernels (cuda.h): every CUDA kernel against the reference loops of layers.h on seeded random inputs, with
// its tolerance written down here. Error = max |cuda - ref| / max(1, max |ref|), over every output the op writes.
// Shapes mix the small preset's (head dim 64, widths 256/512) with odd sizes that cut through every tile edge.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "pi0/config.h"
#include "pi0/cuda/cuda.h"
#include "pi0/layers.h"
#include "pi0/model.h"

namespace riptide::pi0::cuda {
namespace {

// Tolerances. fp32 kernels differ from the reference only in summation order; bf16 GEMMs round their inputs to 8
// significant bits (relative error 2^-9 per input), which over K terms of random sign stays near 0.5% of the
// largest output.
constexpr double kTolFp32 = 1e-5, kTolFp32Reduce = 1e-4, kTolBf16Gemm = 2e-2;

// A managed array initialised from a host vector, compared back against one.
struct Managed {
  float* p = nullptr;
  size_t n = 0;
  explicit Managed(const std::vector<float>& v) : n(v.size()) {
    p = static_cast<float*>(ManagedAlloc(std::max<size_t>(1, n) * sizeof(float)));
    std::copy(v.begin(), v.end(), p);
  }
  ~Managed() { ManagedFree(p); }
  Managed(const Managed&) = delete;
  Managed& operator=(const Managed&) = delete;
};

struct Rand {
  uint64_t s;
  double uniform() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return ((s >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
  std::vector<float> vec(size_t n, double scale = 1.0) {
    std::vector<float> v(n);
    for (auto& x : v) x = float((uniform() * 2 - 1) * scale);
    return v;
  }
};

double Error(const Managed& got, const std::vector<float>& want) {
  double worst = 0, big = 1;
  for (size_t i = 0; i < want.size(); i++) {
    worst = std::max(worst, std::fabs(double(got.p[i]) - double(want[i])));
    big = std::max(big, std::fabs(double(want[i])));
  }
  return worst / big;
}

struct Checker {
  std::vector<KernelCheck> out;
  void add(const std::string& name, double err, double tol) { out.push_back({name, err, tol, err <= tol}); }
  // The worst error over several outputs of one op.
  void add(const std::string& name, std::initializer_list<std::pair<const Managed*, const std::vector<float>*>> outs,
           double tol) {
    double err = 0;
    for (auto& [got, want] : outs) err = std::max(err, Error(*got, *want));
    add(name, err, tol);
  }
};

// Runs check(tag, bf16) once per GEMM engine this build has and per precision, restoring the settings after.
template <typename F> void ForEachGemm(F check) {
  const Gemm saved = GetGemm();
  const GemmEngine saved_engine = GetGemmEngine();
  for (GemmEngine engine : {GemmEngine::Own, GemmEngine::Cublas}) {
    try {
      SetGemmEngine(engine);
    } catch (const Pi0Error&) {
      continue;  // a build without cuBLAS
    }
    for (Gemm g : {Gemm::Bf16, Gemm::Fp32}) {
      SetGemm(g);
      check(std::string(engine == GemmEngine::Cublas ? " cuBLAS" : "") + (g == Gemm::Bf16 ? " bf16" : " fp32"),
            g == Gemm::Bf16);
    }
  }
  SetGemm(saved);
  SetGemmEngine(saved_engine);
}

void CheckGemm(Checker& ck, Rand& r, int M, int K, int N, bool bias) {
  ForEachGemm([&](const std::string& gemm, bool bf16) {
    const std::string tag = gemm + " " + std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N);
    const double tol = bf16 ? kTolBf16Gemm : kTolFp32;
    auto x = r.vec((size_t)M * K), w = r.vec((size_t)N * K), b = r.vec(N), base = r.vec((size_t)M * N);
    auto dy = r.vec((size_t)M * N), dx = r.vec((size_t)M * K), dw = r.vec((size_t)N * K), db = r.vec(N);
    Managed X(x), W(w), Bi(b), O(base), DY(dy), DX(dx), DW(dw), DB(db);
    std::vector<float> o = base;
    ref::matmul_forward(o.data(), x.data(), w.data(), bias ? b.data() : nullptr, M, K, N, true);
    matmul_forward(O.p, X.p, W.p, bias ? Bi.p : nullptr, M, K, N, true);
    ck.add("matmul_forward" + tag, {{&O, &o}}, tol);
    ref::matmul_backward(dx.data(), dw.data(), bias ? db.data() : nullptr, dy.data(), x.data(), w.data(), M, K, N);
    matmul_backward(DX.p, DW.p, bias ? DB.p : nullptr, DY.p, X.p, W.p, M, K, N);
    ck.add("matmul_backward" + tag, {{&DX, &dx}, {&DW, &dw}, {&DB, &db}}, tol);
  });
}

void CheckNorms(Checker& ck, Rand& r, int M, int C) {
  auto x = r.vec((size_t)M * C, 2.0), w = r.vec(C), b = r.vec(C), dy = r.vec((size_t)M * C);
  auto dx = r.vec((size_t)M * C), dw = r.vec(C), db = r.vec(C);
  std::vector<float> o((size_t)M * C), mean(M), rstd(M);
  Managed X(x), Wt(w), Bi(b), DY(dy), O(o), MEAN(mean), RSTD(rstd), DX(dx), DW(dw), DB(db);
  const std::string tag = " " + std::to_string(M) + "x" + std::to_string(C);
  ref::layernorm_forward(o.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), M, C);
  layernorm_forward(O.p, MEAN.p, RSTD.p, X.p, Wt.p, Bi.p, M, C);
  ck.add("layernorm_forward" + tag, {{&O, &o}, {&MEAN, &mean}, {&RSTD, &rstd}}, kTolFp32);
  ref::layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), mean.data(), rstd.data(), M, C);
  layernorm_backward(DX.p, DW.p, DB.p, DY.p, X.p, Wt.p, MEAN.p, RSTD.p, M, C);
  ck.add("layernorm_backward" + tag, {{&DX, &dx}, {&DW, &dw}, {&DB, &db}}, kTolFp32Reduce);

  auto dx2 = r.vec((size_t)M * C), dw2 = r.vec(C);
  Managed DX2(dx2), DW2(dw2);
  ref::rmsnorm_forward(o.data(), rstd.data(), x.data(), w.data(), M, C);
  rmsnorm_forward(O.p, RSTD.p, X.p, Wt.p, M, C);
  ck.add("rmsnorm_forward" + tag, {{&O, &o}, {&RSTD, &rstd}}, kTolFp32);
  ref::rmsnorm_backward(dx2.data(), dw2.data(), dy.data(), x.data(), w.data(), rstd.data(), M, C);
  rmsnorm_backward(DX2.p, DW2.p, DY.p, X.p, Wt.p, RSTD.p, M, C);
  ck.add("rmsnorm_backward" + tag, {{&DX2, &dx2}, {&DW2, &dw2}}, kTolFp32Reduce);
}

void CheckActivations(Checker& ck, Rand& r, size_t n) {
  auto g = r.vec(n, 4.0), u = r.vec(n, 2.0), dh = r.vec(n), dg = r.vec(n), du = r.vec(n);
  std::vector<float> o(n);
  Managed G(g), U(u), DH(dh), DG(dg), DU(du), O(o);
  ref::gelu_forward(o.data(), g.data(), n);
  gelu_forward(O.p, G.p, n);
  ck.add("gelu_forward", {{&O, &o}}, kTolFp32);
  ref::gelu_backward(dg.data(), dh.data(), g.data(), n);
  gelu_backward(DG.p, DH.p, G.p, n);
  ck.add("gelu_backward", {{&DG, &dg}}, kTolFp32);
  ref::geglu_forward(o.data(), g.data(), u.data(), n);
  geglu_forward(O.p, G.p, U.p, n);
  ck.add("geglu_forward", {{&O, &o}}, kTolFp32);
  ref::geglu_backward(dg.data(), du.data(), dh.data(), g.data(), u.data(), n);
  geglu_backward(DG.p, DU.p, DH.p, G.p, U.p, n);
  ck.add("geglu_backward", {{&DG, &dg}, {&DU, &du}}, kTolFp32);
}

void CheckRope(Checker& ck, Rand& r) {
  const int B = 2, Tn = 7, nh = 3, hd = 64, os = 11, oo = 3, half = hd / 2;
  auto x = r.vec((size_t)B * Tn * nh * hd), cs = r.vec((size_t)B * Tn * half), sn = r.vec(cs.size());
  auto o = r.vec((size_t)B * os * nh * hd), dx = r.vec(x.size());
  Managed X(x), CS(cs), SN(sn), O(o), DX(dx);
  ref::rope_forward(o.data(), x.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
  rope_forward(O.p, X.p, CS.p, SN.p, B, Tn, nh, hd, os, oo);
  ck.add("rope_forward", {{&O, &o}}, kTolFp32);
  ref::rope_backward(dx.data(), o.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
  rope_backward(DX.p, O.p, CS.p, SN.p, B, Tn, nh, hd, os, oo);
  ck.add("rope_backward", {{&DX, &dx}}, kTolFp32);
}

// Grouped K/V, a cache stride larger than Tk, a random mask with one query row fully masked. The products run on
// the GEMM engine, so the tolerance is the GEMM's in bf16.
void CheckAttention(Checker& ck, Rand& r, int B, int Tq, int Tk, int H, int KV, int hd) {
  const int ks = Tk + 5;
  std::vector<uint8_t> mask((size_t)B * Tq * Tk);
  for (auto& m : mask) m = r.uniform() < 0.8;
  for (int j = 0; j < Tk; j++) mask[j] = 0;
  auto* M = static_cast<uint8_t*>(ManagedAlloc(mask.size()));
  std::copy(mask.begin(), mask.end(), M);
  ForEachGemm([&](const std::string& gemm, bool bf16) {
    auto q = r.vec((size_t)B * Tq * H * hd), k = r.vec((size_t)B * ks * KV * hd), v = r.vec(k.size());
    auto dy = r.vec(q.size()), dq = r.vec(q.size()), dk = r.vec(k.size()), dv = r.vec(k.size());
    std::vector<float> o(q.size()), att((size_t)B * Tq * H * Tk), scratch(att.size());
    Managed Q(q), K(k), V(v), DY(dy), DQ(dq), DK(dk), DV(dv), O(o), ATT(att), S(scratch);
    const std::string tag = gemm + " B" + std::to_string(B) + " Tq" + std::to_string(Tq) + " Tk" + std::to_string(Tk) +
                            " H" + std::to_string(H) + " KV" + std::to_string(KV) + " hd" + std::to_string(hd);
    ref::attention_forward(o.data(), att.data(), q.data(), k.data(), v.data(), mask.data(), B, Tq, Tk, ks, H, KV, hd);
    attention_forward(O.p, ATT.p, Q.p, K.p, V.p, M, B, Tq, Tk, ks, H, KV, hd);
    ck.add("attention_forward" + tag, {{&O, &o}, {&ATT, &att}}, bf16 ? kTolBf16Gemm : kTolFp32);
    ref::attention_backward(dq.data(), dk.data(), dv.data(), dy.data(), att.data(), q.data(), k.data(), v.data(),
                            mask.data(), B, Tq, Tk, ks, H, KV, hd);
    attention_backward(DQ.p, DK.p, DV.p, S.p, DY.p, ATT.p, Q.p, K.p, V.p, M, B, Tq, Tk, ks, H, KV, hd);
    ck.add("attention_backward" + tag, {{&DQ, &dq}, {&DK, &dk}, {&DV, &dv}}, bf16 ? kTolBf16Gemm : kTolFp32Reduce);
  });
  ManagedFree(M);
}

// The AdamW step through AdamWStep's CPU path and its CUDA path, on a slab of three tensors in two lr groups.
void CheckAdamW(Checker& ck, Rand& r) {
  std::vector<ParamEntry> spec(3);
  spec[0] = {"w", {300, 7}, 0, 2100, false, Init::Normal, 7};
  spec[1] = {"b", {300}, 2100, 300, false, Init::Zero, 1};
  spec[2] = {"head", {5, 101}, 2400, 505, true, Init::Normal, 101};
  const size_t n = 2905;
  auto p = r.vec(n), g = r.vec(n, 3.0), m = r.vec(n, 0.1), v = r.vec(n, 0.1);
  for (auto& x : v) x = std::fabs(x);
  Managed P(p), G(g), Mm(m), Vv(v);
  AdamWConfig o;
  o.lr_model = 1e-3;
  o.lr_header = 3e-3;
  o.weight_decay = 0.01;
  o.clip_norm = 1.0;
  o.grad_scale = 0.5;
  ThreadPool pool(1);
  const double norm_ref = AdamWStep<float>(Exec{false, &pool, false}, spec, p.data(), g.data(), m.data(), v.data(), n, 7, o);
  const double norm = AdamWStep<float>(Exec{true, &pool, true}, spec, P.p, G.p, Mm.p, Vv.p, n, 7, o);
  ck.add("gradient norm", std::fabs(norm - norm_ref) / norm_ref, 1e-12);
  ck.add("adamw", {{&P, &p}, {&Mm, &m}, {&Vv, &v}}, kTolFp32);
}

}  // namespace

std::vector<KernelCheck> CheckKernels(uint64_t seed) {
  Checker ck;
  Rand r{seed * 0x9E3779B97F4A7C15ull + 1};
  CheckGemm(ck, r, 37, 70, 45, true);
  CheckGemm(ck, r, 130, 256, 512, false);
  CheckGemm(ck, r, 64, 64, 64, true);
  CheckNorms(ck, r, 33, 300);
  CheckNorms(ck, r, 5, 1152);
  CheckActivations(ck, r, 10007);
  CheckRope(ck, r);
  CheckAttention(ck, r, 2, 9, 13, 4, 1, 64);    // MQA as in PI0's Gemma
  CheckAttention(ck, r, 2, 17, 17, 4, 2, 32);   // grouped
  CheckAttention(ck, r, 1, 50, 120, 8, 8, 128); // MHA, a suffix over a long cached prefix
  CheckAdamW(ck, r);
  return ck.out;
}

}  // namespace riptide::pi0::cuda
