// The value model's forward, backward, loss and AdamW (see value.h for the data path). The vision tower, the LLM
// stack, the RoPE tables and AdamW are PI0's (model.h); only the token assembly, the mask and the head are here.
#include "pi0/value.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "pi0/layers.h"
#include "pi0/ops.h"

namespace riptide::pi0 {

using namespace ops;

template <typename T>
void BuildValueLayout(const Config& c, int bins, T* base, Weights<T>* w, ValueHeadW<T>* h,
                      std::vector<ParamEntry>* spec) {
  SlabCarver<T> s{base, spec};
  BuildVlmLayout(c, s, w);
  const int Dl = c.l_width;
  h->state_w = s.take("value.state_proj.weight", {Dl, c.state_dim}, Init::Normal, true);
  h->state_b = s.take("value.state_proj.bias", {Dl}, Init::Zero, true);
  // unit scale, like an embedded prompt token (embed rows are N(0, 1/Dl), times sqrt(Dl))
  h->readout = s.take("value.readout", {Dl}, Init::Normal, true);
  h->head_w = s.take("value.head.weight", {bins, Dl}, Init::Zero, true);
  h->head_b = s.take("value.head.bias", {bins}, Init::Zero, true);
}

template <typename T>
ValueModel<T>::ValueModel(const Config& cfg, int bins, uint64_t seed, bool fast, int threads, bool cuda)
    : cfg_(cfg), bins_(bins), w_{}, g_{}, hw_{}, hg_{} {
  SelectDevice<T>(exec_, cuda);
  if (bins < 2 || bins > 100000)
    throw Pi0Error("value model: bins is " + std::to_string(bins) + "; pass an integer in [2, 100000] (OpenTau: 201)");
  BuildValueLayout<T>(cfg_, bins_, nullptr, &w_, &hw_, &spec_);
  const size_t n = spec_.back().offset + spec_.back().size;
  params_.assign(n, T(0));
  grads_.assign(n, T(0));
  m_.assign(n, T(0));
  v_.assign(n, T(0));
  BuildValueLayout<T>(cfg_, bins_, params_.data(), &w_, &hw_, nullptr);
  BuildValueLayout<T>(cfg_, bins_, grads_.data(), &g_, &hg_, nullptr);
  InitParams(spec_, seed, params_.data());
  pool_ = std::make_unique<ThreadPool>(threads);
  exec_.fast = fast;
  exec_.pool = pool_.get();
  SetBlasThreads(1);  // the pool splits GEMMs itself (fast.h)
}

template <typename T> void ValueModel<T>::zero_grad() { zero(exec_, grads_); }

template <typename T> void ValueModel<T>::set_threads(int n) {
  pool_ = std::make_unique<ThreadPool>(n);
  exec_.pool = pool_.get();
  SetBlasThreads(1);
}

// Inputs in T, the pad mask (cameras, then prompt tokens; the state and readout tokens are always valid), the
// cumulative block mask, positions cumsum(pad) - 1 and their RoPE tables; activations sized for B.
template <typename T> void ValueModel<T>::setup(const ObsInput& in, bool grads) {
  const Config& c = cfg_;
  const int B = in.B, C = c.num_cameras, Np = c.patches(), Lt = c.max_token_len, P = c.prefix_len(), N = P + 2;
  const int Dl = c.l_width, Ds = c.state_dim, K = bins_, half = c.head_dim / 2;
  auto& a = a_;
  a.B = B;
  const size_t nimg = (size_t)B * C * c.image_size * c.image_size * 3;
  resize(a.images, nimg);
  for (size_t i = 0; i < nimg; i++) a.images[i] = T(in.images[i]);
  a.tokens.assign(in.tokens, in.tokens + (size_t)B * Lt);
  resize(a.state, (size_t)B * Ds);
  for (size_t i = 0; i < a.state.size(); i++) a.state[i] = T(in.state[i]);
  resize(a.mask, (size_t)B * N * N);
  resize(a.cs, (size_t)B * N * half);
  resize(a.sn, (size_t)B * N * half);
  std::vector<uint8_t> pad(N);
  std::vector<int> pos(N);
  auto block = [P](int i) { return i < P ? 0 : i - P + 1; };  // prefix 0, state 1, readout 2
  for (int b = 0; b < B; b++) {
    for (int cam = 0; cam < C; cam++)
      for (int n = 0; n < Np; n++) pad[cam * Np + n] = in.image_mask[b * C + cam] ? 1 : 0;
    for (int t = 0; t < Lt; t++) pad[C * Np + t] = in.token_mask[b * Lt + t] ? 1 : 0;
    pad[P] = pad[P + 1] = 1;
    int cum = 0;
    for (int i = 0; i < N; i++) {
      cum += pad[i];
      pos[i] = cum - 1;
    }
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++)
        a.mask[((size_t)b * N + i) * N + j] = pad[i] && pad[j] && block(j) <= block(i);
    RopeTables(pos.data(), N, c.head_dim, a.cs.data() + (size_t)b * N * half, a.sn.data() + (size_t)b * N * half);
  }
  AllocVit(a.vit, c, B * C, grads);
  AllocStack(a.stack, c, c.depth, Dl, c.l_mlp, B, N, N, grads);
  AllocCache(a.cache, c, B, N);
  resize(a.state_tok, (size_t)B * Dl);
  resize(a.yin, (size_t)B * Dl);
  resize(a.y, (size_t)B * Dl);
  resize(a.yrstd, (size_t)B);
  resize(a.logits, (size_t)B * K);
  if (grads) {
    AllocCache(a.dcache, c, B, N);
    resize(a.dlogits, (size_t)B * K);
    resize(a.dy, (size_t)B * Dl);
    resize(a.dyin, (size_t)B * Dl);
    resize(a.dx, (size_t)B * N * Dl);
    resize(a.dstate, (size_t)B * Dl);
  }
}

