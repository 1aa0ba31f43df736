// PI0 self tests (see selftest.h). Gradient checks run the reference code in double against central differences
// of f = sum(output * R) for a fixed random R; fast checks run a kernel's fast and reference versions on the same
// float inputs.
#include "pi0/selftest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include "pi0/layers.h"
#include "pi0/model.h"
#include "pi0/value.h"

namespace riptide::pi0 {
namespace {

struct TestRng {
  uint64_t s;
  explicit TestRng(uint64_t seed) : s(seed * 6364136223846793005ull + 1442695040888963407ull) {}
  uint64_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t z = s;
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
    return z ^ (z >> 33);
  }
  double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  double normal() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
  int below(int n) { return int(next() % uint64_t(n)); }
  template <typename T> std::vector<T> vec(size_t n, double scale = 1.0) {
    std::vector<T> v(n);
    for (auto& x : v) x = T(normal() * scale);
    return v;
  }
};

struct Tensor {
  double* p;
  const double* g;
  size_t n;
};

constexpr double kStep = 1e-5;

// Central differences on up to `per` random coordinates of each tensor; analytic grads must already be in g.
double FiniteDiff(const std::function<double()>& f, const std::vector<Tensor>& ts, TestRng& rng, size_t per) {
  double worst = 0;
  for (const auto& t : ts) {
    std::vector<size_t> idx;
    if (t.n <= per) {
      for (size_t i = 0; i < t.n; i++) idx.push_back(i);
    } else {
      for (size_t i = 0; i < per; i++) idx.push_back(rng.next() % t.n);
    }
    std::vector<std::pair<double, double>> pairs;
    double gmax = 0;
    for (size_t i : idx) {
      double x = t.p[i];
      t.p[i] = x + kStep;
      double fp = f();
      t.p[i] = x - kStep;
      double fm = f();
      t.p[i] = x;
      pairs.push_back({t.g[i], (fp - fm) / (2 * kStep)});
      gmax = std::max(gmax, std::fabs(t.g[i]));
    }
    for (auto [a, n] : pairs) {
      double den = std::max({std::fabs(a), std::fabs(n), 1e-3 * gmax, 1e-4});
      worst = std::max(worst, std::fabs(a - n) / den);
      if (std::getenv("RIPTIDE_GRADCHECK_DEBUG") && std::fabs(a - n) / den > 1e-4)
        std::fprintf(stderr, "gradcheck: tensor %zu (n=%zu): analytic %g numeric %g\n", size_t(&t - ts.data()), t.n, a, n);
    }
  }
  return worst;
}

template <typename A, typename R> double Dot(const A& a, const R& r) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += a[i] * r[i];
  return s;
}

// A small config for the layer checks: MQA with 4 heads, odd widths, two cameras.
Config SmallTestConfig(int v_depth, int depth) {
  Config c;
  c.name = "gradcheck";
  c.image_size = 8;
  c.patch_size = 4;
  c.num_cameras = 2;
  c.v_width = 8;
  c.v_depth = v_depth;
  c.v_heads = 2;
  c.v_mlp = 12;
  c.l_width = 12;
  c.depth = depth;
  c.num_heads = 4;
  c.num_kv_heads = 1;
  c.head_dim = 6;
  c.l_mlp = 16;
  c.vocab = 10;
  c.e_width = 10;
  c.e_mlp = 14;
  c.max_token_len = 3;
  c.action_horizon = 3;
  c.action_dim = 4;
  c.state_dim = 5;
  return c;
}

// The parameter slab of a config, randomised (norm weights and biases too, so no check runs at a special point).
struct Slab {
  std::vector<double> p, g;
  Weights<double> w, gw;
  std::vector<ParamEntry> spec;
  Slab(const Config& c, TestRng& rng) {
    BuildLayout<double>(c, nullptr, &w, &spec);
    size_t n = spec.back().offset + spec.back().size;
    p = rng.vec<double>(n, 0.4);
    g.assign(n, 0.0);
    BuildLayout<double>(c, p.data(), &w, nullptr);
    BuildLayout<double>(c, g.data(), &gw, nullptr);
  }
  std::vector<Tensor> tensors(const std::string& name_part) {
    std::vector<Tensor> out;
    for (const auto& e : spec)
      if (e.name.find(name_part) != std::string::npos) out.push_back({p.data() + e.offset, g.data() + e.offset, e.size});
    return out;
  }
};

const Exec kRef{false, nullptr};

