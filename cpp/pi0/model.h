// The PI0 model (pi0.md): config, ONE fp32 parameter slab carved into lerobot/openpi PyTorch tensors, activations
// allocated once per batch shape, forward/backward for the CFG flow-matching loss, AdamW, and the flow sampler
// with a prefix(+state) KV cache.
//
// Data path of one loss() call (B samples, R = 1 or 2 branches: conditional, and unconditional when alpha > 0):
//   images -> SigLIP (B*C*Np tokens) -> projector --+
//   tokens -> embed * sqrt(width) ------------------+-> prefix x0 (B, P) -> VLM stack (L layers) -> K/V cache (L, B, P)
//   state, x_t, t, cfg index -> state/action tokens -> suffix x0 (R*B, S) -> AE stack over [prefix K/V | own K/V]
//     -> final norm -> action_out_proj -> v (R*B, H, A) -> per-sample MSE against u = eps - A
// The prefix never attends to the suffix (cumulative block mask), so running it once and caching its post-RoPE K/V
// is exact; its K/V gradients come back from every suffix branch.
//
// Templated on the scalar: Pi0<double> runs the reference loops (finite-difference checks), Pi0<float> runs the
// reference or the fast path (Exec), or on a GPU the CUDA kernels over managed memory (Buf, buffer.h). Names: B batch, C cameras, Np patches per camera, P prefix, S = 1 + Ha suffix,
// L depth, H heads, KV kv heads, hd head dim, D width, F mlp dim, A action dim, Ds state dim.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pi0/buffer.h"
#include "pi0/config.h"
#include "pi0/cuda/cuda.h"
#include "pi0/fast.h"

