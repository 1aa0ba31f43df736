// Checks of the CUDA backend against the CPU path, built for the CPU emulator (emulator.sh) or a real GPU (gpu.sh):
// every kernel check of cpp/pi0/cuda/check.cu, then for each preset given a whole PI0 model and a value model on
// the device against the CPU path (loss, gradients, an AdamW step, sampling), with fp32 GEMMs (tight) and bf16
// GEMMs (loose). --bench <preset> times training steps and chunk sampling on the device instead (real GPU only).
// Exits 1 when a figure is out of tolerance.
// Usage: cuda-check [preset.json ...] [--bench preset.json [--batch B]] ...
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "pi0/cuda/cuda.h"
#include "pi0/model.h"
#include "pi0/value.h"

using namespace riptide::pi0;

namespace {

int failures = 0;

void Report(const std::string& what, double err, double tol) {
  const bool ok = err <= tol;
  failures += !ok;
  std::printf("  %s %-58s error %.2e (tol %.0e)\n", ok ? "ok  " : "FAIL", what.c_str(), err, tol);
}

double RelErr(const float* a, const float* b, size_t n) {
  double worst = 0, big = 1e-12;
  for (size_t i = 0; i < n; i++) {
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
    big = std::max(big, std::fabs(double(b[i])));
  }
  return worst / big;
}

struct Batch {
  int B;
  std::vector<float> images, state, actions, noise, time, weights;
  std::vector<uint8_t> image_mask, token_mask, positive;
  std::vector<int32_t> tokens;
  Batch(const Config& c, int B_, uint64_t seed) : B(B_) {
    uint64_t s = seed;
    auto u = [&] {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      return ((s >> 11) + 0.5) / 9007199254740992.0;
    };
    auto fill = [&](std::vector<float>& v, size_t n, double lo, double hi) {
      v.resize(n);
      for (auto& x : v) x = float(lo + (hi - lo) * u());
    };
    const size_t HA = (size_t)c.action_horizon * c.action_dim;
    fill(images, (size_t)B * c.num_cameras * c.image_size * c.image_size * 3, -1, 1);
    fill(state, (size_t)B * c.state_dim, -0.5, 0.5);
    fill(actions, B * HA, -0.5, 0.5);
    fill(noise, B * HA, -1, 1);
    fill(time, B, 0.05, 0.95);
    fill(weights, B, 0.2, 1.0);
    image_mask.assign((size_t)B * c.num_cameras, 1);
    token_mask.assign((size_t)B * c.max_token_len, 1);
    for (int b = 0; b < B; b++) token_mask[(size_t)(b + 1) * c.max_token_len - 1 - b % 2] = 0;
    positive.resize(B);
    for (int b = 0; b < B; b++) positive[b] = b % 2;
    tokens.resize((size_t)B * c.max_token_len);
    for (auto& t : tokens) t = int32_t(u() * c.vocab);
  }
  void obs(ObsInput& in) const {
    in.B = B;
    in.images = images.data();
    in.image_mask = image_mask.data();
    in.tokens = tokens.data();
    in.token_mask = token_mask.data();
    in.state = state.data();
  }
  LossInput loss() const {
    LossInput in;
    obs(in);
    in.actions = actions.data();
    in.noise = noise.data();
    in.time = time.data();
    in.is_positive = positive.data();
    in.weights = weights.data();
    in.uncond_weight = 0.5;
    return in;
  }
};

void CheckPi0(const Config& c, cuda::Gemm gemm) {
  cuda::SetGemm(gemm);
  const bool fp32 = gemm == cuda::Gemm::Fp32;
  const std::string tag = c.name + (fp32 ? " fp32: " : " bf16: ");
  Pi0<float> cpu(c, 3, true, 2, false), dev(c, 3, true, 2, true);
  const Batch batch(c, 3, 17);
  const LossInput in = batch.loss();
  const double l_cpu = cpu.loss(in).loss, l_dev = dev.loss(in).loss;
  Report(tag + "loss", std::fabs(l_dev - l_cpu) / std::fabs(l_cpu), fp32 ? 1e-5 : 2e-2);
  const size_t n = cpu.num_params();
  Report(tag + "gradients", RelErr(dev.grads(), cpu.grads(), n), fp32 ? 1e-4 : 5e-2);
  AdamWConfig o;
  o.lr_model = 1e-3;
  o.lr_header = 3e-3;
  o.weight_decay = 0.01;
  o.clip_norm = 1;
  const double g_cpu = cpu.optimizer_step(o), g_dev = dev.optimizer_step(o);
  Report(tag + "gradient norm", std::fabs(g_dev - g_cpu) / g_cpu, fp32 ? 1e-5 : 2e-2);
  // A first AdamW step moves each weight by about lr * sign(g), so a gradient near zero that rounds to the other
  // sign moves its weight 2 lr the other way: bound the worst difference by that, and count how many differ.
  double worst = 0;
  size_t moved = 0;
  for (size_t i = 0; i < n; i++) {
    const double d = std::fabs(double(dev.params()[i]) - double(cpu.params()[i]));
    worst = std::max(worst, d);
    moved += d > 1e-6;
  }
  Report(tag + "weights after an AdamW step: worst / (2 lr)", worst / (2 * o.lr_header), 1.01);
  Report(tag + "weights after an AdamW step: share off by > 1e-6", double(moved) / n, fp32 ? 1e-3 : 0.2);
  const Batch sb(c, 2, 5);
  SampleInput s;
  sb.obs(s);
  s.noise = sb.noise.data();
  s.num_steps = 10;
  for (double cfg : {1.0, 2.0}) {
    s.cfg_scale = cfg;
    std::vector<float> a_cpu(sb.noise.size()), a_dev(sb.noise.size());
    cpu.sample(s, a_cpu.data());
    dev.sample(s, a_dev.data());
    Report(tag + "sampled actions, cfg_scale " + std::to_string(int(cfg)), RelErr(a_dev.data(), a_cpu.data(), a_cpu.size()),
           fp32 ? 1e-4 : 5e-2);
  }
  // the same shapes again with new observations and noise: the captured flow graph is replayed, not recaptured
  const Batch sb2(c, 2, 6);
  sb2.obs(s);
  s.noise = sb2.noise.data();
  std::vector<float> a_cpu(sb2.noise.size()), a_dev(sb2.noise.size());
  cpu.sample(s, a_cpu.data());
  dev.sample(s, a_dev.data());
  Report(tag + "sampled actions, cfg_scale 2, replayed graph", RelErr(a_dev.data(), a_cpu.data(), a_cpu.size()),
         fp32 ? 1e-4 : 5e-2);
}

void CheckValue(const Config& c) {
  cuda::SetGemm(cuda::Gemm::Fp32);
  ValueModel<float> cpu(c, 11, 3, true, 2, false), dev(c, 11, 3, true, 2, true);
  const Batch batch(c, 3, 23);
  ValueLossInput in;
  batch.obs(in);
  std::vector<int32_t> bins{0, 4, 10};
  in.target_bin = bins.data();
  const double l_cpu = cpu.loss(in).loss, l_dev = dev.loss(in).loss;
  Report(c.name + " value model: loss", std::fabs(l_dev - l_cpu) / std::fabs(l_cpu), 1e-5);
  Report(c.name + " value model: gradients", RelErr(dev.grads(), cpu.grads(), cpu.num_params()), 1e-4);
}

double Ms(std::chrono::steady_clock::time_point t0, int reps) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
}