double CheckLinear(TestRng& rng) {
  const int M = 4, K = 5, N = 3;
  auto x = rng.vec<double>(M * K), w = rng.vec<double>(N * K), b = rng.vec<double>(N), R = rng.vec<double>(M * N);
  std::vector<double> out(M * N), dx(M * K, 0), dw(N * K, 0), db(N, 0);
  auto f = [&] { ref::matmul_forward(out.data(), x.data(), w.data(), b.data(), M, K, N); return Dot(out, R); };
  ref::matmul_backward(dx.data(), dw.data(), db.data(), R.data(), x.data(), w.data(), M, K, N);
  return FiniteDiff(f, {{x.data(), dx.data(), dx.size()}, {w.data(), dw.data(), dw.size()}, {b.data(), db.data(), N}},
                    rng, 1000);
}

double CheckLayerNorm(TestRng& rng) {
  const int M = 3, C = 7;
  auto x = rng.vec<double>(M * C, 2.0), w = rng.vec<double>(C), b = rng.vec<double>(C), R = rng.vec<double>(M * C);
  std::vector<double> out(M * C), mean(M), rstd(M), dx(M * C, 0), dw(C, 0), db(C, 0);
  auto f = [&] {
    ref::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), M, C);
    return Dot(out, R);
  };
  f();
  ref::layernorm_backward(dx.data(), dw.data(), db.data(), R.data(), x.data(), w.data(), mean.data(), rstd.data(), M, C);
  return FiniteDiff(f, {{x.data(), dx.data(), dx.size()}, {w.data(), dw.data(), C}, {b.data(), db.data(), C}}, rng, 1000);
}

double CheckRmsNorm(TestRng& rng) {
  const int M = 3, C = 7;
  auto x = rng.vec<double>(M * C, 2.0), w = rng.vec<double>(C), R = rng.vec<double>(M * C);
  std::vector<double> out(M * C), rstd(M), dx(M * C, 0), dw(C, 0);
  auto f = [&] { ref::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), M, C); return Dot(out, R); };
  f();
  ref::rmsnorm_backward(dx.data(), dw.data(), R.data(), x.data(), w.data(), rstd.data(), M, C);
  return FiniteDiff(f, {{x.data(), dx.data(), dx.size()}, {w.data(), dw.data(), C}}, rng, 1000);
}

double CheckGeluMlp(TestRng& rng) {
  const int M = 4, D = 5, F = 6;
  auto x = rng.vec<double>(M * D), w1 = rng.vec<double>(F * D), b1 = rng.vec<double>(F), w2 = rng.vec<double>(D * F),
       b2 = rng.vec<double>(D), R = rng.vec<double>(M * D);
  std::vector<double> h(M * F), hg(M * F), out(M * D);
  std::vector<double> dx(M * D, 0), dw1(F * D, 0), db1(F, 0), dw2(D * F, 0), db2(D, 0), dh(M * F, 0), dhg(M * F, 0);
  auto f = [&] {
    ref::matmul_forward(h.data(), x.data(), w1.data(), b1.data(), M, D, F);
    ref::gelu_forward(hg.data(), h.data(), h.size());
    ref::matmul_forward(out.data(), hg.data(), w2.data(), b2.data(), M, F, D);
    return Dot(out, R);
  };
  f();
  ref::matmul_backward(dhg.data(), dw2.data(), db2.data(), R.data(), hg.data(), w2.data(), M, F, D);
  ref::gelu_backward(dh.data(), dhg.data(), h.data(), h.size());
  ref::matmul_backward(dx.data(), dw1.data(), db1.data(), dh.data(), x.data(), w1.data(), M, D, F);
  return FiniteDiff(f, {{x.data(), dx.data(), dx.size()}, {w1.data(), dw1.data(), dw1.size()}, {b1.data(), db1.data(), F},
                        {w2.data(), dw2.data(), dw2.size()}, {b2.data(), db2.data(), D}}, rng, 1000);
}

double CheckGeglu(TestRng& rng) {
  const int M = 4, D = 5, F = 6;
  auto x = rng.vec<double>(M * D), wg = rng.vec<double>(F * D), wu = rng.vec<double>(F * D),
       wd = rng.vec<double>(D * F), R = rng.vec<double>(M * D);
  std::vector<double> g(M * F), u(M * F), h(M * F), out(M * D);
  std::vector<double> dx(M * D, 0), dwg(F * D, 0), dwu(F * D, 0), dwd(D * F, 0), dh(M * F, 0), dg(M * F, 0),
      du(M * F, 0);
  auto f = [&] {
    ref::matmul_forward(g.data(), x.data(), wg.data(), (const double*)nullptr, M, D, F);
    ref::matmul_forward(u.data(), x.data(), wu.data(), (const double*)nullptr, M, D, F);
    ref::geglu_forward(h.data(), g.data(), u.data(), h.size());
    ref::matmul_forward(out.data(), h.data(), wd.data(), (const double*)nullptr, M, F, D);
    return Dot(out, R);
  };
  f();
  ref::matmul_backward(dh.data(), dwd.data(), (double*)nullptr, R.data(), h.data(), wd.data(), M, F, D);
  ref::geglu_backward(dg.data(), du.data(), dh.data(), g.data(), u.data(), h.size());
  ref::matmul_backward(dx.data(), dwg.data(), (double*)nullptr, dg.data(), x.data(), wg.data(), M, D, F);
  ref::matmul_backward(dx.data(), dwu.data(), (double*)nullptr, du.data(), x.data(), wu.data(), M, D, F);
  return FiniteDiff(f, {{x.data(), dx.data(), dx.size()}, {wg.data(), dwg.data(), dwg.size()},
                        {wu.data(), dwu.data(), dwu.size()}, {wd.data(), dwd.data(), dwd.size()}}, rng, 1000);
}