namespace riptide::pi0 {

enum class Init { Normal, Zero, One };

struct ParamEntry {
  std::string name;
  std::vector<int> shape;
  size_t offset = 0, size = 0;
  bool header = false;  // group 'header' (its own learning rate) vs 'model'
  Init init = Init::Zero;
  int fan_in = 1;
};

template <typename T> struct VitLayerW {
  T *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b;  // (Dv, Dv), (Dv)
  T *ln1_w, *ln1_b, *ln2_w, *ln2_b;                   // (Dv)
  T *fc1_w, *fc1_b;                                   // (Fv, Dv), (Fv)
  T *fc2_w, *fc2_b;                                   // (Dv, Fv), (Dv)
};

template <typename T> struct GemmaLayerW {
  T* q;     // (H*hd, D)
  T* k;     // (KV*hd, D)
  T* v;     // (KV*hd, D)
  T* o;     // (D, H*hd)
  T* gate;  // (F, D)
  T* up;    // (F, D)
  T* down;  // (D, F)
  T* ln1;   // (D) input_layernorm, (1+w) form
  T* ln2;   // (D) post_attention_layernorm
};

template <typename T> struct Weights {
  T *patch_w, *patch_b;  // (Dv, 3, p, p), (Dv)
  T* pos_emb;            // (Np, Dv)
  std::vector<VitLayerW<T>> vit;
  T *post_ln_w, *post_ln_b;  // (Dv)
  T *proj_w, *proj_b;        // (Dl, Dv), (Dl)
  T* embed;                  // (V, Dl)
  std::vector<GemmaLayerW<T>> llm;
  T* llm_norm;  // (Dl), unused by pi0 (kept for checkpoint parity); the value model's final norm
  std::vector<GemmaLayerW<T>> ae;
  T* ae_norm;                    // (De)
  T *state_w, *state_b;          // (De, Ds), (De)
  T *ain_w, *ain_b;              // (De, A)
  T *tin_w, *tin_b;              // (De, 2*De)
  T *tout_w, *tout_b;            // (De, De)
  T *aout_w, *aout_b;            // (A, De), (A)
  T* cfg;                        // (2, De): index 0 unconditional, 1 positive
};

// Inputs, as the binding hands them over (validated there). Optional arrays are null.
struct ObsInput {
  int B = 0;
  const float* images = nullptr;        // (B, C, S, S, 3) HWC in [-1, 1]
  const uint8_t* image_mask = nullptr;  // (B, C)
  const int32_t* tokens = nullptr;      // (B, Lt)
  const uint8_t* token_mask = nullptr;  // (B, Lt)
  const float* state = nullptr;         // (B, Ds)
};
struct LossInput : ObsInput {
  const float* actions = nullptr;         // (B, Ha, A)
  const uint8_t* action_is_pad = nullptr; // (B, Ha)
  const uint8_t* dim_mask = nullptr;      // (A)
  const float* noise = nullptr;           // (B, Ha, A)
  const float* time = nullptr;            // (B)
  uint64_t seed = 0;
  const uint8_t* is_positive = nullptr;   // (B)
  const float* weights = nullptr;         // (B)
  double uncond_weight = 0;
  bool backward = true;
};
struct LossOutput {
  double loss = 0;
  std::vector<double> cond, uncond;
};
struct SampleInput : ObsInput {
  const float* noise = nullptr;  // (B, Ha, A)
  int num_steps = 10;
  double cfg_scale = 1;
};
struct AdamWConfig {
  double lr_model = 0, lr_header = 0, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0, clip_norm = 0,
         grad_scale = 1;
};

// A K/V cache for one stack: per layer (B, rows, KV*hd), post-RoPE K.
template <typename T> struct KVCache {
  int B = 0, rows = 0;
  Buf<T> k, v;  // (L, B, rows, KV*hd)
};

// Saved activations of one pass of Tq new tokens (Bq sequences) through a Gemma stack, plus backward scratch.
template <typename T> struct StackActs {
  int Bq = 0, Tq = 0, Tk = 0;
  Buf<T> x;                // (L+1, M, D) residual stream at each layer input; x[L] = output
  Buf<T> ln1, ln2;         // (L, M, D)
  Buf<T> rstd1, rstd2;     // (L, M)
  Buf<T> q_pre, q;         // (L, M, H*hd) before / after RoPE
  Buf<T> k_pre, v_new;     // (L, M, KV*hd)
  Buf<T> att;              // (L, Bq, Tq, H, Tk)
  Buf<T> atty;             // (L, M, H*hd)
  Buf<T> x_mid;            // (L, M, D)
  Buf<T> gate, up, hgl;    // (L, M, F)
  // backward scratch (one layer at a time)
  Buf<T> dres, dmid, dln;              // (M, D)
  Buf<T> dhgl, dgate, dup;             // (M, F)
  Buf<T> datty, dq, dq_pre;            // (M, H*hd)
  Buf<T> dk_pre, dv_new;               // (M, KV*hd)
  Buf<T> att_scratch;                  // (Bq, Tq, H, Tk)
};

template <typename T> struct VitActs {
  int BC = 0;
  Buf<T> cols;                  // (M, 3*p*p) im2col patches, M = BC*Np
  Buf<T> x;                     // (Lv+1, M, Dv)
  Buf<T> ln1, ln2;              // (Lv, M, Dv)
  Buf<T> mean1, rstd1, mean2, rstd2;  // (Lv, M)
  Buf<T> q, k, v, atty, x_mid;  // (Lv, M, Dv)
  Buf<T> att;                   // (Lv, BC, Np, Hv, Np)
  Buf<T> fc1, fc1g;             // (Lv, M, Fv) pre / post GELU
  Buf<T> post, post_mean, post_rstd;  // (M, Dv), (M)
  Buf<T> proj;                  // (M, Dl)
  // backward scratch
  Buf<T> dres, dmid, dln, dq, dk, dv, datty;  // (M, Dv)
  Buf<T> dfc1, dfc1g;                         // (M, Fv)
  Buf<T> dproj;                               // (M, Dl)
  Buf<T> att_scratch;                         // (BC, Np, Hv, Np)
};

// Prefix inputs and activations (vision + VLM stack), shared by loss() and sample().
template <typename T> struct PrefixActs {
  int B = 0;
  Buf<T> images;              // (B, C, S, S, 3)
  std::vector<uint8_t> pad;           // (B, P)
  std::vector<int> npad;              // (B) number of valid prefix tokens
  Buf<uint8_t> mask;          // (B, P, P)
  Buf<T> cs, sn;              // (B, P, hd/2)
  VitActs<T> vit;
  StackActs<T> stack;
  KVCache<T> cache, dcache;           // (L, B, P, KV*hd)
  Buf<T> dx0;                 // (B*P, Dl)
};

// Suffix activations for R*B sequences: the state token and/or action tokens, the AE stack, the output head.
template <typename T> struct SuffixActs {
  int Bq = 0, Tq = 0, Tc = 0;  // sequences, new tokens in this pass, cached key rows
  Buf<uint8_t> mask;   // (Bq, Tq, Tc+Tq)
  Buf<T> cs, sn;       // (Bq, Tq, hd/2)
  Buf<T> state_in;     // (Bq, Ds)
  Buf<T> state_tok;    // (Bq, De)
  Buf<T> xt;           // (Bq*Ha, A) noisy actions
  Buf<T> temb;         // (Bq, De) sin/cos time embedding
  Buf<int> cfg_idx;            // (Bq)
  Buf<T> ain;          // (Bq*Ha, De) action_in_proj
  Buf<T> fuse_in;      // (Bq*Ha, 2*De) concat(action, time)
  Buf<T> fuse_h, fuse_s;  // (Bq*Ha, De) action_time_mlp_in before / after SiLU
  Buf<T> act_tok;      // (Bq*Ha, De) action_time_mlp_out + cfg_embedding
  StackActs<T> stack;
  KVCache<T> cache, dcache;    // (L, Bq, Tc+Tq, KV*hd)
  Buf<T> yin, y, yrstd;  // (Bq*Ha, De) final-norm input/output, (Bq*Ha)
  Buf<T> v;            // (Bq*Ha, A) predicted velocity
  // backward
  Buf<T> dv, dy, dyin, dx0;  // (Bq*Ha, A), (Bq*Ha, De) x2, (Bq*S, De)
  Buf<T> dstate;             // (Bq, De)
  Buf<T> dact, dfuse_s, dfuse_h, dfuse_in;  // (Bq*Ha, De), .., (Bq*Ha, 2*De)
};

template <typename T> class Pi0 {
 public:
  // cuda: run on the GPU (managed memory, cuda/ kernels; float only). Throws Pi0Error naming the reason when this
  // build or machine has no usable device.
  Pi0(const Config& cfg, uint64_t seed, bool fast, int threads, bool cuda = false);
  const Config& config() const { return cfg_; }
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

  LossOutput loss(const LossInput& in);
  double optimizer_step(const AdamWConfig& o);  // returns the pre-clip global grad norm
  // (B, Ha, A) actions at t = 0 into out. use_cache = false recomputes the full joint forward (literal pi0.md
  // §1.4 routing over all P+S tokens) every step: the reference the cached sampler is tested against.
  void sample(const SampleInput& in, float* out, bool use_cache = true);

  // Exposed for the self tests.
  const Weights<T>& weights() const { return w_; }
  Weights<T>& grad_weights() { return g_; }
  Exec& exec() { return exec_; }

 private:
  void prefix_setup(const ObsInput& in);
  void prefix_forward();
  void prefix_backward();
  void suffix_setup(SuffixActs<T>& s, const ObsInput& in, int R, int Tq, int Tc, int s0, bool grads);
  void state_tokens_forward(SuffixActs<T>& s);
  void action_tokens_forward(SuffixActs<T>& s, const double* t_per_seq);
  void head_forward(SuffixActs<T>& s, int act_row0);
  void copy_prefix_cache(KVCache<T>& dst);
  void set_tokens(const ObsInput& in);
  void joint_velocity(const ObsInput& in, const std::vector<T>& x, double t, int cfg_index, std::vector<T>& v);
  // The Euler steps of sample() on the GPU, replayed from a CUDA graph once captured (see flow_graph_).
  void flow_cuda(const SampleInput& in, float* out);

  Config cfg_;
  std::vector<ParamEntry> spec_;
  Buf<T> params_, grads_, m_, v_;
  Weights<T> w_, g_;
  int64_t step_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  Exec exec_;
  std::vector<int32_t> tokens_;       // (B, Lt)
  PrefixActs<T> pre_;
  SuffixActs<T> suf_;                 // loss(): state + actions; sample(): actions
  SuffixActs<T> state_;               // sample(): the state-token pass that fills the cache row after the prefix
  Buf<T> flow_x_;                     // sample() on the GPU: x_t (B, Ha, A), in float
#if RIPTIDE_HAVE_CUDA
  cuda::Graph flow_graph_;            // its num_steps flow steps, keyed on the shapes and buffers they use
  bool flow_graph_broken_ = false;    // a capture failed: run the steps one launch at a time from then on
#endif
};

// ---- building blocks, shared with the value model (value.h) and exposed for the gradient checks (selftest.cc) ----

// Carves tensors off a parameter slab in order. base null: pointers come back null (a dry run that only sizes the
// slab); spec null: nothing is recorded.
template <typename T> struct SlabCarver {
  T* base = nullptr;
  std::vector<ParamEntry>* spec = nullptr;
  size_t off = 0;
  T* take(const std::string& name, std::vector<int> shape, Init init, bool header = false);
};
// PI0's whole layout: BuildVlmLayout, then the action expert and the header tensors.
template <typename T> void BuildLayout(const Config& c, T* base, Weights<T>* w, std::vector<ParamEntry>* spec);
// The PaliGemma part (vision tower, projector, embed_tokens, language-model layers, final norm) in PI0's names and
// order, so a PI0 checkpoint's vision + language weights load by name into any model built on it.
template <typename T> void BuildVlmLayout(const Config& c, SlabCarver<T>& s, Weights<T>* w);
// Normal(0, 1/fan_in) / zero / one per the spec's init, from one splitmix64 stream seeded by `seed`.
template <typename T> void InitParams(const std::vector<ParamEntry>& spec, uint64_t seed, T* params);
// One AdamW step over a slab of n values described by spec (per-tensor lr group; weight decay on matrices only);
// step is the step count including this one (bias correction). Returns the pre-clip global grad norm. Runs on
// ex.pool, or on the GPU when ex.cuda.
template <typename T>
double AdamWStep(const Exec& ex, const std::vector<ParamEntry>& spec, T* params, const T* grads, T* m, T* v,
                 size_t n, int64_t step, const AdamWConfig& o);
// Sets up ex for a model on the CPU or (cuda) the GPU: checks that a usable device exists and that T is float,
// and switches new buffers to managed memory; throws Pi0Error saying why not.
template <typename T> void SelectDevice(Exec& ex, bool cuda);
template <typename T>
void StackForward(const Exec& ex, const Config& c, const std::vector<GemmaLayerW<T>>& W, int D, int F,
                  StackActs<T>& a, KVCache<T>& cache, int Tc, const uint8_t* mask, const T* cs, const T* sn,
                  bool kv_only_last);
template <typename T>
void StackBackward(const Exec& ex, const Config& c, const std::vector<GemmaLayerW<T>>& W,
                   std::vector<GemmaLayerW<T>>& G, int D, int F, StackActs<T>& a, KVCache<T>& cache,
                   KVCache<T>& dcache, int Tc, const uint8_t* mask, const T* cs, const T* sn, bool kv_only_last,
                   const T* dout, T* dx0);
template <typename T>
void AllocStack(StackActs<T>& a, const Config& c, int L, int D, int F, int Bq, int Tq, int Tk, bool grads);
template <typename T>
void VitForward(const Exec& ex, const Config& c, const Weights<T>& w, VitActs<T>& a, const T* images);
// dproj (BC*Np, Dl) must be in a.dproj
template <typename T>
void VitBackward(const Exec& ex, const Config& c, const Weights<T>& w, Weights<T>& g, VitActs<T>& a);
template <typename T> void AllocVit(VitActs<T>& a, const Config& c, int BC, bool grads);
template <typename T> void AllocCache(KVCache<T>& kv, const Config& c, int Bq, int rows);
// RoPE tables for positions pos (n): cs, sn (n, hd/2), computed in T (fp32 for the float model).
template <typename T> void RopeTables(const int* pos, int n, int hd, T* cs, T* sn);
// openpi posemb_sincos: [sin(t 2pi / period_k), cos(...)], period_k = 4e-3 * 1000^(k/(K-1)), K = dim/2.
template <typename T> void TimeEmbedding(double t, int dim, T* out);

}  // namespace riptide::pi0