template <typename T> void ValueModel<T>::forward() {
  const Config& c = cfg_;
  auto& a = a_;
  const int B = a.B, C = c.num_cameras, Np = c.patches(), Lt = c.max_token_len, P = c.prefix_len(), N = P + 2;
  const int Dl = c.l_width;
  VitForward(exec_, c, w_, a.vit, a.images.data());
  mm_fwd(exec_, a.state_tok.data(), a.state.data(), hw_.state_w, hw_.state_b, B, c.state_dim, Dl);
  T* x0 = a.stack.x.data();
  const T scale = T(std::sqrt((double)Dl));  // as PI0's prefix: table[id] * sqrt(width)
  for (int b = 0; b < B; b++) {
    T* xb = x0 + (size_t)b * N * Dl;
    std::copy(a.vit.proj.begin() + (size_t)b * C * Np * Dl, a.vit.proj.begin() + (size_t)(b + 1) * C * Np * Dl, xb);
    ref::embedding_forward(xb + (size_t)C * Np * Dl, a.tokens.data() + (size_t)b * Lt, w_.embed, Lt, Dl, scale);
    std::copy(a.state_tok.begin() + (size_t)b * Dl, a.state_tok.begin() + (size_t)(b + 1) * Dl, xb + (size_t)P * Dl);
    std::copy(hw_.readout, hw_.readout + Dl, xb + (size_t)(P + 1) * Dl);
  }
  StackForward(exec_, c, w_.llm, Dl, c.l_mlp, a.stack, a.cache, 0, a.mask.data(), a.cs.data(), a.sn.data(), false);
  const T* xL = a.stack.x.data() + (size_t)c.depth * B * N * Dl;
  for (int b = 0; b < B; b++)
    std::copy(xL + ((size_t)b * N + P + 1) * Dl, xL + ((size_t)b * N + P + 2) * Dl, a.yin.begin() + (size_t)b * Dl);
  rms_fwd(exec_, a.y.data(), a.yrstd.data(), a.yin.data(), w_.llm_norm, B, Dl);
  mm_fwd(exec_, a.logits.data(), a.y.data(), hw_.head_w, hw_.head_b, B, Dl, bins_);
}

template <typename T> void ValueModel<T>::backward() {
  const Config& c = cfg_;
  auto& a = a_;
  const int B = a.B, C = c.num_cameras, Np = c.patches(), Lt = c.max_token_len, P = c.prefix_len(), N = P + 2;
  const int Dl = c.l_width;
  zero(exec_, a.dy);
  mm_bwd(exec_, a.dy.data(), hg_.head_w, hg_.head_b, a.dlogits.data(), a.y.data(), hw_.head_w, B, Dl, bins_);
  zero(exec_, a.dyin);
  rms_bwd(exec_, a.dyin.data(), g_.llm_norm, a.dy.data(), a.yin.data(), w_.llm_norm, a.yrstd.data(), B, Dl);
  zero(exec_, a.dx);
  for (int b = 0; b < B; b++)
    std::copy(a.dyin.begin() + (size_t)b * Dl, a.dyin.begin() + (size_t)(b + 1) * Dl,
              a.dx.begin() + ((size_t)b * N + P + 1) * Dl);
  zero(exec_, a.dcache.k);  // no later pass reads this one's K/V
  zero(exec_, a.dcache.v);
  StackBackward(exec_, c, w_.llm, g_.llm, Dl, c.l_mlp, a.stack, a.cache, a.dcache, 0, a.mask.data(), a.cs.data(),
                a.sn.data(), false, a.dx.data(), a.dx.data());
  const T scale = T(std::sqrt((double)Dl));
  for (int b = 0; b < B; b++) {
    const T* db = a.dx.data() + (size_t)b * N * Dl;
    std::copy(db, db + (size_t)C * Np * Dl, a.vit.dproj.begin() + (size_t)b * C * Np * Dl);
    ref::embedding_backward(g_.embed, db + (size_t)C * Np * Dl, a.tokens.data() + (size_t)b * Lt, Lt, Dl, scale);
    std::copy(db + (size_t)P * Dl, db + (size_t)(P + 1) * Dl, a.dstate.begin() + (size_t)b * Dl);
    for (int d = 0; d < Dl; d++) hg_.readout[d] += db[(size_t)(P + 1) * Dl + d];
  }
  mm_bwd(exec_, (T*)nullptr, hg_.state_w, hg_.state_b, a.dstate.data(), a.state.data(), hw_.state_w, B,
         c.state_dim, Dl);
  VitBackward(exec_, c, w_, g_, a.vit);
}