double CheckEmbedding(TestRng& rng) {
  const int V = 7, C = 4, M = 5;
  const int32_t tok[M] = {1, 3, 3, 6, 0};
  auto table = rng.vec<double>(V * C), R = rng.vec<double>(M * C);
  std::vector<double> out(M * C), dt(V * C, 0);
  const double scale = std::sqrt(double(C));
  auto f = [&] { ref::embedding_forward(out.data(), tok, table.data(), M, C, scale); return Dot(out, R); };
  ref::embedding_backward(dt.data(), R.data(), tok, M, C, scale);
  return FiniteDiff(f, {{table.data(), dt.data(), dt.size()}}, rng, 1000);
}

double CheckRope(TestRng& rng) {
  const int B = 2, Tn = 3, nh = 2, hd = 6, os = 5, oo = 1, half = hd / 2;
  std::vector<int> pos(B * Tn);
  for (auto& p : pos) p = rng.below(900);
  std::vector<double> cs(B * Tn * half), sn(B * Tn * half);
  RopeTables(pos.data(), B * Tn, hd, cs.data(), sn.data());
  auto x = rng.vec<double>(B * Tn * nh * hd), R = rng.vec<double>(B * os * nh * hd);
  std::vector<double> out(B * os * nh * hd, 0.0), dx(x.size(), 0);
  auto f = [&] { ref::rope_forward(out.data(), x.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo); return Dot(out, R); };
  ref::rope_backward(dx.data(), R.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
  return FiniteDiff(f, {{x.data(), dx.data(), dx.size()}}, rng, 1000);
}

// attention kernel: MHA without mask (SigLIP) or MQA over a strided cache with a mask that has a fully masked row
double CheckAttention(TestRng& rng, bool masked) {
  const int B = 2, Tq = masked ? 3 : 4, Tk = masked ? 5 : 4, ks = masked ? 6 : 4, H = masked ? 3 : 2,
            KV = masked ? 1 : 2, hd = masked ? 4 : 3;
  auto q = rng.vec<double>(B * Tq * H * hd), k = rng.vec<double>(B * ks * KV * hd), v = rng.vec<double>(B * ks * KV * hd),
       R = rng.vec<double>(B * Tq * H * hd);
  std::vector<uint8_t> mask(B * Tq * Tk);
  for (auto& m : mask) m = rng.below(3) != 0;
  for (int j = 0; j < Tk; j++) mask[1 * Tk + j] = 0;  // (b 0, query 1): fully masked
  const uint8_t* mp = masked ? mask.data() : nullptr;
  std::vector<double> out(q.size()), att(B * Tq * H * Tk), dq(q.size(), 0), dk(k.size(), 0), dv(v.size(), 0);
  auto f = [&] {
    ref::attention_forward(out.data(), att.data(), q.data(), k.data(), v.data(), mp, B, Tq, Tk, ks, H, KV, hd);
    return Dot(out, R);
  };
  f();
  ref::attention_backward(dq.data(), dk.data(), dv.data(), R.data(), att.data(), q.data(), k.data(), v.data(), mp, B,
                          Tq, Tk, ks, H, KV, hd);
  return FiniteDiff(f, {{q.data(), dq.data(), dq.size()}, {k.data(), dk.data(), dk.size()}, {v.data(), dv.data(), dv.size()}},
                    rng, 1000);
}

// SigLIP through VitForward/VitBackward: depth 0 checks the patch conv, position embedding, post-LN and projector;
// depth 1 adds a full pre-LN block (MHA with biases, GELU MLP).
double CheckVit(TestRng& rng, int depth) {
  Config c = SmallTestConfig(depth, 1);
  Slab s(c, rng);
  const int BC = 3, M = BC * c.patches();
  auto images = rng.vec<double>((size_t)BC * c.image_size * c.image_size * 3);
  auto R = rng.vec<double>((size_t)M * c.l_width);
  VitActs<double> a;
  AllocVit(a, c, BC, true);
  auto f = [&] {
    VitForward(kRef, c, s.w, a, images.data());
    return Dot(a.proj, R);
  };
  f();
  a.dproj.assign(R.begin(), R.end());
  VitBackward(kRef, c, s.w, s.gw, a);
  std::vector<Tensor> ts = s.tensors("vision_tower");
  for (auto t : s.tensors("multi_modal_projector")) ts.push_back(t);
  return FiniteDiff(f, ts, rng, 12);
}

// Gemma stack of 2 layers over Tq new tokens attending to [Tc cached rows | own rows]: MQA, half-split RoPE at
// arbitrary positions, a mask with masked cache rows and a fully masked query row. kv_only = the prefix form
// (the last layer only writes K/V; the loss reads the cache).
double CheckStack(TestRng& rng, bool kv_only) {
  Config c = SmallTestConfig(1, 2);
  Slab s(c, rng);
  const int Bq = 2, Tq = 4, Tc = kv_only ? 0 : 3, Tk = Tc + Tq, ks = Tk + 1, D = c.e_width, F = c.e_mlp;
  const int KD = c.num_kv_heads * c.head_dim, half = c.head_dim / 2, M = Bq * Tq;
  auto& W = s.w.ae;
  StackActs<double> a;
  AllocStack(a, c, c.depth, D, F, Bq, Tq, Tk, true);
  KVCache<double> cache, dcache;
  AllocCache(cache, c, Bq, ks);
  AllocCache(dcache, c, Bq, ks);
  for (auto* kv : {&cache.k, &cache.v}) {
    auto r = rng.vec<double>(kv->size());
    kv->assign(r.begin(), r.end());
  }
  auto x0 = rng.vec<double>((size_t)M * D);
  std::vector<uint8_t> mask((size_t)Bq * Tq * Tk);
  for (auto& m : mask) m = rng.below(4) != 0;
  for (int j = 0; j < Tk; j++) mask[(size_t)2 * Tk + j] = 0;
  std::vector<int> pos(M);
  for (auto& p : pos) p = rng.below(600);
  std::vector<double> cs((size_t)M * half), sn((size_t)M * half);
  RopeTables(pos.data(), M, c.head_dim, cs.data(), sn.data());
  auto R = rng.vec<double>((size_t)M * D);
  auto Rk = rng.vec<double>(cache.k.size()), Rv = rng.vec<double>(cache.v.size());
  const size_t CL = (size_t)Bq * ks * KD;
  auto own = [&](size_t i) {  // is cache element i in a row this pass writes?
    size_t row = (i % CL) / KD % ks;
    return row >= (size_t)Tc && row < (size_t)Tk;
  };
  auto f = [&] {
    std::copy(x0.begin(), x0.end(), a.x.begin());
    StackForward(kRef, c, W, D, F, a, cache, Tc, mask.data(), cs.data(), sn.data(), kv_only);
    if (!kv_only) return Dot(std::vector<double>(a.x.end() - (size_t)M * D, a.x.end()), R);
    double t = 0;
    for (size_t i = 0; i < cache.k.size(); i++)
      if (own(i)) t += cache.k[i] * Rk[i] + cache.v[i] * Rv[i];
    return t;
  };
  f();
  std::vector<double> dx0((size_t)M * D);
  if (kv_only)
    for (size_t i = 0; i < cache.k.size(); i++) {
      dcache.k[i] = own(i) ? Rk[i] : 0;
      dcache.v[i] = own(i) ? Rv[i] : 0;
    }
  StackBackward(kRef, c, W, s.gw.ae, D, F, a, cache, dcache, Tc, mask.data(), cs.data(), sn.data(), kv_only,
                kv_only ? nullptr : R.data(), dx0.data());
  std::vector<Tensor> ts = s.tensors("gemma_expert");
  ts.push_back({x0.data(), dx0.data(), dx0.size()});
  if (!kv_only) {
    // cached rows [0, Tc): their grads are what the prefix receives
    Buf<double> dk_cached(dcache.k), dv_cached(dcache.v);
    for (size_t i = 0; i < cache.k.size(); i++)
      if (own(i)) dk_cached[i] = dv_cached[i] = 0;
    // perturbing a cached row must not be overwritten by the pass: only rows < Tc are checked
    std::vector<Tensor> cached;
    double worst = FiniteDiff(f, ts, rng, 10);
    Buf<double> kc(cache.k), vc(cache.v);
    for (int l = 0; l < c.depth; l++)
      for (int b = 0; b < Bq; b++) {
        size_t off = (size_t)l * CL + (size_t)b * ks * KD;
        cached.push_back({cache.k.data() + off, dk_cached.data() + off, (size_t)Tc * KD});
        cached.push_back({cache.v.data() + off, dv_cached.data() + off, (size_t)Tc * KD});
      }
    return std::max(worst, FiniteDiff(f, cached, rng, 6));
  }
  return FiniteDiff(f, ts, rng, 10);
}

// action tokens: action_in_proj -> concat(., time_emb) -> action_time_mlp_in -> SiLU -> action_time_mlp_out
// + cfg_embedding[idx], as Pi0::action_tokens_forward builds them
double CheckTimeFusion(TestRng& rng) {
  Config c = SmallTestConfig(1, 1);
  Slab s(c, rng);
  const int Bq = 3, Ha = c.action_horizon, A = c.action_dim, De = c.e_width, MA = Bq * Ha;
  const int idx[Bq] = {1, 0, 1};
  const double tt[Bq] = {0.93, 0.2, 0.001};
  auto x = rng.vec<double>((size_t)MA * A), R = rng.vec<double>((size_t)MA * De);
  std::vector<double> temb((size_t)Bq * De), ain((size_t)MA * De), fin((size_t)MA * 2 * De), fh((size_t)MA * De),
      fs(fh.size()), out(fh.size());
  for (int b = 0; b < Bq; b++) TimeEmbedding(tt[b], De, temb.data() + (size_t)b * De);
  auto& w = s.w;
  auto f = [&] {
    ref::matmul_forward(ain.data(), x.data(), w.ain_w, w.ain_b, MA, A, De);
    for (int r = 0; r < MA; r++)
      for (int d = 0; d < De; d++) {
        fin[(size_t)r * 2 * De + d] = ain[(size_t)r * De + d];
        fin[(size_t)r * 2 * De + De + d] = temb[(size_t)(r / Ha) * De + d];
      }
    ref::matmul_forward(fh.data(), fin.data(), w.tin_w, w.tin_b, MA, 2 * De, De);
    ref::silu_forward(fs.data(), fh.data(), fs.size());
    ref::matmul_forward(out.data(), fs.data(), w.tout_w, w.tout_b, MA, De, De);
    for (int r = 0; r < MA; r++)
      for (int d = 0; d < De; d++) out[(size_t)r * De + d] += w.cfg[idx[r / Ha] * De + d];
    return Dot(out, R);
  };
  f();
  auto& g = s.gw;
  std::vector<double> dfs(fs.size(), 0), dfh(fh.size(), 0), dfin(fin.size(), 0), dain(ain.size(), 0), dx(x.size(), 0);
  for (int r = 0; r < MA; r++)
    for (int d = 0; d < De; d++) g.cfg[idx[r / Ha] * De + d] += R[(size_t)r * De + d];
  ref::matmul_backward(dfs.data(), g.tout_w, g.tout_b, R.data(), fs.data(), w.tout_w, MA, De, De);
  ref::silu_backward(dfh.data(), dfs.data(), fh.data(), fh.size());
  ref::matmul_backward(dfin.data(), g.tin_w, g.tin_b, dfh.data(), fin.data(), w.tin_w, MA, 2 * De, De);
  for (int r = 0; r < MA; r++)
    for (int d = 0; d < De; d++) dain[(size_t)r * De + d] = dfin[(size_t)r * 2 * De + d];
  ref::matmul_backward(dx.data(), g.ain_w, g.ain_b, dain.data(), x.data(), w.ain_w, MA, A, De);
  std::vector<Tensor> ts;
  for (const char* n : {"action_in_proj", "action_time_mlp", "cfg_embedding"})
    for (auto t : s.tensors(n)) ts.push_back(t);
  ts.push_back({x.data(), dx.data(), dx.size()});
  return FiniteDiff(f, ts, rng, 40);
}

}  // namespace

