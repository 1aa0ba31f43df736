// PI0 forward, backward, loss, AdamW and the flow sampler (see model.h for the data path).
// Each op dispatches (ops.h) to the reference loops (layers.h), for the float model on the fast path to fast.h, or on
// a CUDA model to cuda/cuda.h.
#include "pi0/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "pi0/cuda/cuda.h"
#include "pi0/layers.h"
#include "pi0/ops.h"

namespace riptide::pi0 {

using namespace ops;

namespace {

// splitmix64: a small deterministic RNG for init, noise and time.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }  // (0, 1)
  double normal() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
  // Beta(a, 1) has CDF x^a, so U^(1/a) is an exact sample (pi0.md §4 / pitfall 7).
  double beta_a1(double a) { return std::pow(uniform(), 1.0 / a); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// parameter layout (lerobot/openpi PyTorch keys, HF module order)

template <typename T>
T* SlabCarver<T>::take(const std::string& name, std::vector<int> shape, Init init, bool header) {
  size_t n = 1;
  for (int s : shape) n *= (size_t)s;
  if (spec) {
    ParamEntry e;
    e.name = name;
    e.shape = shape;
    e.offset = off;
    e.size = n;
    e.header = header;
    e.init = init;
    e.fan_in = 1;
    for (size_t i = 1; i < shape.size(); i++) e.fan_in *= shape[i];  // [out, in...] -> in
    spec->push_back(e);
  }
  T* p = base ? base + off : nullptr;
  off += n;
  return p;
}

template <typename T>
void BuildGemmaLayout(const Config& c, SlabCarver<T>& s, const std::string& prefix, int D, int F,
                      std::vector<GemmaLayerW<T>>& layers) {
  const Init N = Init::Normal, Z = Init::Zero;
  const int QD = c.num_heads * c.head_dim, KD = c.num_kv_heads * c.head_dim;
  layers.resize(c.depth);
  for (int l = 0; l < c.depth; l++) {
    auto& L = layers[l];
    std::string p = prefix + "layers." + std::to_string(l) + ".";
    L.q = s.take(p + "self_attn.q_proj.weight", {QD, D}, N);
    L.k = s.take(p + "self_attn.k_proj.weight", {KD, D}, N);
    L.v = s.take(p + "self_attn.v_proj.weight", {KD, D}, N);
    L.o = s.take(p + "self_attn.o_proj.weight", {D, QD}, N);
    L.gate = s.take(p + "mlp.gate_proj.weight", {F, D}, N);
    L.up = s.take(p + "mlp.up_proj.weight", {F, D}, N);
    L.down = s.take(p + "mlp.down_proj.weight", {D, F}, N);
    L.ln1 = s.take(p + "input_layernorm.weight", {D}, Z);
    L.ln2 = s.take(p + "post_attention_layernorm.weight", {D}, Z);
  }
}

template <typename T> void BuildVlmLayout(const Config& c, SlabCarver<T>& s, Weights<T>* w) {
  auto take = [&](const std::string& name, std::vector<int> shape, Init init) { return s.take(name, shape, init); };
  const Init N = Init::Normal, Z = Init::Zero, O = Init::One;
  const int Dv = c.v_width, Fv = c.v_mlp, Dl = c.l_width;
  const std::string V = "paligemma_with_expert.paligemma.model.vision_tower.vision_model.";
  w->patch_w = take(V + "embeddings.patch_embedding.weight", {Dv, 3, c.patch_size, c.patch_size}, N);
  w->patch_b = take(V + "embeddings.patch_embedding.bias", {Dv}, Z);
  w->pos_emb = take(V + "embeddings.position_embedding.weight", {c.patches(), Dv}, N);
  w->vit.resize(c.v_depth);
  for (int l = 0; l < c.v_depth; l++) {
    auto& L = w->vit[l];
    std::string p = V + "encoder.layers." + std::to_string(l) + ".";
    L.k_w = take(p + "self_attn.k_proj.weight", {Dv, Dv}, N);
    L.k_b = take(p + "self_attn.k_proj.bias", {Dv}, Z);
    L.v_w = take(p + "self_attn.v_proj.weight", {Dv, Dv}, N);
    L.v_b = take(p + "self_attn.v_proj.bias", {Dv}, Z);
    L.q_w = take(p + "self_attn.q_proj.weight", {Dv, Dv}, N);
    L.q_b = take(p + "self_attn.q_proj.bias", {Dv}, Z);
    L.o_w = take(p + "self_attn.out_proj.weight", {Dv, Dv}, N);
    L.o_b = take(p + "self_attn.out_proj.bias", {Dv}, Z);
    L.ln1_w = take(p + "layer_norm1.weight", {Dv}, O);
    L.ln1_b = take(p + "layer_norm1.bias", {Dv}, Z);
    L.fc1_w = take(p + "mlp.fc1.weight", {Fv, Dv}, N);
    L.fc1_b = take(p + "mlp.fc1.bias", {Fv}, Z);
    L.fc2_w = take(p + "mlp.fc2.weight", {Dv, Fv}, N);
    L.fc2_b = take(p + "mlp.fc2.bias", {Dv}, Z);
    L.ln2_w = take(p + "layer_norm2.weight", {Dv}, O);
    L.ln2_b = take(p + "layer_norm2.bias", {Dv}, Z);
  }
  w->post_ln_w = take(V + "post_layernorm.weight", {Dv}, O);
  w->post_ln_b = take(V + "post_layernorm.bias", {Dv}, Z);
  const std::string PM = "paligemma_with_expert.paligemma.model.";
  w->proj_w = take(PM + "multi_modal_projector.linear.weight", {Dl, Dv}, N);
  w->proj_b = take(PM + "multi_modal_projector.linear.bias", {Dl}, Z);
  const std::string LM = PM + "language_model.";
  w->embed = take(LM + "embed_tokens.weight", {c.vocab, Dl}, N);
  BuildGemmaLayout(c, s, LM, c.l_width, c.l_mlp, w->llm);
  w->llm_norm = take(LM + "norm.weight", {Dl}, Z);
}

template <typename T> void BuildLayout(const Config& c, T* base, Weights<T>* w, std::vector<ParamEntry>* spec) {
  SlabCarver<T> s{base, spec};
  BuildVlmLayout(c, s, w);
  const Init N = Init::Normal, Z = Init::Zero;
  const int De = c.e_width;
  const std::string AE = "paligemma_with_expert.gemma_expert.model.";
  BuildGemmaLayout(c, s, AE, De, c.e_mlp, w->ae);
  w->ae_norm = s.take(AE + "norm.weight", {De}, Z);
  w->state_w = s.take("state_proj.weight", {De, c.state_dim}, N, true);
  w->state_b = s.take("state_proj.bias", {De}, Z, true);
  w->ain_w = s.take("action_in_proj.weight", {De, c.action_dim}, N, true);
  w->ain_b = s.take("action_in_proj.bias", {De}, Z, true);
  w->tin_w = s.take("action_time_mlp_in.weight", {De, 2 * De}, N, true);
  w->tin_b = s.take("action_time_mlp_in.bias", {De}, Z, true);
  w->tout_w = s.take("action_time_mlp_out.weight", {De, De}, N, true);
  w->tout_b = s.take("action_time_mlp_out.bias", {De}, Z, true);
  w->aout_w = s.take("action_out_proj.weight", {c.action_dim, De}, N, true);
  w->aout_b = s.take("action_out_proj.bias", {c.action_dim}, Z, true);
  // Zero-init: a pretrained pi0 checkpoint has no cfg_embedding, so zero keeps its behaviour until training moves it.
  w->cfg = s.take("cfg_embedding.weight", {2, De}, Z, true);
}

template <typename T> void InitParams(const std::vector<ParamEntry>& spec, uint64_t seed, T* params) {
  Rng rng(seed);
  for (const auto& e : spec) {
    T* p = params + e.offset;
    if (e.init == Init::Normal) {
      double sd = 1.0 / std::sqrt((double)e.fan_in);
      for (size_t i = 0; i < e.size; i++) p[i] = T(rng.normal() * sd);
    } else {
      std::fill(p, p + e.size, e.init == Init::One ? T(1) : T(0));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// small pieces

template <typename T> void RopeTables(const int* pos, int n, int hd, T* cs, T* sn) {
  const int half = hd / 2;
  for (int i = 0; i < half; i++) {
    // freq_i = 10000^(-2i/hd); the angle and its sin/cos in T (fp32 for the float model, pi0.md pitfall 3)
    T freq = T(std::pow(10000.0, -2.0 * i / hd));
    for (int t = 0; t < n; t++) {
      T ang = T(pos[t]) * freq;
      cs[(size_t)t * half + i] = std::cos(ang);
      sn[(size_t)t * half + i] = std::sin(ang);
    }
  }
}

template <typename T> void TimeEmbedding(double t, int dim, T* out) {
  const int K = dim / 2;
  for (int k = 0; k < K; k++) {
    double frac = K > 1 ? double(k) / (K - 1) : 0.0;
    double period = 4e-3 * std::pow(4.0 / 4e-3, frac);
    double arg = t * 2.0 * M_PI / period;  // float64 as torch does, then cast
    out[k] = T(std::sin(arg));
    out[K + k] = T(std::cos(arg));
  }
}

template <typename T>
void AllocStack(StackActs<T>& a, const Config& c, int L, int D, int F, int Bq, int Tq, int Tk, bool grads) {
  const size_t M = (size_t)Bq * Tq, QD = (size_t)c.num_heads * c.head_dim, KD = (size_t)c.num_kv_heads * c.head_dim;
  a.Bq = Bq;
  a.Tq = Tq;
  a.Tk = Tk;
  resize(a.x, (L + 1) * M * D);
  resize(a.ln1, L * M * D);
  resize(a.ln2, L * M * D);
  resize(a.rstd1, L * M);
  resize(a.rstd2, L * M);
  resize(a.q_pre, L * M * QD);
  resize(a.q, L * M * QD);
  resize(a.k_pre, L * M * KD);
  resize(a.v_new, L * M * KD);
  resize(a.att, L * M * c.num_heads * Tk);
  resize(a.atty, L * M * QD);
  resize(a.x_mid, L * M * D);
  resize(a.gate, L * M * F);
  resize(a.up, L * M * F);
  resize(a.hgl, L * M * F);
  if (grads) {
    resize(a.dres, M * D);
    resize(a.dmid, M * D);
    resize(a.dln, M * D);
    resize(a.dhgl, M * F);
    resize(a.dgate, M * F);
    resize(a.dup, M * F);
    resize(a.datty, M * QD);
    resize(a.dq, M * QD);
    resize(a.dq_pre, M * QD);
    resize(a.dk_pre, M * KD);
    resize(a.dv_new, M * KD);
    resize(a.att_scratch, M * c.num_heads * Tk);
  }
}

template <typename T> void AllocCache(KVCache<T>& kv, const Config& c, int Bq, int rows) {
  kv.B = Bq;
  kv.rows = rows;
  size_t n = (size_t)c.depth * Bq * rows * c.num_kv_heads * c.head_dim;
  resize(kv.k, n);
  resize(kv.v, n);
}

template <typename T> void AllocVit(VitActs<T>& a, const Config& c, int BC, bool grads) {
  const size_t M = (size_t)BC * c.patches(), Dv = c.v_width, Fv = c.v_mlp, L = c.v_depth;
  a.BC = BC;
  resize(a.cols, M * c.patch_dim());
  resize(a.x, (L + 1) * M * Dv);
  resize(a.ln1, L * M * Dv);
  resize(a.ln2, L * M * Dv);
  for (auto* v : {&a.mean1, &a.rstd1, &a.mean2, &a.rstd2}) resize(*v, L * M);
  for (auto* v : {&a.q, &a.k, &a.v, &a.atty, &a.x_mid}) resize(*v, L * M * Dv);
  resize(a.att, L * M * c.v_heads * c.patches());
  resize(a.fc1, L * M * Fv);
  resize(a.fc1g, L * M * Fv);
  resize(a.post, M * Dv);
  resize(a.post_mean, M);
  resize(a.post_rstd, M);
  resize(a.proj, M * c.l_width);
  if (grads) {
    for (auto* v : {&a.dres, &a.dmid, &a.dln, &a.dq, &a.dk, &a.dv, &a.datty}) resize(*v, M * Dv);
    resize(a.dfc1, M * Fv);
    resize(a.dfc1g, M * Fv);
    resize(a.dproj, M * c.l_width);
    resize(a.att_scratch, M * c.v_heads * c.patches());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SigLIP tower: im2col patch embed + position embedding, pre-LN blocks (MHA with biases, GELU-tanh MLP),
// post_layernorm, then multi_modal_projector to the LM width. Image tokens are not scaled.

template <typename T>
void VitForward(const Exec& ex, const Config& c, const Weights<T>& w, VitActs<T>& a, const T* images) {
  const int BC = a.BC, Np = c.patches(), G = c.grid(), p = c.patch_size, S = c.image_size, PD = c.patch_dim();
  const int M = BC * Np, Dv = c.v_width, Fv = c.v_mlp, Hv = c.v_heads, hdv = c.v_head_dim();
  // im2col: row (bc, gy*G+gx), column (ch, ky, kx) to match the [Dv, 3, p, p] conv weight; images are HWC.
  for (int bc = 0; bc < BC; bc++)
    for (int gy = 0; gy < G; gy++)
      for (int gx = 0; gx < G; gx++) {
        T* col = a.cols.data() + ((size_t)bc * Np + gy * G + gx) * PD;
        for (int ch = 0; ch < 3; ch++)
          for (int ky = 0; ky < p; ky++)
            for (int kx = 0; kx < p; kx++)
              col[(ch * p + ky) * p + kx] =
                  images[(((size_t)bc * S + gy * p + ky) * S + gx * p + kx) * 3 + ch];
      }
  T* x0 = a.x.data();
  mm_fwd(ex, x0, a.cols.data(), w.patch_w, w.patch_b, M, PD, Dv);
  for (int bc = 0; bc < BC; bc++)
    for (int n = 0; n < Np; n++)
      for (int d = 0; d < Dv; d++) x0[((size_t)bc * Np + n) * Dv + d] += w.pos_emb[(size_t)n * Dv + d];
  const size_t MD = (size_t)M * Dv, MF = (size_t)M * Fv;
  for (int l = 0; l < c.v_depth; l++) {
    const auto& L = w.vit[l];
    T* x = a.x.data() + l * MD;
    T* ln1 = a.ln1.data() + l * MD;
    T *q = a.q.data() + l * MD, *k = a.k.data() + l * MD, *v = a.v.data() + l * MD;
    T* atty = a.atty.data() + l * MD;
    T* att = a.att.data() + (size_t)l * M * Hv * Np;
    T* mid = a.x_mid.data() + l * MD;
    T* ln2 = a.ln2.data() + l * MD;
    T *fc1 = a.fc1.data() + l * MF, *fc1g = a.fc1g.data() + l * MF;
    ln_fwd(ex, ln1, a.mean1.data() + (size_t)l * M, a.rstd1.data() + (size_t)l * M, x, L.ln1_w, L.ln1_b, M, Dv);
    mm_fwd(ex, q, ln1, L.q_w, L.q_b, M, Dv, Dv);
    mm_fwd(ex, k, ln1, L.k_w, L.k_b, M, Dv, Dv);
    mm_fwd(ex, v, ln1, L.v_w, L.v_b, M, Dv, Dv);
    attn_fwd(ex, atty, att, q, k, v, (const uint8_t*)nullptr, BC, Np, Np, Np, Hv, Hv, hdv);
    copy(ex, mid, x, MD);
    mm_fwd(ex, mid, atty, L.o_w, L.o_b, M, Dv, Dv, true);
    ln_fwd(ex, ln2, a.mean2.data() + (size_t)l * M, a.rstd2.data() + (size_t)l * M, mid, L.ln2_w, L.ln2_b, M, Dv);
    mm_fwd(ex, fc1, ln2, L.fc1_w, L.fc1_b, M, Dv, Fv);
    gelu_fwd(ex, fc1g, fc1, MF);
    T* xn = a.x.data() + (l + 1) * MD;
    copy(ex, xn, mid, MD);
    mm_fwd(ex, xn, fc1g, L.fc2_w, L.fc2_b, M, Fv, Dv, true);
  }
  T* xl = a.x.data() + (size_t)c.v_depth * MD;
  ln_fwd(ex, a.post.data(), a.post_mean.data(), a.post_rstd.data(), xl, w.post_ln_w, w.post_ln_b, M, Dv);
  mm_fwd(ex, a.proj.data(), a.post.data(), w.proj_w, w.proj_b, M, Dv, c.l_width);
}

template <typename T>
void VitBackward(const Exec& ex, const Config& c, const Weights<T>& w, Weights<T>& g, VitActs<T>& a) {
  const int BC = a.BC, Np = c.patches(), PD = c.patch_dim();
  const int M = BC * Np, Dv = c.v_width, Fv = c.v_mlp, Hv = c.v_heads, hdv = c.v_head_dim();
  const size_t MD = (size_t)M * Dv, MF = (size_t)M * Fv;
  zero(ex, a.dln);
  mm_bwd(ex, a.dln.data(), g.proj_w, g.proj_b, a.dproj.data(), a.post.data(), w.proj_w, M, Dv, c.l_width);
  zero(ex, a.dres);
  T* xl = a.x.data() + (size_t)c.v_depth * MD;
  ln_bwd(ex, a.dres.data(), g.post_ln_w, g.post_ln_b, a.dln.data(), xl, w.post_ln_w, a.post_mean.data(),
         a.post_rstd.data(), M, Dv);
  for (int l = c.v_depth - 1; l >= 0; l--) {
    const auto& L = w.vit[l];
    auto& GL = g.vit[l];
    T* x = a.x.data() + l * MD;
    T* ln1 = a.ln1.data() + l * MD;
    T *q = a.q.data() + l * MD, *k = a.k.data() + l * MD, *v = a.v.data() + l * MD;
    T* atty = a.atty.data() + l * MD;
    T* att = a.att.data() + (size_t)l * M * Hv * Np;
    T* mid = a.x_mid.data() + l * MD;
    T* ln2 = a.ln2.data() + l * MD;
    T *fc1 = a.fc1.data() + l * MF, *fc1g = a.fc1g.data() + l * MF;
    zero(ex, a.dfc1g);
    mm_bwd(ex, a.dfc1g.data(), GL.fc2_w, GL.fc2_b, a.dres.data(), fc1g, L.fc2_w, M, Fv, Dv);
    zero(ex, a.dfc1);
    gelu_bwd(ex, a.dfc1.data(), a.dfc1g.data(), fc1, MF);
    zero(ex, a.dln);
    mm_bwd(ex, a.dln.data(), GL.fc1_w, GL.fc1_b, a.dfc1.data(), ln2, L.fc1_w, M, Dv, Fv);
    copy(ex, a.dmid.data(), a.dres.data(), a.dres.size());
    ln_bwd(ex, a.dmid.data(), GL.ln2_w, GL.ln2_b, a.dln.data(), mid, L.ln2_w, a.mean2.data() + (size_t)l * M,
           a.rstd2.data() + (size_t)l * M, M, Dv);
    zero(ex, a.datty);
    mm_bwd(ex, a.datty.data(), GL.o_w, GL.o_b, a.dmid.data(), atty, L.o_w, M, Dv, Dv);
    zero(ex, a.dq);
    zero(ex, a.dk);
    zero(ex, a.dv);
    attn_bwd(ex, a.dq.data(), a.dk.data(), a.dv.data(), a.att_scratch.data(), a.datty.data(), att, q, k, v,
             (const uint8_t*)nullptr, BC, Np, Np, Np, Hv, Hv, hdv);
    zero(ex, a.dln);
    mm_bwd(ex, a.dln.data(), GL.q_w, GL.q_b, a.dq.data(), ln1, L.q_w, M, Dv, Dv);
    mm_bwd(ex, a.dln.data(), GL.k_w, GL.k_b, a.dk.data(), ln1, L.k_w, M, Dv, Dv);
    mm_bwd(ex, a.dln.data(), GL.v_w, GL.v_b, a.dv.data(), ln1, L.v_w, M, Dv, Dv);
    copy(ex, a.dres.data(), a.dmid.data(), a.dmid.size());
    ln_bwd(ex, a.dres.data(), GL.ln1_w, GL.ln1_b, a.dln.data(), x, L.ln1_w, a.mean1.data() + (size_t)l * M,
           a.rstd1.data() + (size_t)l * M, M, Dv);
  }
  for (int bc = 0; bc < BC; bc++)
    for (int n = 0; n < Np; n++)
      for (int d = 0; d < Dv; d++) g.pos_emb[(size_t)n * Dv + d] += a.dres[((size_t)bc * Np + n) * Dv + d];
  mm_bwd(ex, (T*)nullptr, g.patch_w, g.patch_b, a.dres.data(), a.cols.data(), w.patch_w, M, PD, Dv);
}

// ---------------------------------------------------------------------------------------------------------------
// Gemma stack over Tq new tokens of Bq sequences, attending to [Tc cached rows | own rows] of `cache` under `mask`.
// Writes each layer's post-RoPE K and V into cache rows [Tc, Tc+Tq). kv_only_last: the last layer only produces
// K/V (the prefix's last-layer output is never used by pi0).

template <typename T>
void StackForward(const Exec& ex, const Config& c, const std::vector<GemmaLayerW<T>>& W, int D, int F,
                  StackActs<T>& a, KVCache<T>& cache, int Tc, const uint8_t* mask, const T* cs, const T* sn,
                  bool kv_only_last) {
  const int L = (int)W.size(), Bq = a.Bq, Tq = a.Tq, Tk = a.Tk, ks = cache.rows;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim, QD = H * hd, KD = KV * hd, M = Bq * Tq;
  const size_t MD = (size_t)M * D, MF = (size_t)M * F, MQ = (size_t)M * QD, MK = (size_t)M * KD;
  const size_t CL = (size_t)Bq * ks * KD;  // cache floats per layer
  for (int l = 0; l < L; l++) {
    const auto& Lw = W[l];
    T* x = a.x.data() + l * MD;
    T* ln1 = a.ln1.data() + l * MD;
    T* kc = cache.k.data() + l * CL;
    T* vc = cache.v.data() + l * CL;
    T* kpre = a.k_pre.data() + l * MK;
    T* vnew = a.v_new.data() + l * MK;
    rms_fwd(ex, ln1, a.rstd1.data() + (size_t)l * M, x, Lw.ln1, M, D);
    mm_fwd(ex, kpre, ln1, Lw.k, (const T*)nullptr, M, D, KD);
    rope_fwd(ex, kc, kpre, cs, sn, Bq, Tq, KV, hd, ks, Tc);
    mm_fwd(ex, vnew, ln1, Lw.v, (const T*)nullptr, M, D, KD);
    copy_rows(ex, vc + (size_t)Tc * KD, (size_t)ks * KD, vnew, (size_t)Tq * KD, (size_t)Tq * KD, Bq);
    if (kv_only_last && l == L - 1) break;
    T* qpre = a.q_pre.data() + l * MQ;
    T* q = a.q.data() + l * MQ;
    T* att = a.att.data() + (size_t)l * M * H * Tk;
    T* atty = a.atty.data() + l * MQ;
    T* mid = a.x_mid.data() + l * MD;
    T* ln2 = a.ln2.data() + l * MD;
    T *gate = a.gate.data() + l * MF, *up = a.up.data() + l * MF, *hgl = a.hgl.data() + l * MF;
    mm_fwd(ex, qpre, ln1, Lw.q, (const T*)nullptr, M, D, QD);
    rope_fwd(ex, q, qpre, cs, sn, Bq, Tq, H, hd, Tq, 0);
    attn_fwd(ex, atty, att, q, kc, vc, mask, Bq, Tq, Tk, ks, H, KV, hd);
    copy(ex, mid, x, MD);
    mm_fwd(ex, mid, atty, Lw.o, (const T*)nullptr, M, QD, D, true);
    rms_fwd(ex, ln2, a.rstd2.data() + (size_t)l * M, mid, Lw.ln2, M, D);
    mm_fwd(ex, gate, ln2, Lw.gate, (const T*)nullptr, M, D, F);
    mm_fwd(ex, up, ln2, Lw.up, (const T*)nullptr, M, D, F);
    geglu_fwd(ex, hgl, gate, up, MF);
    T* xn = a.x.data() + (l + 1) * MD;
    copy(ex, xn, mid, MD);
    mm_fwd(ex, xn, hgl, Lw.down, (const T*)nullptr, M, F, D, true);
  }
}

// dout: grad of x[L] (M, D), may be null (zero); dx0 receives the grad of x[0]. dcache must hold, on entry, the
// K/V grads that later passes (the suffix) produced for this pass's rows; it receives the grads of cached rows.
template <typename T>
void StackBackward(const Exec& ex, const Config& c, const std::vector<GemmaLayerW<T>>& W,
                   std::vector<GemmaLayerW<T>>& G, int D, int F, StackActs<T>& a, KVCache<T>& cache,
                   KVCache<T>& dcache, int Tc, const uint8_t* mask, const T* cs, const T* sn, bool kv_only_last,
                   const T* dout, T* dx0) {
  const int L = (int)W.size(), Bq = a.Bq, Tq = a.Tq, Tk = a.Tk, ks = cache.rows;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim, QD = H * hd, KD = KV * hd, M = Bq * Tq;
  const size_t MD = (size_t)M * D, MF = (size_t)M * F, MQ = (size_t)M * QD, MK = (size_t)M * KD;
  const size_t CL = (size_t)Bq * ks * KD;
  if (dout) copy(ex, a.dres.data(), dout, MD);
  else zero(ex, a.dres);
  for (int l = L - 1; l >= 0; l--) {
    const auto& Lw = W[l];
    auto& Lg = G[l];
    T* x = a.x.data() + l * MD;
    T* ln1 = a.ln1.data() + l * MD;
    T* kc = cache.k.data() + l * CL;
    T* vc = cache.v.data() + l * CL;
    T* dkc = dcache.k.data() + l * CL;
    T* dvc = dcache.v.data() + l * CL;
    if (!(kv_only_last && l == L - 1)) {
      T* q = a.q.data() + l * MQ;
      T* att = a.att.data() + (size_t)l * M * H * Tk;
      T* atty = a.atty.data() + l * MQ;
      T* mid = a.x_mid.data() + l * MD;
      T* ln2 = a.ln2.data() + l * MD;
      T *gate = a.gate.data() + l * MF, *up = a.up.data() + l * MF, *hgl = a.hgl.data() + l * MF;
      zero(ex, a.dhgl);
      mm_bwd(ex, a.dhgl.data(), Lg.down, (T*)nullptr, a.dres.data(), hgl, Lw.down, M, F, D);
      zero(ex, a.dgate);
      zero(ex, a.dup);
      geglu_bwd(ex, a.dgate.data(), a.dup.data(), a.dhgl.data(), gate, up, MF);
      zero(ex, a.dln);
      mm_bwd(ex, a.dln.data(), Lg.gate, (T*)nullptr, a.dgate.data(), ln2, Lw.gate, M, D, F);
      mm_bwd(ex, a.dln.data(), Lg.up, (T*)nullptr, a.dup.data(), ln2, Lw.up, M, D, F);
      copy(ex, a.dmid.data(), a.dres.data(), a.dres.size());
      rms_bwd(ex, a.dmid.data(), Lg.ln2, a.dln.data(), mid, Lw.ln2, a.rstd2.data() + (size_t)l * M, M, D);
      zero(ex, a.datty);
      mm_bwd(ex, a.datty.data(), Lg.o, (T*)nullptr, a.dmid.data(), atty, Lw.o, M, QD, D);
      zero(ex, a.dq);
      attn_bwd(ex, a.dq.data(), dkc, dvc, a.att_scratch.data(), a.datty.data(), att, q, kc, vc, mask, Bq, Tq, Tk, ks,
               H, KV, hd);
      zero(ex, a.dq_pre);
      rope_bwd(ex, a.dq_pre.data(), a.dq.data(), cs, sn, Bq, Tq, H, hd, Tq, 0);
      zero(ex, a.dln);
      mm_bwd(ex, a.dln.data(), Lg.q, (T*)nullptr, a.dq_pre.data(), ln1, Lw.q, M, D, QD);
      copy(ex, a.dres.data(), a.dmid.data(), a.dmid.size());
    } else {
      zero(ex, a.dln);
    }
    zero(ex, a.dk_pre);
    rope_bwd(ex, a.dk_pre.data(), dkc, cs, sn, Bq, Tq, KV, hd, ks, Tc);
    copy_rows(ex, a.dv_new.data(), (size_t)Tq * KD, dvc + (size_t)Tc * KD, (size_t)ks * KD, (size_t)Tq * KD, Bq);
    mm_bwd(ex, a.dln.data(), Lg.k, (T*)nullptr, a.dk_pre.data(), ln1, Lw.k, M, D, KD);
    mm_bwd(ex, a.dln.data(), Lg.v, (T*)nullptr, a.dv_new.data(), ln1, Lw.v, M, D, KD);
    rms_bwd(ex, a.dres.data(), Lg.ln1, a.dln.data(), x, Lw.ln1, a.rstd1.data() + (size_t)l * M, M, D);
    (void)MK;
  }
  copy(ex, dx0, a.dres.data(), MD);
}

// ---------------------------------------------------------------------------------------------------------------
// the model

template <typename T> void SelectDevice(Exec& ex, bool cuda) {
  ex.cuda = false;
  if (!cuda) return;
  if (!std::is_same_v<T, float>) throw Pi0Error("device cuda: only the float model runs on the GPU");
  const cuda::DeviceInfo d = cuda::Query();
  if (d.count == 0) throw Pi0Error("device cuda: " + d.error);
  UseManagedMemory();
  ex.cuda = true;
}

template <typename T>
Pi0<T>::Pi0(const Config& cfg, uint64_t seed, bool fast, int threads, bool cuda) : cfg_(cfg) {
  SelectDevice<T>(exec_, cuda);
  BuildLayout<T>(cfg_, nullptr, &w_, &spec_);
  size_t n = spec_.back().offset + spec_.back().size;
  params_.assign(n, T(0));
  grads_.assign(n, T(0));
  m_.assign(n, T(0));
  v_.assign(n, T(0));
  BuildLayout<T>(cfg_, params_.data(), &w_, nullptr);
  BuildLayout<T>(cfg_, grads_.data(), &g_, nullptr);
  InitParams(spec_, seed, params_.data());
  pool_ = std::make_unique<ThreadPool>(threads);
  exec_.fast = fast;
  exec_.pool = pool_.get();
  SetBlasThreads(1);  // the pool splits GEMMs itself (fast.h)
}

template <typename T> void Pi0<T>::zero_grad() { zero(exec_, grads_); }

template <typename T> void Pi0<T>::set_threads(int n) {
  pool_ = std::make_unique<ThreadPool>(n);
  exec_.pool = pool_.get();
  SetBlasThreads(1);  // the pool splits GEMMs itself (fast.h)
}

// Prefix pad mask (image mask broadcast to each camera's Np tokens, then the token mask), the bidirectional
// prefix mask M[i,j] = pad[i] && pad[j], positions cumsum(pad) - 1 and their RoPE tables.
template <typename T> void Pi0<T>::prefix_setup(const ObsInput& in) {
  const Config& c = cfg_;
  const int B = in.B, C = c.num_cameras, Np = c.patches(), P = c.prefix_len(), Lt = c.max_token_len;
  const int half = c.head_dim / 2;
  auto& a = pre_;
  a.B = B;
  size_t nimg = (size_t)B * C * c.image_size * c.image_size * 3;
  resize(a.images, nimg);
  for (size_t i = 0; i < nimg; i++) a.images[i] = T(in.images[i]);
  resize(a.pad, (size_t)B * P);
  resize(a.npad, (size_t)B);
  resize(a.mask, (size_t)B * P * P);
  resize(a.cs, (size_t)B * P * half);
  resize(a.sn, (size_t)B * P * half);
  std::vector<int> pos(P);
  for (int b = 0; b < B; b++) {
    uint8_t* pad = a.pad.data() + (size_t)b * P;
    for (int cam = 0; cam < C; cam++)
      for (int n = 0; n < Np; n++) pad[cam * Np + n] = in.image_mask[b * C + cam] ? 1 : 0;
    for (int t = 0; t < Lt; t++) pad[C * Np + t] = in.token_mask[b * Lt + t] ? 1 : 0;
    int cum = 0;
    for (int i = 0; i < P; i++) {
      cum += pad[i];
      pos[i] = cum - 1;
    }
    a.npad[b] = cum;
    for (int i = 0; i < P; i++)
      for (int j = 0; j < P; j++) a.mask[((size_t)b * P + i) * P + j] = pad[i] && pad[j];
    RopeTables(pos.data(), P, c.head_dim, a.cs.data() + (size_t)b * P * half, a.sn.data() + (size_t)b * P * half);
  }
  AllocVit(a.vit, c, B * C, true);
  AllocStack(a.stack, c, c.depth, c.l_width, c.l_mlp, B, P, P, true);
  AllocCache(a.cache, c, B, P);
  AllocCache(a.dcache, c, B, P);
  resize(a.dx0, (size_t)B * P * c.l_width);
}

template <typename T> void Pi0<T>::prefix_forward() {
  const Config& c = cfg_;
  auto& a = pre_;
  const int B = a.B, C = c.num_cameras, Np = c.patches(), P = c.prefix_len(), Lt = c.max_token_len, Dl = c.l_width;
  VitForward(exec_, c, w_, a.vit, a.images.data());
  T* x0 = a.stack.x.data();
  for (int b = 0; b < B; b++)
    copy(exec_, x0 + (size_t)b * P * Dl, a.vit.proj.data() + (size_t)b * C * Np * Dl, (size_t)C * Np * Dl);
  // language tokens: table[id] * sqrt(width), the factor cast to the table dtype as JAX does
  const T scale = T(std::sqrt((double)Dl));
  for (int b = 0; b < B; b++)
    ref::embedding_forward(x0 + ((size_t)b * P + C * Np) * Dl, tokens_.data() + (size_t)b * Lt, w_.embed, Lt, Dl,
                           scale);
  StackForward(exec_, c, w_.llm, Dl, c.l_mlp, a.stack, a.cache, 0, a.mask.data(), a.cs.data(), a.sn.data(), true);
}

template <typename T> void Pi0<T>::prefix_backward() {
  const Config& c = cfg_;
  auto& a = pre_;
  const int B = a.B, C = c.num_cameras, Np = c.patches(), P = c.prefix_len(), Lt = c.max_token_len, Dl = c.l_width;
  StackBackward(exec_, c, w_.llm, g_.llm, Dl, c.l_mlp, a.stack, a.cache, a.dcache, 0, a.mask.data(), a.cs.data(),
                a.sn.data(), true, (const T*)nullptr, a.dx0.data());
  for (int b = 0; b < B; b++)
    copy(exec_, a.vit.dproj.data() + (size_t)b * C * Np * Dl, a.dx0.data() + (size_t)b * P * Dl, (size_t)C * Np * Dl);
  const T scale = T(std::sqrt((double)Dl));
  for (int b = 0; b < B; b++)
    ref::embedding_backward(g_.embed, a.dx0.data() + ((size_t)b * P + C * Np) * Dl, tokens_.data() + (size_t)b * Lt,
                            Lt, Dl, scale);
  VitBackward(exec_, c, w_, g_, a.vit);
}

// Suffix pass over Tq tokens starting at suffix index s0 (0 = state, 1.. = actions) for R*B sequences, with Tc
// cached key rows (the prefix, plus the state when s0 = 1). ar_mask cumsum: prefix 0, state 1, actions 2; a suffix
// query attends to valid prefix keys and to suffix keys whose block is <= its own. Positions continue the prefix's.
template <typename T>
void Pi0<T>::suffix_setup(SuffixActs<T>& s, const ObsInput& in, int R, int Tq, int Tc, int s0, bool grads) {
  const Config& c = cfg_;
  const int B = in.B, Bq = R * B, P = c.prefix_len(), Tk = Tc + Tq, half = c.head_dim / 2, Ha = c.action_horizon;
  const int De = c.e_width;
  s.Bq = Bq;
  s.Tq = Tq;
  s.Tc = Tc;
  resize(s.mask, (size_t)Bq * Tq * Tk);
  resize(s.cs, (size_t)Bq * Tq * half);
  resize(s.sn, (size_t)Bq * Tq * half);
  std::vector<int> pos(Tq);
  auto block = [](int si) { return si == 0 ? 1 : 2; };
  for (int bq = 0; bq < Bq; bq++) {
    const int b = bq % B;
    for (int t = 0; t < Tq; t++) {
      uint8_t* m = s.mask.data() + ((size_t)bq * Tq + t) * Tk;
      for (int j = 0; j < Tk; j++) m[j] = j < P ? pre_.pad[(size_t)b * P + j] : block(j - P) <= block(s0 + t);
      pos[t] = pre_.npad[b] + s0 + t;
    }
    RopeTables(pos.data(), Tq, c.head_dim, s.cs.data() + (size_t)bq * Tq * half, s.sn.data() + (size_t)bq * Tq * half);
  }
  resize(s.state_in, (size_t)Bq * c.state_dim);
  for (int bq = 0; bq < Bq; bq++)
    for (int d = 0; d < c.state_dim; d++) s.state_in[(size_t)bq * c.state_dim + d] = T(in.state[(bq % B) * c.state_dim + d]);
  resize(s.state_tok, (size_t)Bq * De);
  const size_t MA = (size_t)Bq * Ha;
  resize(s.xt, MA * c.action_dim);
  resize(s.temb, (size_t)Bq * De);
  resize(s.cfg_idx, (size_t)Bq);
  resize(s.ain, MA * De);
  resize(s.fuse_in, MA * 2 * De);
  resize(s.fuse_h, MA * De);
  resize(s.fuse_s, MA * De);
  resize(s.act_tok, MA * De);
  AllocStack(s.stack, c, c.depth, De, c.e_mlp, Bq, Tq, Tk, grads);
  resize(s.yin, MA * De);
  resize(s.y, MA * De);
  resize(s.yrstd, MA);
  resize(s.v, MA * c.action_dim);
  if (grads) {
    resize(s.dv, MA * c.action_dim);
    resize(s.dy, MA * De);
    resize(s.dyin, MA * De);
    resize(s.dx0, (size_t)Bq * Tq * De);
    resize(s.dstate, (size_t)Bq * De);
    resize(s.dact, MA * De);
    resize(s.dfuse_s, MA * De);
    resize(s.dfuse_h, MA * De);
    resize(s.dfuse_in, MA * 2 * De);
  }
}

template <typename T> void Pi0<T>::state_tokens_forward(SuffixActs<T>& s) {
  mm_fwd(exec_, s.state_tok.data(), s.state_in.data(), w_.state_w, w_.state_b, s.Bq, cfg_.state_dim, cfg_.e_width);
}

// action tokens = action_time_mlp_out(silu(action_time_mlp_in(concat(action_in_proj(x_t), time_emb(t))))) +
// cfg_embedding[cfg index]; reads s.xt, s.cfg_idx and t per sequence.
// On the GPU with one t for every sequence (the sampler) this is launches only, so a CUDA graph can capture it.
template <typename T> void Pi0<T>::action_tokens_forward(SuffixActs<T>& s, const double* t_seq) {
  const int Bq = s.Bq, Ha = cfg_.action_horizon, De = cfg_.e_width, A = cfg_.action_dim, MA = Bq * Ha;
#if RIPTIDE_HAVE_CUDA
  if constexpr (std::is_same_v<T, float>)
    if (exec_.cuda) {
      if (std::all_of(t_seq, t_seq + Bq, [&](double t) { return t == t_seq[0]; }))
        cuda::time_embedding(s.temb.data(), t_seq[0], Bq, De);
      else
        for (int bq = 0; bq < Bq; bq++) TimeEmbedding(t_seq[bq], De, s.temb.data() + (size_t)bq * De);
      mm_fwd(exec_, s.ain.data(), s.xt.data(), w_.ain_w, w_.ain_b, MA, A, De);
      cuda::concat_time(s.fuse_in.data(), s.ain.data(), s.temb.data(), MA, Ha, De);
      mm_fwd(exec_, s.fuse_h.data(), s.fuse_in.data(), w_.tin_w, w_.tin_b, MA, 2 * De, De);
      silu_fwd(exec_, s.fuse_s.data(), s.fuse_h.data(), (size_t)MA * De);
      mm_fwd(exec_, s.act_tok.data(), s.fuse_s.data(), w_.tout_w, w_.tout_b, MA, De, De);
      cuda::add_cfg_rows(s.act_tok.data(), w_.cfg, s.cfg_idx.data(), MA, Ha, De);
      return;
    }
#endif
  for (int bq = 0; bq < Bq; bq++) TimeEmbedding(t_seq[bq], De, s.temb.data() + (size_t)bq * De);
  mm_fwd(exec_, s.ain.data(), s.xt.data(), w_.ain_w, w_.ain_b, MA, A, De);
  for (int r = 0; r < MA; r++) {
    T* f = s.fuse_in.data() + (size_t)r * 2 * De;
    std::copy(s.ain.begin() + (size_t)r * De, s.ain.begin() + (size_t)(r + 1) * De, f);
    std::copy(s.temb.begin() + (size_t)(r / Ha) * De, s.temb.begin() + (size_t)(r / Ha + 1) * De, f + De);
  }
  mm_fwd(exec_, s.fuse_h.data(), s.fuse_in.data(), w_.tin_w, w_.tin_b, MA, 2 * De, De);
  silu_fwd(exec_, s.fuse_s.data(), s.fuse_h.data(), (size_t)MA * De);
  mm_fwd(exec_, s.act_tok.data(), s.fuse_s.data(), w_.tout_w, w_.tout_b, MA, De, De);
  for (int r = 0; r < MA; r++) {
    const T* e = w_.cfg + (size_t)s.cfg_idx[r / Ha] * De;
    T* o = s.act_tok.data() + (size_t)r * De;
    for (int d = 0; d < De; d++) o[d] += e[d];
  }
}

// final AE norm over the action rows of the stack output (rows act_row0 .. act_row0+Ha of each sequence), then
// action_out_proj -> s.v (Bq*Ha, A)
template <typename T> void Pi0<T>::head_forward(SuffixActs<T>& s, int act_row0) {
  const int Bq = s.Bq, Tq = s.Tq, Ha = cfg_.action_horizon, De = cfg_.e_width, MA = Bq * Ha;
  const T* xL = s.stack.x.data() + (size_t)cfg_.depth * Bq * Tq * De;
  copy_rows(exec_, s.yin.data(), (size_t)Ha * De, xL + (size_t)act_row0 * De, (size_t)Tq * De, (size_t)Ha * De, Bq);
  rms_fwd(exec_, s.y.data(), s.yrstd.data(), s.yin.data(), w_.ae_norm, MA, De);
  mm_fwd(exec_, s.v.data(), s.y.data(), w_.aout_w, w_.aout_b, MA, De, cfg_.action_dim);
}

template <typename T> void Pi0<T>::copy_prefix_cache(KVCache<T>& dst) {
  const Config& c = cfg_;
  const int B = pre_.B, P = c.prefix_len(), KD = c.num_kv_heads * c.head_dim;
  // per layer and branch: the B prefix caches (P rows each) into the first P of dst's rows for sequences r*B + b
  for (int l = 0; l < c.depth; l++)
    for (int r = 0; r < dst.B / B; r++) {
      const size_t so = (size_t)l * B * P * KD, dof = ((size_t)l * dst.B + (size_t)r * B) * dst.rows * KD;
      const size_t sp = (size_t)P * KD, dp = (size_t)dst.rows * KD;
      copy_rows(exec_, dst.k.data() + dof, dp, pre_.cache.k.data() + so, sp, sp, B);
      copy_rows(exec_, dst.v.data() + dof, dp, pre_.cache.v.data() + so, sp, sp, B);
    }
}

template <typename T> void Pi0<T>::set_tokens(const ObsInput& in) {
  tokens_.assign(in.tokens, in.tokens + (size_t)in.B * cfg_.max_token_len);
}

template <typename T> LossOutput Pi0<T>::loss(const LossInput& in) {
  const Config& c = cfg_;
  const int B = in.B, R = in.uncond_weight > 0 ? 2 : 1, Bq = R * B, P = c.prefix_len(), S = c.suffix_len();
  const int Ha = c.action_horizon, A = c.action_dim, De = c.e_width, MA = Bq * Ha;
  set_tokens(in);
  prefix_setup(in);
  auto& s = suf_;
  suffix_setup(s, in, R, S, P, 0, in.backward);
  AllocCache(s.cache, c, Bq, P + S);
  if (in.backward) AllocCache(s.dcache, c, Bq, P + S);

  // noise eps and time t: given, or drawn from the seed (noise first, then time)
  Rng rng(in.seed);
  std::vector<double> eps((size_t)B * Ha * A), tb(B), tseq(Bq);
  for (size_t i = 0; i < eps.size(); i++) eps[i] = in.noise ? in.noise[i] : rng.normal();
  for (int b = 0; b < B; b++) tb[b] = in.time ? in.time[b] : 0.999 * rng.beta_a1(1.5) + 0.001;
  // x_t = t eps + (1 - t) A (t = 1 is noise), target u = eps - A; the unconditional branch shares eps and t
  std::vector<double> u((size_t)B * Ha * A);
  for (int bq = 0; bq < Bq; bq++) {
    const int b = bq % B;
    tseq[bq] = tb[b];
    s.cfg_idx[bq] = bq < B ? (in.is_positive ? (in.is_positive[b] ? 1 : 0) : 1) : 0;
    for (int i = 0; i < Ha * A; i++) {
      size_t k = (size_t)b * Ha * A + i;
      s.xt[(size_t)bq * Ha * A + i] = T(tb[b] * eps[k] + (1.0 - tb[b]) * in.actions[k]);
      if (bq < B) u[k] = eps[k] - in.actions[k];
    }
  }

  prefix_forward();
  copy_prefix_cache(s.cache);
  state_tokens_forward(s);
  action_tokens_forward(s, tseq.data());
  T* x0 = s.stack.x.data();  // per sequence: the state token, then the Ha action tokens
  copy_rows(exec_, x0, (size_t)S * De, s.state_tok.data(), (size_t)De, (size_t)De, Bq);
  copy_rows(exec_, x0 + De, (size_t)S * De, s.act_tok.data(), (size_t)Ha * De, (size_t)Ha * De, Bq);
  StackForward(exec_, c, w_.ae, De, c.e_mlp, s.stack, s.cache, P, s.mask.data(), s.cs.data(), s.sn.data(), false);
  head_forward(s, 1);

  // per-sample mean over valid (step, dim) of (v - u)^2; L = mean_b(w_b L_cond_b) + alpha mean_b(L_uncond_b)
  LossOutput out;
  out.cond.assign(B, 0.0);
  if (R == 2) out.uncond.assign(B, 0.0);
  if (in.backward) zero(exec_, s.dv);
  for (int bq = 0; bq < Bq; bq++) {
    const int b = bq % B;
    int count = 0;
    for (int h = 0; h < Ha; h++)
      if (!(in.action_is_pad && in.action_is_pad[b * Ha + h]))
        for (int d = 0; d < A; d++) count += !in.dim_mask || in.dim_mask[d];
    double sum = 0;
    const double coef = bq < B ? (in.weights ? in.weights[b] : 1.0) / B : in.uncond_weight / B;
    for (int h = 0; h < Ha; h++) {
      if (in.action_is_pad && in.action_is_pad[b * Ha + h]) continue;
      for (int d = 0; d < A; d++) {
        if (in.dim_mask && !in.dim_mask[d]) continue;
        size_t k = ((size_t)b * Ha + h) * A + d, kq = ((size_t)bq * Ha + h) * A + d;
        double e = double(s.v[kq]) - u[k];
        sum += e * e;
        if (in.backward) s.dv[kq] = T(coef * 2.0 * e / count);
      }
    }
    double lb = count ? sum / count : 0.0;
    if (bq < B) out.cond[b] = lb;
    else out.uncond[b] = lb;
    out.loss += coef * lb;
  }
  if (!in.backward) return out;

  // ---- backward: head -> AE stack -> suffix tokens; prefix K/V grads -> VLM stack -> embeddings, SigLIP
  zero(exec_, s.dy);
  mm_bwd(exec_, s.dy.data(), g_.aout_w, g_.aout_b, s.dv.data(), s.y.data(), w_.aout_w, MA, De, A);
  zero(exec_, s.dyin);
  rms_bwd(exec_, s.dyin.data(), g_.ae_norm, s.dy.data(), s.yin.data(), w_.ae_norm, s.yrstd.data(), MA, De);
  zero(exec_, s.dx0);
  copy_rows(exec_, s.dx0.data() + De, (size_t)S * De, s.dyin.data(), (size_t)Ha * De, (size_t)Ha * De, Bq);
  zero(exec_, s.dcache.k);
  zero(exec_, s.dcache.v);
  StackBackward(exec_, c, w_.ae, g_.ae, De, c.e_mlp, s.stack, s.cache, s.dcache, P, s.mask.data(), s.cs.data(),
                s.sn.data(), false, s.dx0.data(), s.dx0.data());
  copy_rows(exec_, s.dstate.data(), (size_t)De, s.dx0.data(), (size_t)S * De, (size_t)De, Bq);
  copy_rows(exec_, s.dact.data(), (size_t)Ha * De, s.dx0.data() + De, (size_t)S * De, (size_t)Ha * De, Bq);
  mm_bwd(exec_, (T*)nullptr, g_.state_w, g_.state_b, s.dstate.data(), s.state_in.data(), w_.state_w, Bq,
         c.state_dim, De);
  bool cfg_grad_done = false;
#if RIPTIDE_HAVE_CUDA
  if constexpr (std::is_same_v<T, float>)
    if (exec_.cuda) cuda::cfg_grad(g_.cfg, s.dact.data(), s.cfg_idx.data(), MA, Ha, De), cfg_grad_done = true;
#endif
  for (int r = 0; r < MA && !cfg_grad_done; r++) {
    T* ge = g_.cfg + (size_t)s.cfg_idx[r / Ha] * De;
    const T* d = s.dact.data() + (size_t)r * De;
    for (int k = 0; k < De; k++) ge[k] += d[k];
  }
  zero(exec_, s.dfuse_s);
  mm_bwd(exec_, s.dfuse_s.data(), g_.tout_w, g_.tout_b, s.dact.data(), s.fuse_s.data(), w_.tout_w, MA, De, De);
  zero(exec_, s.dfuse_h);
  silu_bwd(exec_, s.dfuse_h.data(), s.dfuse_s.data(), s.fuse_h.data(), (size_t)MA * De);
  zero(exec_, s.dfuse_in);
  mm_bwd(exec_, s.dfuse_in.data(), g_.tin_w, g_.tin_b, s.dfuse_h.data(), s.fuse_in.data(), w_.tin_w, MA, 2 * De, De);
  // the action half of concat(action, time); time has no parameters upstream
  copy_rows(exec_, s.dact.data(), (size_t)De, s.dfuse_in.data(), (size_t)2 * De, (size_t)De, MA);
  mm_bwd(exec_, (T*)nullptr, g_.ain_w, g_.ain_b, s.dact.data(), s.xt.data(), w_.ain_w, MA, A, De);

  // prefix K/V grads from every branch (sequence bq reads prefix b = bq % B)
  const int KD = c.num_kv_heads * c.head_dim;
  zero(exec_, pre_.dcache.k);
  zero(exec_, pre_.dcache.v);
  for (int l = 0; l < c.depth; l++)
    for (int bq = 0; bq < Bq; bq++) {
      size_t so = ((size_t)l * Bq + bq) * (P + S) * KD, dof = ((size_t)l * B + bq % B) * P * KD;
      add_into(exec_, pre_.dcache.k.data() + dof, s.dcache.k.data() + so, (size_t)P * KD);
      add_into(exec_, pre_.dcache.v.data() + dof, s.dcache.v.data() + so, (size_t)P * KD);
    }
  prefix_backward();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// AdamW (fp32 masters): g = grad * gradScale * clip; m, v bias-corrected; decoupled weight decay on matrices only.

template <typename T>
static void AdamWRange(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, size_t n, T lr, T wd,
                       T gs, T b1, T b2, T eps, T ibc1, T ibc2) {
  for (size_t i = 0; i < n; i++) {
    T gi = g[i] * gs;
    m[i] = b1 * m[i] + (T(1) - b1) * gi;
    v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
    p[i] -= lr * ((m[i] * ibc1) / (std::sqrt(v[i] * ibc2) + eps) + wd * p[i]);
  }
}

// The sum of squares of the gradients, in a fixed order whatever the thread count.
template <typename T> double GradSumSquares(const Exec& ex, const T* grads, size_t n) {
#if RIPTIDE_HAVE_CUDA
  if constexpr (std::is_same_v<T, float>)
    if (ex.cuda) return cuda::SumSquares(grads, n);
#endif
  const size_t nchunks = 64, per = (n + nchunks - 1) / nchunks;
  std::vector<double> partial(nchunks, 0.0);
  ex.pool->parallel_for(nchunks, [&](size_t lo, size_t hi) {
    for (size_t ch = lo; ch < hi; ch++) {
      double ss = 0;
      for (size_t i = ch * per; i < std::min(n, (ch + 1) * per); i++) ss += double(grads[i]) * double(grads[i]);
      partial[ch] = ss;
    }
  });
  double ss = 0;
  for (double x : partial) ss += x;
  return ss;
}

template <typename T>
double AdamWStep(const Exec& ex, const std::vector<ParamEntry>& spec, T* params, const T* grads, T* m, T* v,
                 size_t n, int64_t step, const AdamWConfig& o) {
  const double norm = std::sqrt(GradSumSquares(ex, grads, n)) * std::fabs(o.grad_scale);
  const double clip = (o.clip_norm > 0 && norm > o.clip_norm) ? o.clip_norm / (norm + 1e-6) : 1.0;
  const double bc1 = 1.0 - std::pow(o.beta1, (double)step), bc2 = 1.0 - std::pow(o.beta2, (double)step);
  const T gs = T(o.grad_scale * clip), b1 = T(o.beta1), b2 = T(o.beta2), eps = T(o.eps);
  const T ibc1 = T(1.0 / bc1), ibc2 = T(1.0 / bc2);
  auto lr_of = [&](const ParamEntry& e) { return T(e.header ? o.lr_header : o.lr_model); };
  auto wd_of = [&](const ParamEntry& e) { return e.shape.size() >= 2 ? T(o.weight_decay) : T(0); };  // not norms, biases
#if RIPTIDE_HAVE_CUDA
  if constexpr (std::is_same_v<T, float>)
    if (ex.cuda) {
      std::vector<cuda::AdamSegment> segs;
      for (const auto& e : spec) segs.push_back({e.offset, e.size, lr_of(e), wd_of(e)});
      cuda::AdamW(segs, params, grads, m, v, gs, b1, b2, eps, ibc1, ibc2);
      return norm;
    }
#endif
  // Fixed chunks (not one per thread) so the result is the same for any thread count.
  const size_t nchunks = 64, per = (n + nchunks - 1) / nchunks;
  // the same fixed chunks over the flat slab; each chunk walks the tensors it overlaps (their group and decay)
  ex.pool->parallel_for(nchunks, [&](size_t clo, size_t chi) {
    for (size_t ch = clo; ch < chi; ch++) {
      const size_t lo = ch * per, hi = std::min(n, (ch + 1) * per);
      auto it = std::upper_bound(spec.begin(), spec.end(), lo,
                                 [](size_t off, const ParamEntry& e) { return off < e.offset; });
      for (--it; it != spec.end() && it->offset < hi; ++it) {
        const size_t a = std::max(lo, it->offset), b = std::min(hi, it->offset + it->size);
        AdamWRange(params + a, grads + a, m + a, v + a, b - a, lr_of(*it), wd_of(*it), gs, b1, b2, eps, ibc1, ibc2);
      }
    }
  });
  return norm;
}

template <typename T> double Pi0<T>::optimizer_step(const AdamWConfig& o) {
  return AdamWStep(exec_, spec_, params_.data(), grads_.data(), m_.data(), v_.data(), params_.size(), ++step_, o);
}

// ---------------------------------------------------------------------------------------------------------------
// Flow sampler: prefix once, state token K/V once (it depends on neither t nor x), then num_steps Euler steps from
// t = 1 (noise) to 0 with dt = -1/num_steps; with cfg_scale != 1 both branches run batched as 2B sequences.

template <typename T> void Pi0<T>::sample(const SampleInput& in, float* out, bool use_cache) {
  const Config& c = cfg_;
  const int B = in.B, R = in.cfg_scale != 1.0 ? 2 : 1, Bq = R * B, P = c.prefix_len(), Ha = c.action_horizon;
  const int A = c.action_dim, De = c.e_width, HA = Ha * A;
  const double dt = -1.0 / in.num_steps;
  std::vector<double> x((size_t)B * HA), vel((size_t)B * HA);
  for (size_t i = 0; i < x.size(); i++) x[i] = in.noise[i];
  std::vector<double> tseq(Bq);
  set_tokens(in);
  prefix_setup(in);
  if (use_cache) {
    prefix_forward();
    auto& s = suf_;
    AllocCache(s.cache, c, Bq, P + 1 + Ha);
    copy_prefix_cache(s.cache);
    suffix_setup(state_, in, R, 1, P, 0, false);
    state_tokens_forward(state_);
    copy(exec_, state_.stack.x.data(), state_.state_tok.data(), state_.state_tok.size());
    StackForward(exec_, c, w_.ae, De, c.e_mlp, state_.stack, s.cache, P, state_.mask.data(), state_.cs.data(),
                 state_.sn.data(), true);
    suffix_setup(s, in, R, Ha, P + 1, 1, false);
    for (int bq = 0; bq < Bq; bq++) s.cfg_idx[bq] = bq < B ? 1 : 0;
    if (exec_.cuda) return flow_cuda(in, out);
    for (int k = 0; k < in.num_steps; k++) {
      const double t = 1.0 + k * dt;
      for (int bq = 0; bq < Bq; bq++) {
        tseq[bq] = t;
        for (int i = 0; i < HA; i++) s.xt[(size_t)bq * HA + i] = T(x[(size_t)(bq % B) * HA + i]);
      }
      action_tokens_forward(s, tseq.data());
      copy(exec_, s.stack.x.data(), s.act_tok.data(), s.act_tok.size());
      StackForward(exec_, c, w_.ae, De, c.e_mlp, s.stack, s.cache, P + 1, s.mask.data(), s.cs.data(), s.sn.data(),
                   false);
      head_forward(s, 0);
      for (size_t i = 0; i < (size_t)B * HA; i++) {
        double vp = s.v[i];
        vel[i] = R == 2 ? double(s.v[(size_t)B * HA + i]) + in.cfg_scale * (vp - double(s.v[(size_t)B * HA + i])) : vp;
      }
      for (size_t i = 0; i < x.size(); i++) x[i] += dt * vel[i];
    }
  } else {
    VitForward(exec_, c, w_, pre_.vit, pre_.images.data());
    std::vector<T> xs(x.size()), vp, vu;
    for (int k = 0; k < in.num_steps; k++) {
      const double t = 1.0 + k * dt;
      for (size_t i = 0; i < x.size(); i++) xs[i] = T(x[i]);
      joint_velocity(in, xs, t, 1, vp);
      if (R == 2) joint_velocity(in, xs, t, 0, vu);
      for (size_t i = 0; i < x.size(); i++)
        vel[i] = R == 2 ? double(vu[i]) + in.cfg_scale * (double(vp[i]) - double(vu[i])) : double(vp[i]);
      for (size_t i = 0; i < x.size(); i++) x[i] += dt * vel[i];
    }
  }
  for (size_t i = 0; i < x.size(); i++) out[i] = float(x[i]);
}

// sample()'s Euler steps on the GPU, after the prefix and state passes: x_t stays on the device in float (the CPU
// keeps it in double), and the steps are launches only, captured once into a CUDA graph per shape and replayed.
// A capture that fails leaves the steps running one launch at a time, with one line saying so.
template <typename T> void Pi0<T>::flow_cuda(const SampleInput& in, float* out) {
#if RIPTIDE_HAVE_CUDA
  if constexpr (std::is_same_v<T, float>) {
    const Config& c = cfg_;
    auto& s = suf_;
    const int B = in.B, R = in.cfg_scale != 1.0 ? 2 : 1, Bq = R * B, P = c.prefix_len(), De = c.e_width;
    const size_t HA = (size_t)c.action_horizon * c.action_dim;
    const double dt = -1.0 / in.num_steps;
    resize(flow_x_, (size_t)B * HA);
    std::copy(in.noise, in.noise + (size_t)B * HA, flow_x_.begin());  // no kernel is in flight here
    std::vector<double> tseq(Bq);
    auto steps = [&] {
      for (int k = 0; k < in.num_steps; k++) {
        std::fill(tseq.begin(), tseq.end(), 1.0 + k * dt);
        cuda::broadcast_rows(s.xt.data(), flow_x_.data(), B, Bq, HA);
        action_tokens_forward(s, tseq.data());
        copy(exec_, s.stack.x.data(), s.act_tok.data(), s.act_tok.size());
        StackForward(exec_, c, w_.ae, De, c.e_mlp, s.stack, s.cache, P + 1, s.mask.data(), s.cs.data(), s.sn.data(),
                     false);
        head_forward(s, 0);
        cuda::euler_step(flow_x_.data(), s.v.data(), (size_t)B * HA, R == 2, float(in.cfg_scale), float(dt));
      }
    };
    uint64_t scale_bits;
    std::memcpy(&scale_bits, &in.cfg_scale, sizeof scale_bits);
    auto addr = [](const void* p) { return (uint64_t)(uintptr_t)p; };
    const std::vector<uint64_t> key{(uint64_t)B, (uint64_t)in.num_steps, scale_bits, addr(flow_x_.data()),
                                    addr(s.xt.data()), addr(s.stack.x.data()), addr(s.stack.att.data()),
                                    addr(s.cache.k.data()), addr(s.cache.v.data()), addr(s.mask.data()),
                                    addr(s.cs.data()), addr(s.temb.data()), addr(s.act_tok.data()), addr(s.v.data())};
    if (flow_graph_broken_) {
      steps();
    } else {
      if (flow_graph_.key != key) {
        try {
          cuda::Capture(flow_graph_, steps);
          flow_graph_.key = key;
        } catch (const Pi0Error& e) {
          flow_graph_broken_ = true;
          std::fprintf(stderr, "riptide: CUDA graph capture of the flow steps failed (%s); running them launch by launch\n",
                       e.what());
          steps();
        }
      }
      if (!flow_graph_broken_) cuda::Replay(flow_graph_);
    }
    std::copy(flow_x_.begin(), flow_x_.end(), out);
  }
#else
  (void)in;
  (void)out;
#endif
}

// The literal pi0.md §1.4 joint forward, reference loops only: N = P + S tokens per sample, each routed to its
// expert by position, one attention over all N under the full cumulative block mask M (B, N, N).
// Needs prefix_setup() and VitForward() done. Returns v (B*Ha, A).
template <typename T>
void Pi0<T>::joint_velocity(const ObsInput& in, const std::vector<T>& x, double t, int cfg_index, std::vector<T>& v) {
  const Config& c = cfg_;
  const int B = in.B, C = c.num_cameras, Np = c.patches(), P = c.prefix_len(), S = c.suffix_len(), N = P + S;
  const int Ha = c.action_horizon, A = c.action_dim, Dl = c.l_width, De = c.e_width, Lt = c.max_token_len;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim, QD = H * hd, KD = KV * hd, half = hd / 2;
  // inputs of both streams
  std::vector<T> hP((size_t)B * P * Dl), hS((size_t)B * S * De);
  for (int b = 0; b < B; b++)
    std::copy(pre_.vit.proj.begin() + (size_t)b * C * Np * Dl, pre_.vit.proj.begin() + (size_t)(b + 1) * C * Np * Dl,
              hP.begin() + (size_t)b * P * Dl);
  for (int b = 0; b < B; b++)
    ref::embedding_forward(hP.data() + ((size_t)b * P + C * Np) * Dl, in.tokens + (size_t)b * Lt, w_.embed, Lt, Dl,
                           T(std::sqrt((double)Dl)));
  std::vector<T> st((size_t)B * c.state_dim), stok((size_t)B * De), temb(De), ain((size_t)B * Ha * De);
  for (size_t i = 0; i < st.size(); i++) st[i] = T(in.state[i]);
  ref::matmul_forward(stok.data(), st.data(), w_.state_w, w_.state_b, B, c.state_dim, De);
  TimeEmbedding(t, De, temb.data());
  ref::matmul_forward(ain.data(), x.data(), w_.ain_w, w_.ain_b, B * Ha, A, De);
  std::vector<T> fin((size_t)B * Ha * 2 * De), fh((size_t)B * Ha * De), fs(fh.size()), ft(fh.size());
  for (int r = 0; r < B * Ha; r++) {
    std::copy(ain.begin() + (size_t)r * De, ain.begin() + (size_t)(r + 1) * De, fin.begin() + (size_t)r * 2 * De);
    std::copy(temb.begin(), temb.end(), fin.begin() + ((size_t)r * 2 + 1) * De);
  }
  ref::matmul_forward(fh.data(), fin.data(), w_.tin_w, w_.tin_b, B * Ha, 2 * De, De);
  ref::silu_forward(fs.data(), fh.data(), fs.size());
  ref::matmul_forward(ft.data(), fs.data(), w_.tout_w, w_.tout_b, B * Ha, De, De);
  for (int b = 0; b < B; b++) {
    std::copy(stok.begin() + (size_t)b * De, stok.begin() + (size_t)(b + 1) * De, hS.begin() + (size_t)b * S * De);
    for (int h = 0; h < Ha; h++)
      for (int d = 0; d < De; d++)
        hS[((size_t)b * S + 1 + h) * De + d] = ft[((size_t)b * Ha + h) * De + d] + w_.cfg[(size_t)cfg_index * De + d];
  }
  // full mask and positions over the joint sequence
  std::vector<uint8_t> pad((size_t)B * N), mask((size_t)B * N * N);
  std::vector<int> blk(N), pos(N);
  std::vector<T> cs((size_t)B * N * half), sn((size_t)B * N * half);
  for (int i = 0; i < N; i++) blk[i] = i < P ? 0 : (i == P ? 1 : 2);
  for (int b = 0; b < B; b++) {
    int cum = 0;
    for (int i = 0; i < N; i++) {
      pad[(size_t)b * N + i] = i < P ? pre_.pad[(size_t)b * P + i] : 1;
      cum += pad[(size_t)b * N + i];
      pos[i] = cum - 1;
    }
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++)
        mask[((size_t)b * N + i) * N + j] = blk[j] <= blk[i] && pad[(size_t)b * N + i] && pad[(size_t)b * N + j];
    RopeTables(pos.data(), N, hd, cs.data() + (size_t)b * N * half, sn.data() + (size_t)b * N * half);
  }
  std::vector<T> aP((size_t)B * P * Dl), aS((size_t)B * S * De), rs((size_t)B * N);
  std::vector<T> qP((size_t)B * P * QD), qS((size_t)B * S * QD), kP((size_t)B * P * KD), kS((size_t)B * S * KD);
  std::vector<T> vP(kP.size()), vS(kS.size());
  std::vector<T> Q((size_t)B * N * QD), Qr(Q.size()), K((size_t)B * N * KD), Kr(K.size()), V(K.size());
  std::vector<T> att((size_t)B * N * H * N), O(Q.size()), oP(qP.size()), oS(qS.size());
  std::vector<T> gP((size_t)B * P * c.l_mlp), uP(gP.size()), gS((size_t)B * S * c.e_mlp), uS(gS.size());
  auto join = [&](T* dst, const T* p, const T* s, int w) {
    for (int b = 0; b < B; b++) {
      std::copy(p + (size_t)b * P * w, p + (size_t)(b + 1) * P * w, dst + (size_t)b * N * w);
      std::copy(s + (size_t)b * S * w, s + (size_t)(b + 1) * S * w, dst + ((size_t)b * N + P) * w);
    }
  };
  auto mlp = [&](std::vector<T>& h, std::vector<T>& a, std::vector<T>& g, std::vector<T>& u,
                 const GemmaLayerW<T>& L, int rows, int D, int F) {
    ref::rmsnorm_forward(a.data(), rs.data(), h.data(), L.ln2, rows, D);
    ref::matmul_forward(g.data(), a.data(), L.gate, (const T*)nullptr, rows, D, F);
    ref::matmul_forward(u.data(), a.data(), L.up, (const T*)nullptr, rows, D, F);
    ref::geglu_forward(g.data(), g.data(), u.data(), (size_t)rows * F);
    ref::matmul_forward(h.data(), g.data(), L.down, (const T*)nullptr, rows, F, D, true);
  };
  for (int l = 0; l < c.depth; l++) {
    const auto &LP = w_.llm[l], &LS = w_.ae[l];
    ref::rmsnorm_forward(aP.data(), rs.data(), hP.data(), LP.ln1, B * P, Dl);
    ref::rmsnorm_forward(aS.data(), rs.data(), hS.data(), LS.ln1, B * S, De);
    ref::matmul_forward(qP.data(), aP.data(), LP.q, (const T*)nullptr, B * P, Dl, QD);
    ref::matmul_forward(kP.data(), aP.data(), LP.k, (const T*)nullptr, B * P, Dl, KD);
    ref::matmul_forward(vP.data(), aP.data(), LP.v, (const T*)nullptr, B * P, Dl, KD);
    ref::matmul_forward(qS.data(), aS.data(), LS.q, (const T*)nullptr, B * S, De, QD);
    ref::matmul_forward(kS.data(), aS.data(), LS.k, (const T*)nullptr, B * S, De, KD);
    ref::matmul_forward(vS.data(), aS.data(), LS.v, (const T*)nullptr, B * S, De, KD);
    join(Q.data(), qP.data(), qS.data(), QD);
    join(K.data(), kP.data(), kS.data(), KD);
    join(V.data(), vP.data(), vS.data(), KD);
    ref::rope_forward(Qr.data(), Q.data(), cs.data(), sn.data(), B, N, H, hd, N, 0);
    ref::rope_forward(Kr.data(), K.data(), cs.data(), sn.data(), B, N, KV, hd, N, 0);
    ref::attention_forward(O.data(), att.data(), Qr.data(), Kr.data(), V.data(), mask.data(), B, N, N, N, H, KV, hd);
    for (int b = 0; b < B; b++) {
      std::copy(O.begin() + (size_t)b * N * QD, O.begin() + ((size_t)b * N + P) * QD, oP.begin() + (size_t)b * P * QD);
      std::copy(O.begin() + ((size_t)b * N + P) * QD, O.begin() + (size_t)(b + 1) * N * QD,
                oS.begin() + (size_t)b * S * QD);
    }
    ref::matmul_forward(hP.data(), oP.data(), LP.o, (const T*)nullptr, B * P, QD, Dl, true);
    ref::matmul_forward(hS.data(), oS.data(), LS.o, (const T*)nullptr, B * S, QD, De, true);
    mlp(hP, aP, gP, uP, LP, B * P, Dl, c.l_mlp);
    mlp(hS, aS, gS, uS, LS, B * S, De, c.e_mlp);
  }
  std::vector<T> yin((size_t)B * Ha * De), y(yin.size());
  for (int b = 0; b < B; b++)
    std::copy(hS.begin() + ((size_t)b * S + 1) * De, hS.begin() + (size_t)(b + 1) * S * De,
              yin.begin() + (size_t)b * Ha * De);
  ref::rmsnorm_forward(y.data(), rs.data(), yin.data(), w_.ae_norm, B * Ha, De);
  v.assign((size_t)B * Ha * A, T(0));
  ref::matmul_forward(v.data(), y.data(), w_.aout_w, w_.aout_b, B * Ha, De, A);
}

// ---------------------------------------------------------------------------------------------------------------

#define RIPTIDE_PI0_INSTANTIATE(T)                                                                                 \
  template class Pi0<T>;                                                                                           \
  template struct SlabCarver<T>;                                                                                   \
  template void BuildLayout<T>(const Config&, T*, Weights<T>*, std::vector<ParamEntry>*);                        \
  template void BuildVlmLayout<T>(const Config&, SlabCarver<T>&, Weights<T>*);                                    \
  template void InitParams<T>(const std::vector<ParamEntry>&, uint64_t, T*);                                      \
  template double AdamWStep<T>(const Exec&, const std::vector<ParamEntry>&, T*, const T*, T*, T*, size_t, int64_t, \
                               const AdamWConfig&);                                                               \
  template void SelectDevice<T>(Exec&, bool);                                                                     \
  template void StackForward<T>(const Exec&, const Config&, const std::vector<GemmaLayerW<T>>&, int, int,         \
                                StackActs<T>&, KVCache<T>&, int, const uint8_t*, const T*, const T*, bool);       \
  template void StackBackward<T>(const Exec&, const Config&, const std::vector<GemmaLayerW<T>>&,                  \
                                 std::vector<GemmaLayerW<T>>&, int, int, StackActs<T>&, KVCache<T>&,              \
                                 KVCache<T>&, int, const uint8_t*, const T*, const T*, bool, const T*, T*);       \
  template void AllocStack<T>(StackActs<T>&, const Config&, int, int, int, int, int, int, bool);                  \
  template void AllocCache<T>(KVCache<T>&, const Config&, int, int);                                              \
  template void AllocVit<T>(VitActs<T>&, const Config&, int, bool);                                               \
  template void VitForward<T>(const Exec&, const Config&, const Weights<T>&, VitActs<T>&, const T*);              \
  template void VitBackward<T>(const Exec&, const Config&, const Weights<T>&, Weights<T>&, VitActs<T>&);          \
  template void RopeTables<T>(const int*, int, int, T*, T*);                                                      \
  template void TimeEmbedding<T>(double, int, T*);

RIPTIDE_PI0_INSTANTIATE(float)
RIPTIDE_PI0_INSTANTIATE(double)

}  // namespace riptide::pi0