// Training step (loss + backward + AdamW, bf16 GEMMs) at batch B and chunk latency (10 flow steps) at batch 1 and
// 16. FLOP counts and MFU: src/model/flops.ts (riptide bench model does both where Node runs).
void Bench(const Config& c, int B) {
  cuda::SetGemm(cuda::Gemm::Bf16);
  std::printf("bench '%s' on %s\n", c.name.c_str(), cuda::Query().name.c_str());
  const cuda::GemmEngine engine = cuda::GetGemmEngine();
  for (auto e : {cuda::GemmEngine::Own, cuda::GemmEngine::Cublas}) {
    try {
      cuda::SetGemmEngine(e);
    } catch (const Pi0Error&) {
      continue;
    }
    std::printf("  bf16 GEMM 4096^3 on %s: %.1f TFLOP/s\n", e == cuda::GemmEngine::Own ? "our kernel" : "cuBLAS",
                cuda::GemmTflops(4096, 10));
  }
  cuda::SetGemmEngine(engine);
  try {
    auto t0 = std::chrono::steady_clock::now();
    Pi0<float> m(c, 0, true, 16, true);
    std::printf("  %zu params, initialised in %.1f s\n", m.num_params(), Ms(t0, 1) / 1e3);
    const Batch batch(c, B, 1);
    LossInput in = batch.loss();
    in.uncond_weight = 0;
    AdamWConfig o;
    o.lr_model = 1e-5;
    o.lr_header = 1e-4;
    auto step = [&] {
      m.zero_grad();
      m.loss(in);
      m.optimizer_step(o);
    };
    step();
    cuda::Sync();
    t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < 3; r++) step();
    cuda::Sync();
    const double ms = Ms(t0, 3);
    std::printf("  train step batch %d: %.1f ms (%.2f samples/s)\n", B, ms, B * 1e3 / ms);
    for (int sb : {1, 16}) {
      const Batch obs(c, sb, 2);
      SampleInput s;
      obs.obs(s);
      s.noise = obs.noise.data();
      std::vector<float> out(obs.noise.size());
      m.sample(s, out.data());
      t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < 5; r++) m.sample(s, out.data());
      std::printf("  chunk (10 flow steps, %d cameras) batch %d: %.2f ms\n", c.num_cameras, sb, Ms(t0, 5));
    }
  } catch (const Pi0Error& e) {
    std::printf("  batch %d: %s\n", B, e.what());
  }
}

Config Load(const char* file) {
  std::ifstream f(file);
  if (!f) throw Pi0Error(std::string("cannot read preset ") + file);
  std::stringstream text;
  text << f.rdbuf();
  return ParseConfig(text.str());
}

}  // namespace

int main(int argc, char** argv) {
  const cuda::DeviceInfo d = cuda::Query();
  if (d.count == 0) {
    std::fprintf(stderr, "cuda-check: no usable CUDA device: %s\n", d.error.c_str());
    return 2;
  }
  std::printf("kernel checks (cpp/pi0/cuda/check.cu) on %s\n", d.name.c_str());
  for (const auto& k : cuda::CheckKernels(1)) Report(k.name, k.error, k.tol);
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--bench") && i + 1 < argc) {
      const Config c = Load(argv[++i]);
      int B = 8;
      if (i + 2 < argc && !std::strcmp(argv[i + 1], "--batch")) B = std::atoi(argv[i += 2]);
      Bench(c, B);
      continue;
    }
    const Config c = Load(argv[i]);
    std::printf("whole model '%s' (%s), the device against the CPU path\n", c.name.c_str(), argv[i]);
    CheckPi0(c, cuda::Gemm::Fp32);
    CheckPi0(c, cuda::Gemm::Bf16);
    CheckValue(c);
  }
  std::printf("%s\n", failures ? "FAILED" : "all within tolerance");
  return failures ? 1 : 0;
}