// The whole model in double: every parameter tensor (a few random coordinates each), CFG loss with both branches,
// per-sample weights, a masked camera, language padding, a padded action step and masked action dims.
double CheckModel(TestRng& rng, const Config& c) {
  Pi0<double> model(c, rng.next(), false, 1);
  const size_t n = model.num_params();
  double* p = model.params();
  for (const auto& e : model.spec())
    if (e.init != Init::Normal)
      for (size_t i = 0; i < e.size; i++) p[e.offset + i] += 0.3 * rng.normal();
  const int B = 2, C = c.num_cameras, Lt = c.max_token_len, Ha = c.action_horizon, A = c.action_dim;
  auto images = rng.vec<float>((size_t)B * C * c.image_size * c.image_size * 3, 0.5);
  std::vector<uint8_t> image_mask(B * C, 1), token_mask(B * Lt, 1), is_pad(B * Ha, 0), dim_mask(A, 1), pos{1, 0};
  image_mask[1 * C + C - 1] = 0;
  for (int t = Lt / 2; t < Lt; t++) token_mask[0 * Lt + t] = 0;
  is_pad[1 * Ha + Ha - 1] = 1;
  dim_mask[A - 1] = 0;
  std::vector<int32_t> tokens(B * Lt);
  for (auto& t : tokens) t = rng.below(c.vocab);
  auto state = rng.vec<float>((size_t)B * c.state_dim), actions = rng.vec<float>((size_t)B * Ha * A),
       noise = rng.vec<float>((size_t)B * Ha * A);
  std::vector<float> time{0.35f, 0.8f}, weights{1.0f, 0.6f};
  LossInput in;
  in.B = B;
  in.images = images.data();
  in.image_mask = image_mask.data();
  in.tokens = tokens.data();
  in.token_mask = token_mask.data();
  in.state = state.data();
  in.actions = actions.data();
  in.action_is_pad = is_pad.data();
  in.dim_mask = dim_mask.data();
  in.noise = noise.data();
  in.time = time.data();
  in.is_positive = pos.data();
  in.weights = weights.data();
  in.uncond_weight = 0.7;
  in.backward = true;
  model.zero_grad();
  model.loss(in);
  std::vector<double> grads(model.grads(), model.grads() + n);
  in.backward = false;
  auto f = [&] { return model.loss(in).loss; };
  std::vector<Tensor> ts;
  for (const auto& e : model.spec()) ts.push_back({p + e.offset, grads.data() + e.offset, e.size});
  return FiniteDiff(f, ts, rng, 3);
}