template <typename T> ValueLossOutput ValueModel<T>::loss(const ValueLossInput& in) {
  const int B = in.B, K = bins_;
  double wsum = 0;
  for (int b = 0; b < B; b++) {
    if (in.target_bin[b] < 0 || in.target_bin[b] >= K)
      throw Pi0Error("value loss: target_bin[" + std::to_string(b) + "] = " + std::to_string(in.target_bin[b]) +
                     " is outside [0, bins=" + std::to_string(K) + ")");
    const double w = in.weights ? in.weights[b] : 1.0;
    if (!(w >= 0) || !std::isfinite(w))
      throw Pi0Error("value loss: weights[" + std::to_string(b) + "] must be finite and >= 0");
    wsum += w;
  }
  if (!(wsum > 0)) throw Pi0Error("value loss: weights sum to 0; give at least one sample a positive weight");
  if (in.mse_weight > 0 && !in.target_value)
    throw Pi0Error("value loss: mse_weight > 0 needs target_value (the continuous normalised return per sample)");
  setup(in, in.backward);
  forward();

  // CE_i = logsumexp(z_i) - z_i[bin_i]; E_i = sum_k p_ik c_k; dE/dz_k = p_k (c_k - E), in double
  ValueLossOutput out;
  out.ce.assign(B, 0.0);
  out.value.assign(B, 0.0);
  std::vector<double> p(K), centre(K);
  for (int k = 0; k < K; k++) centre[k] = BinCentre(k, K);
  for (int b = 0; b < B; b++) {
    const T* z = a_.logits.data() + (size_t)b * K;
    double mx = -INFINITY, sum = 0, E = 0;
    for (int k = 0; k < K; k++) mx = std::max(mx, double(z[k]));
    for (int k = 0; k < K; k++) sum += (p[k] = std::exp(double(z[k]) - mx));
    for (int k = 0; k < K; k++) E += (p[k] /= sum) * centre[k];
    const int bin = in.target_bin[b];
    const double ce = mx + std::log(sum) - double(z[bin]);
    const double err = in.mse_weight > 0 ? E - double(in.target_value[b]) : 0.0;
    const double coef = (in.weights ? in.weights[b] : 1.0) / wsum;
    out.ce[b] = ce;
    out.value[b] = E;
    out.loss += coef * (ce + in.mse_weight * err * err);
    if (in.backward) {
      T* dz = a_.dlogits.data() + (size_t)b * K;
      for (int k = 0; k < K; k++)
        dz[k] = T(coef * (p[k] - (k == bin ? 1.0 : 0.0) + 2.0 * in.mse_weight * err * p[k] * (centre[k] - E)));
    }
  }
  if (in.backward) backward();
  return out;
}

template <typename T> void ValueModel<T>::predict(const ObsInput& in, float* logits) {
  setup(in, false);
  forward();
  for (size_t i = 0; i < a_.logits.size(); i++) logits[i] = float(a_.logits[i]);
}

template <typename T> double ValueModel<T>::optimizer_step(const AdamWConfig& o) {
  return AdamWStep(exec_, spec_, params_.data(), grads_.data(), m_.data(), v_.data(), params_.size(), ++step_, o);
}

#define RIPTIDE_VALUE_INSTANTIATE(T)                                                                            \
  template class ValueModel<T>;                                                                                 \
  template void BuildValueLayout<T>(const Config&, int, T*, Weights<T>*, ValueHeadW<T>*, std::vector<ParamEntry>*);

RIPTIDE_VALUE_INSTANTIATE(float)
RIPTIDE_VALUE_INSTANTIATE(double)

}  // namespace riptide::pi0
