// The value model for RECAP (rl-anchors.md A.2-A.3): a distributional V(o, prompt) over K return bins, built on
// PI0's vision + language stack (same Config, same tensor names, so a PI0 checkpoint initialises it by name).
//
// Data path of one loss() call (B samples, N = P + 2 tokens per sample, P = C*Np + Lt the PI0 prefix):
//   images -> SigLIP (B*C*Np tokens) -> projector --+
//   tokens -> embed * sqrt(Dl) ---------------------+-> x0 (B, N, Dl) -> LLM stack (L layers, full output)
//   state -> value.state_proj -> state token -------+     -> readout row -> llm_norm -> value.head -> logits (B, K)
//   value.readout (learned) -> readout token -------+     -> CE against the target bin (+ optional MSE of E[v])
// Attention is a cumulative block mask: images + prompt (block 0) attend bidirectionally among the valid ones, the
// state token (block 1) sees them and itself, the readout (block 2) sees all valid tokens; padding is masked.
// Bin k stands for the normalised return c_k = -1 + k/(K-1), so bins cover [-1, 0] (OpenTau's training bins).
//
// Templated on the scalar like Pi0: ValueModel<double> runs the reference loops (finite-difference checks),
// ValueModel<float> the reference or the fast path (Exec). Names: B batch, C cameras, Np patches per camera,
// Lt prompt tokens, P prefix, N = P + 2, L depth, Dl LLM width, Ds state dim, K bins.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "pi0/model.h"

namespace riptide::pi0 {

constexpr int kDefaultValueBins = 201;

// The value model's own tensors (group 'header'); the rest of the slab is PI0's VLM part (Weights<T>).
template <typename T> struct ValueHeadW {
  T *state_w, *state_b;  // (Dl, Ds), (Dl)  value.state_proj
  T* readout;            // (Dl)            value.readout: the learned readout token's embedding
  T *head_w, *head_b;    // (K, Dl), (K)    value.head
};

struct ValueLossInput : ObsInput {
  const int32_t* target_bin = nullptr;    // (B) in [0, K)
  const float* weights = nullptr;         // (B) >= 0, sum > 0; null = all 1
  const float* target_value = nullptr;    // (B) continuous target for the MSE term
  double mse_weight = 0;                  // > 0 needs target_value
  bool backward = true;
};
struct ValueLossOutput {
  double loss = 0;                // sum_i w_i (CE_i + mse_weight (E_i - target_i)^2) / sum_i w_i
  std::vector<double> ce, value;  // (B) per-sample CE (unweighted), expected value E_i = softmax(logits_i) . c
};

template <typename T> struct ValueActs {
  int B = 0;
  Buf<T> images;        // (B, C, S, S, 3)
  std::vector<int32_t> tokens;  // (B, Lt)
  Buf<T> state;         // (B, Ds)
  Buf<uint8_t> mask;            // (B, N, N)
  Buf<T> cs, sn;        // (B, N, hd/2)
  VitActs<T> vit;
  StackActs<T> stack;
  KVCache<T> cache, dcache;     // (L, B, N, KV*hd)
  Buf<T> state_tok;     // (B, Dl)
  Buf<T> yin, y, yrstd; // (B, Dl) readout's last hidden state, after llm_norm; (B)
  Buf<T> logits;        // (B, K)
  // backward
  Buf<T> dlogits;       // (B, K)
  Buf<T> dy, dyin;      // (B, Dl)
  Buf<T> dx;            // (B*N, Dl) grad of the stack output, then of its input
  Buf<T> dstate;        // (B, Dl)
};

template <typename T> class ValueModel {
 public:
  ValueModel(const Config& cfg, int bins, uint64_t seed, bool fast, int threads, bool cuda = false);  // cuda: Pi0's
  const Config& config() const { return cfg_; }
  int bins() const { return bins_; }
  // c_k = -1 + k/(K-1): the normalised return bin k stands for
  static double BinCentre(int k, int bins) { return -1.0 + double(k) / double(bins - 1); }
  const std::vector<ParamEntry>& spec() const { return spec_; }
  T* params() { return params_.data(); }
  T* grads() { return grads_.data(); }
  T* adam_m() { return m_.data(); }
  T* adam_v() { return v_.data(); }
  size_t num_params() const { return params_.size(); }
  int64_t step() const { return step_; }
  void set_step(int64_t n) { step_ = n; }
  void zero_grad();
  void set_threads(int n);
  bool fast() const { return exec_.fast; }
  bool cuda() const { return exec_.cuda; }

  ValueLossOutput loss(const ValueLossInput& in);  // accumulates into grads() when in.backward
  void predict(const ObsInput& in, float* logits);  // (B, K); no grads
  double optimizer_step(const AdamWConfig& o);      // returns the pre-clip global grad norm

 private:
  void setup(const ObsInput& in, bool grads);
  void forward();
  void backward();  // from a_.dlogits

  Config cfg_;
  int bins_;
  std::vector<ParamEntry> spec_;
  Buf<T> params_, grads_, m_, v_;
  Weights<T> w_, g_;
  ValueHeadW<T> hw_, hg_;
  int64_t step_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  Exec exec_;
  ValueActs<T> a_;
};

// The value model's layout: BuildVlmLayout, then value.state_proj, value.readout, value.head (header group; the
// head zero-initialised so the first prediction is uniform over the bins).
template <typename T>
void BuildValueLayout(const Config& c, int bins, T* base, Weights<T>* w, ValueHeadW<T>* h,
                      std::vector<ParamEntry>* spec);

}  // namespace riptide::pi0