// The value model in double: every parameter tensor (vision, projector, embeddings, LLM stack and norm, state_proj,
// readout, head), CE plus the MSE term, per-sample weights, a masked camera and prompt padding.
double CheckValueModel(TestRng& rng, const Config& c, int bins) {
  ValueModel<double> model(c, bins, rng.next(), false, 1);
  const size_t n = model.num_params();
  double* p = model.params();
  for (const auto& e : model.spec())
    if (e.init != Init::Normal)
      for (size_t i = 0; i < e.size; i++) p[e.offset + i] += 0.3 * rng.normal();
  const int B = 3, C = c.num_cameras, Lt = c.max_token_len;
  auto images = rng.vec<float>((size_t)B * C * c.image_size * c.image_size * 3, 0.5);
  std::vector<uint8_t> image_mask(B * C, 1), token_mask(B * Lt, 1);
  image_mask[1 * C + C - 1] = 0;
  for (int t = Lt / 2; t < Lt; t++) token_mask[0 * Lt + t] = 0;
  std::vector<int32_t> tokens(B * Lt), bins_in{0, bins / 2, bins - 1};
  for (auto& t : tokens) t = rng.below(c.vocab);
  auto state = rng.vec<float>((size_t)B * c.state_dim);
  std::vector<float> weights{1.0f, 0.4f, 0.7f}, target{-0.9f, -0.45f, -0.05f};
  ValueLossInput in;
  in.B = B;
  in.images = images.data();
  in.image_mask = image_mask.data();
  in.tokens = tokens.data();
  in.token_mask = token_mask.data();
  in.state = state.data();
  in.target_bin = bins_in.data();
  in.weights = weights.data();
  in.target_value = target.data();
  in.mse_weight = 0.8;
  in.backward = true;
  model.zero_grad();
  model.loss(in);
  std::vector<double> grads(model.grads(), model.grads() + n);
  in.backward = false;
  auto f = [&] { return model.loss(in).loss; };
  std::vector<Tensor> ts;
  for (const auto& e : model.spec()) ts.push_back({p + e.offset, grads.data() + e.offset, e.size});
  return FiniteDiff(f, ts, rng, 8);
}

double ValueGradCheck(uint64_t seed, const std::string& config_json, int bins) {
  TestRng rng(seed);
  return CheckValueModel(rng, config_json.empty() ? SmallTestConfig(1, 2) : ParseConfig(config_json), bins);
}

std::vector<std::string> GradCheckNames() {
  return {"linear", "layernorm", "rmsnorm", "gelu_mlp", "geglu", "embedding", "rope", "vit_attention",
          "masked_mqa_attention", "patch_embed", "vit_block", "joint_attention", "prefix_stack", "time_fusion",
          "model"};
}

double GradCheck(const std::string& name, uint64_t seed, const std::string& config_json) {
  TestRng rng(seed);
  if (name == "linear") return CheckLinear(rng);
  if (name == "layernorm") return CheckLayerNorm(rng);
  if (name == "rmsnorm") return CheckRmsNorm(rng);
  if (name == "gelu_mlp") return CheckGeluMlp(rng);
  if (name == "geglu") return CheckGeglu(rng);
  if (name == "embedding") return CheckEmbedding(rng);
  if (name == "rope") return CheckRope(rng);
  if (name == "vit_attention") return CheckAttention(rng, false);
  if (name == "masked_mqa_attention") return CheckAttention(rng, true);
  if (name == "patch_embed") return CheckVit(rng, 0);
  if (name == "vit_block") return CheckVit(rng, 1);
  if (name == "joint_attention") return CheckStack(rng, false);
  if (name == "prefix_stack") return CheckStack(rng, true);
  if (name == "time_fusion") return CheckTimeFusion(rng);
  if (name == "model") return CheckModel(rng, config_json.empty() ? SmallTestConfig(1, 2) : ParseConfig(config_json));
  throw Pi0Error("gradCheck: unknown layer '" + name + "'");
}

// ---------------------------------------------------------------------------------------------------------------
// fast vs reference (float)

namespace {

double MaxRel(const std::vector<float>& fast, const std::vector<float>& ref) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < ref.size(); i++) {
    diff = std::max(diff, std::fabs(double(fast[i]) - double(ref[i])));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return diff / scale;
}

}  // namespace

std::vector<std::string> FastCheckNames() {
  return {"matmul", "layernorm", "rmsnorm", "gelu", "geglu", "rope", "attention_mqa", "attention_mha"};
}

double FastCheck(const std::string& name, uint64_t seed) {
  TestRng rng(seed);
  ThreadPool pool(2);
  double worst = 0;
  auto cmp = [&](const std::vector<float>& a, const std::vector<float>& b) { worst = std::max(worst, MaxRel(a, b)); };
  if (name == "matmul") {
    const int M = 37, K = 29, N = 23;
    auto x = rng.vec<float>(M * K), w = rng.vec<float>(N * K), b = rng.vec<float>(N), dy = rng.vec<float>(M * N);
    auto base = rng.vec<float>(M * N);
    for (bool acc : {false, true}) {
      std::vector<float> o1(base), o2(base);
      ref::matmul_forward(o1.data(), x.data(), w.data(), b.data(), M, K, N, acc);
      fast::matmul_forward(pool, o2.data(), x.data(), w.data(), b.data(), M, K, N, acc);
      cmp(o2, o1);
    }
    std::vector<float> dx1(M * K, 0.5f), dw1(N * K, 0.5f), db1(N, 0.5f), dx2(dx1), dw2(dw1), db2(db1);
    ref::matmul_backward(dx1.data(), dw1.data(), db1.data(), dy.data(), x.data(), w.data(), M, K, N);
    fast::matmul_backward(pool, dx2.data(), dw2.data(), db2.data(), dy.data(), x.data(), w.data(), M, K, N);
    cmp(dx2, dx1);
    cmp(dw2, dw1);
    cmp(db2, db1);
  } else if (name == "layernorm" || name == "rmsnorm") {
    const int M = 41, C = 33;
    auto x = rng.vec<float>(M * C, 2.0), w = rng.vec<float>(C), b = rng.vec<float>(C), dy = rng.vec<float>(M * C);
    std::vector<float> o1(M * C), o2(M * C), m1(M), m2(M), r1(M), r2(M);
    std::vector<float> dx1(M * C, 0), dx2(M * C, 0), dw1(C, 0), dw2(C, 0), db1(C, 0), db2(C, 0);
    if (name == "layernorm") {
      ref::layernorm_forward(o1.data(), m1.data(), r1.data(), x.data(), w.data(), b.data(), M, C);
      fast::layernorm_forward(pool, o2.data(), m2.data(), r2.data(), x.data(), w.data(), b.data(), M, C);
      ref::layernorm_backward(dx1.data(), dw1.data(), db1.data(), dy.data(), x.data(), w.data(), m1.data(), r1.data(), M, C);
      fast::layernorm_backward(pool, dx2.data(), dw2.data(), db2.data(), dy.data(), x.data(), w.data(), m2.data(),
                               r2.data(), M, C);
    } else {
      ref::rmsnorm_forward(o1.data(), r1.data(), x.data(), w.data(), M, C);
      fast::rmsnorm_forward(pool, o2.data(), r2.data(), x.data(), w.data(), M, C);
      ref::rmsnorm_backward(dx1.data(), dw1.data(), dy.data(), x.data(), w.data(), r1.data(), M, C);
      fast::rmsnorm_backward(pool, dx2.data(), dw2.data(), dy.data(), x.data(), w.data(), r2.data(), M, C);
    }
    cmp(o2, o1);
    cmp(r2, r1);
    cmp(dx2, dx1);
    cmp(dw2, dw1);
    cmp(db2, db1);
  } else if (name == "gelu" || name == "geglu") {
    const size_t n = 1001;
    auto g = rng.vec<float>(n, 2.0), u = rng.vec<float>(n), dh = rng.vec<float>(n);
    std::vector<float> o1(n), o2(n), dg1(n, 0), dg2(n, 0), du1(n, 0), du2(n, 0);
    if (name == "gelu") {
      ref::gelu_forward(o1.data(), g.data(), n);
      fast::gelu_forward(pool, o2.data(), g.data(), n);
      ref::gelu_backward(dg1.data(), dh.data(), g.data(), n);
      fast::gelu_backward(pool, dg2.data(), dh.data(), g.data(), n);
    } else {
      ref::geglu_forward(o1.data(), g.data(), u.data(), n);
      fast::geglu_forward(pool, o2.data(), g.data(), u.data(), n);
      ref::geglu_backward(dg1.data(), du1.data(), dh.data(), g.data(), u.data(), n);
      fast::geglu_backward(pool, dg2.data(), du2.data(), dh.data(), g.data(), u.data(), n);
    }
    cmp(o2, o1);
    cmp(dg2, dg1);
    cmp(du2, du1);
  } else if (name == "rope") {
    const int B = 3, Tn = 7, nh = 2, hd = 8, os = 10, oo = 2, half = hd / 2;
    std::vector<int> pos(B * Tn);
    for (auto& p : pos) p = rng.below(900);
    std::vector<float> cs(B * Tn * half), sn(B * Tn * half);
    RopeTables(pos.data(), B * Tn, hd, cs.data(), sn.data());
    auto x = rng.vec<float>(B * Tn * nh * hd), dy = rng.vec<float>(B * os * nh * hd);
    std::vector<float> o1(B * os * nh * hd, 0), o2(o1), dx1(x.size(), 0), dx2(x.size(), 0);
    ref::rope_forward(o1.data(), x.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
    fast::rope_forward(pool, o2.data(), x.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
    ref::rope_backward(dx1.data(), dy.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
    fast::rope_backward(pool, dx2.data(), dy.data(), cs.data(), sn.data(), B, Tn, nh, hd, os, oo);
    cmp(o2, o1);
    cmp(dx2, dx1);
  } else if (name == "attention_mqa" || name == "attention_mha") {
    const bool mqa = name == "attention_mqa";
    const int B = 3, Tq = 11, Tk = mqa ? 17 : 11, ks = mqa ? 19 : 11, H = 4, KV = mqa ? 1 : 4, hd = 8;
    auto q = rng.vec<float>(B * Tq * H * hd), k = rng.vec<float>(B * ks * KV * hd), v = rng.vec<float>(B * ks * KV * hd),
         dy = rng.vec<float>(B * Tq * H * hd);
    std::vector<uint8_t> mask(B * Tq * Tk);
    for (auto& m : mask) m = rng.below(3) != 0;
    for (int j = 0; j < Tk; j++) mask[(size_t)4 * Tk + j] = 0;  // a fully masked query row
    const uint8_t* mp = mqa ? mask.data() : nullptr;
    std::vector<float> o1(q.size()), o2(q.size()), a1(B * Tq * H * Tk), a2(a1.size()), scratch(a1.size());
    std::vector<float> dq1(q.size(), 0), dq2(dq1), dk1(k.size(), 0), dk2(dk1), dv1(v.size(), 0), dv2(dv1);
    ref::attention_forward(o1.data(), a1.data(), q.data(), k.data(), v.data(), mp, B, Tq, Tk, ks, H, KV, hd);
    fast::attention_forward(pool, o2.data(), a2.data(), q.data(), k.data(), v.data(), mp, B, Tq, Tk, ks, H, KV, hd);
    ref::attention_backward(dq1.data(), dk1.data(), dv1.data(), dy.data(), a1.data(), q.data(), k.data(), v.data(), mp,
                            B, Tq, Tk, ks, H, KV, hd);
    fast::attention_backward(pool, dq2.data(), dk2.data(), dv2.data(), scratch.data(), dy.data(), a2.data(), q.data(),
                             k.data(), v.data(), mp, B, Tq, Tk, ks, H, KV, hd);
    cmp(o2, o1);
    cmp(a2, a1);
    cmp(dq2, dq1);
    cmp(dk2, dk1);
    cmp(dv2, dv1);
  } else {
    throw Pi0Error("fastCheck: unknown kernel '" + name + "'");
  }
  return worst;
}

}  // namespace riptide::pi0
