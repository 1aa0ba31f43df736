// exports.pi0: the PI0 and value model bindings (contract: src/model/native-types.ts). Argument checks and
// typed-array pointers only; the models live in cpp/pi0. Errors name the argument field that is wrong.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <thread>

#include "addon/bindings.h"
#include "pi0/cuda/cuda.h"
#include "pi0/model.h"
#include "pi0/selftest.h"
#include "pi0/value.h"

namespace riptide {
namespace {

using pi0::Config;
using pi0::Pi0;
using pi0::ValueModel;

int DefaultThreads() { return std::max(1u, std::min(16u, std::thread::hardware_concurrency())); }

double NumberField(const Napi::Env& env, const Napi::Object& o, const char* what, const char* key, bool required,
                   double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) throw Napi::TypeError::New(env, std::string(what) + "." + key + ": required number is missing");
    return fallback;
  }
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
    throw Napi::TypeError::New(env, std::string(what) + "." + key + ": expected a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

template <typename T>
const T* ArrayField(const Napi::Env& env, const Napi::Object& o, const char* what, const char* key, size_t n,
                    bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) throw Napi::TypeError::New(env, std::string(what) + "." + key + ": required array is missing");
    return nullptr;
  }
  return TypedData<T>(env, v, n, (std::string(what) + "." + key).c_str());
}

// The observation part shared by LossBatch and SampleBatch.
void ReadObs(const Napi::Env& env, const Config& c, const Napi::Object& o, const char* what, pi0::ObsInput* in) {
  double b = NumberField(env, o, what, "batch", true, 0);
  if (b < 1 || b != std::floor(b) || b > 1e6)
    throw Napi::RangeError::New(env, std::string(what) + ".batch: expected a positive integer");
  const size_t B = (size_t)b, C = c.num_cameras, S = c.image_size, L = c.max_token_len;
  in->B = (int)B;
  in->images = ArrayField<float>(env, o, what, "images", B * C * S * S * 3, true);
  in->image_mask = ArrayField<uint8_t>(env, o, what, "imageMask", B * C, true);
  in->tokens = ArrayField<int32_t>(env, o, what, "tokens", B * L, true);
  in->token_mask = ArrayField<uint8_t>(env, o, what, "tokenMask", B * L, true);
  in->state = ArrayField<float>(env, o, what, "state", B * c.state_dim, true);
  for (size_t i = 0; i < B * L; i++)
    if (in->tokens[i] < 0 || in->tokens[i] >= c.vocab)
      throw Napi::RangeError::New(env, std::string(what) + ".tokens: id " + std::to_string(in->tokens[i]) +
                                           " at index " + std::to_string(i) + " is outside [0, vocab_size=" +
                                           std::to_string(c.vocab) + ")");
}

void ReadSample(const Napi::Env& env, const Config& c, const Napi::Object& o, pi0::SampleInput* in) {
  const char* what = "sample(): batch";
  ReadObs(env, c, o, what, in);
  const size_t B = in->B;
  in->noise = ArrayField<float>(env, o, what, "noise", B * c.action_horizon * c.action_dim, true);
  double steps = NumberField(env, o, what, "numSteps", false, 10);
  if (steps < 1 || steps != std::floor(steps) || steps > 10000)
    throw Napi::RangeError::New(env, std::string(what) + ".numSteps: expected a positive integer");
  in->num_steps = (int)steps;
  in->cfg_scale = NumberField(env, o, what, "cfgScale", false, 1.0);
}

template <typename F> auto Guard(const Napi::Env& env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// A Float32Array over model memory; created once per slab (V8 refuses two buffers over one backing store) and
// keeping the model alive as long as the array lives.
template <typename M>
Napi::Value SlabView(Napi::Env env, Napi::ObjectReference& cache, const std::shared_ptr<M>& model, float* data) {
  if (!cache.IsEmpty()) return cache.Value();
  auto* keep = new std::shared_ptr<M>(model);
  size_t n = model->num_params();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, data, n * sizeof(float),
                                                [](Napi::Env, void*, std::shared_ptr<M>* k) { delete k; }, keep);
  Napi::Float32Array arr = Napi::Float32Array::New(env, n, ab, 0);
  cache = Napi::Persistent(arr.As<Napi::Object>());
  return arr;
}

Napi::Value SpecArray(Napi::Env env, const std::vector<pi0::ParamEntry>& spec) {
  auto out = Napi::Array::New(env, spec.size());
  for (size_t i = 0; i < spec.size(); i++) {
    const auto& e = spec[i];
    auto o = Napi::Object::New(env);
    o.Set("name", e.name);
    auto shape = Napi::Array::New(env, e.shape.size());
    for (size_t k = 0; k < e.shape.size(); k++) shape.Set((uint32_t)k, e.shape[k]);
    o.Set("shape", shape);
    o.Set("offset", (double)e.offset);
    o.Set("size", (double)e.size);
    o.Set("group", e.header ? "header" : "model");
    out.Set((uint32_t)i, o);
  }
  return out;
}

pi0::AdamWConfig ReadAdamW(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "optimizerStep(opts): opts must be an object");
  auto o = info[0].As<Napi::Object>();
  const char* what = "optimizerStep(): opts";
  pi0::AdamWConfig a;
  a.lr_model = NumberField(env, o, what, "lrModel", true, 0);
  a.lr_header = NumberField(env, o, what, "lrHeader", true, 0);
  a.beta1 = NumberField(env, o, what, "beta1", false, 0.9);
  a.beta2 = NumberField(env, o, what, "beta2", false, 0.95);
  a.eps = NumberField(env, o, what, "eps", false, 1e-8);
  a.weight_decay = NumberField(env, o, what, "weightDecay", false, 0);
  a.clip_norm = NumberField(env, o, what, "clipNorm", false, 0);
  a.grad_scale = NumberField(env, o, what, "gradScale", false, 1);
  return a;
}

// options[key], one of two strings: true when it is `yes`, false when it is `no` or missing.
bool ReadChoice(const Napi::Env& env, const Napi::CallbackInfo& info, size_t arg, const char* what, const char* key,
                const char* no, const char* yes) {
  if (info.Length() <= arg || !info[arg].IsObject()) return false;
  Napi::Value v = info[arg].As<Napi::Object>().Get(key);
  if (v.IsUndefined()) return false;
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s != no && s != yes)
    throw Napi::TypeError::New(env, std::string(what) + ": options." + key + " must be '" + no + "' or '" + yes + "'");
  return s == yes;
}

// options.path: 'fast' (default) or 'reference'
bool ReadPath(const Napi::Env& env, const Napi::CallbackInfo& info, size_t arg, const char* what) {
  return !ReadChoice(env, info, arg, what, "path", "fast", "reference");
}

// options.device: 'cpu' (default) or 'cuda'; 'auto' is resolved before it gets here (src/model/device.ts).
bool ReadCuda(const Napi::Env& env, const Napi::CallbackInfo& info, size_t arg, const char* what) {
  return ReadChoice(env, info, arg, what, "device", "cpu", "cuda");
}

class Pi0ModelWrap : public Napi::ObjectWrap<Pi0ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Pi0Model",
                       {InstanceMethod("paramSpec", &Pi0ModelWrap::ParamSpec),
                        InstanceMethod("params", &Pi0ModelWrap::Params),
                        InstanceMethod("grads", &Pi0ModelWrap::Grads),
                        InstanceMethod("adamM", &Pi0ModelWrap::AdamM),
                        InstanceMethod("adamV", &Pi0ModelWrap::AdamV),
                        InstanceMethod("step", &Pi0ModelWrap::Step),
                        InstanceMethod("setStep", &Pi0ModelWrap::SetStep),
                        InstanceMethod("zeroGrad", &Pi0ModelWrap::ZeroGrad),
                        InstanceMethod("loss", &Pi0ModelWrap::Loss),
                        InstanceMethod("optimizerStep", &Pi0ModelWrap::OptimizerStep),
                        InstanceMethod("sample", &Pi0ModelWrap::Sample),
                        InstanceMethod("setThreads", &Pi0ModelWrap::SetThreads),
                        InstanceMethod("device", &Pi0ModelWrap::Device)});
  }

  explicit Pi0ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Pi0ModelWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "new Pi0Model(configJson: string, seed: number, options?): bad arguments");
    const bool fast = ReadPath(env, info, 2, "new Pi0Model");
    const bool cuda = ReadCuda(env, info, 2, "new Pi0Model");
    std::string json = info[0].As<Napi::String>().Utf8Value();
    uint64_t seed = (uint64_t)info[1].As<Napi::Number>().Int64Value();
    Guard(env, [&] {
      Config c = pi0::ParseConfig(json);
      model_ = std::make_shared<Pi0<float>>(c, seed, fast, DefaultThreads(), cuda);
      return 0;
    });
  }

 private:
  Napi::Value ParamSpec(const Napi::CallbackInfo& info) { return SpecArray(info.Env(), model_->spec()); }
  Napi::Value Params(const Napi::CallbackInfo& info) { return SlabView(info.Env(), params_, model_, model_->params()); }
  Napi::Value Grads(const Napi::CallbackInfo& info) { return SlabView(info.Env(), grads_, model_, model_->grads()); }
  Napi::Value AdamM(const Napi::CallbackInfo& info) { return SlabView(info.Env(), m_, model_, model_->adam_m()); }
  Napi::Value AdamV(const Napi::CallbackInfo& info) { return SlabView(info.Env(), v_, model_, model_->adam_v()); }
  Napi::Value Device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), model_->cuda() ? "cuda" : "cpu"); }
  Napi::Value Step(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)model_->step()); }
  void SetStep(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 0)
      throw Napi::TypeError::New(info.Env(), "setStep(n): n must be a non-negative number");
    model_->set_step(info[0].As<Napi::Number>().Int64Value());
  }
  void ZeroGrad(const Napi::CallbackInfo&) { model_->zero_grad(); }
  void SetThreads(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1)
      throw Napi::TypeError::New(info.Env(), "setThreads(n): n must be a positive integer");
    model_->set_threads(info[0].As<Napi::Number>().Int32Value());
  }

  Napi::Value Loss(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Config& c = model_->config();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "loss(batch): batch must be an object");
    auto o = info[0].As<Napi::Object>();
    const char* what = "loss(): batch";
    pi0::LossInput in;
    ReadObs(env, c, o, what, &in);
    const size_t B = in.B, HA = (size_t)c.action_horizon * c.action_dim;
    in.actions = ArrayField<float>(env, o, what, "actions", B * HA, true);
    in.action_is_pad = ArrayField<uint8_t>(env, o, what, "actionIsPad", B * c.action_horizon, false);
    in.dim_mask = ArrayField<uint8_t>(env, o, what, "actionDimMask", c.action_dim, false);
    in.noise = ArrayField<float>(env, o, what, "noise", B * HA, false);
    in.time = ArrayField<float>(env, o, what, "time", B, false);
    in.seed = (uint64_t)NumberField(env, o, what, "seed", false, 0);
    in.is_positive = ArrayField<uint8_t>(env, o, what, "isPositive", B, false);
    in.weights = ArrayField<float>(env, o, what, "weights", B, false);
    in.uncond_weight = NumberField(env, o, what, "uncondWeight", false, 0);
    if (in.uncond_weight < 0) throw Napi::RangeError::New(env, std::string(what) + ".uncondWeight: must be >= 0");
    Napi::Value bw = o.Get("backward");
    in.backward = bw.IsUndefined() ? true : bw.ToBoolean().Value();
    pi0::LossOutput r = Guard(env, [&] { return model_->loss(in); });
    auto out = Napi::Object::New(env);
    out.Set("loss", r.loss);
    auto cond = Napi::Float32Array::New(env, B);
    for (size_t i = 0; i < B; i++) cond[i] = (float)r.cond[i];
    out.Set("lossCond", cond);
    if (r.uncond.empty()) {
      out.Set("lossUncond", env.Null());
    } else {
      auto un = Napi::Float32Array::New(env, B);
      for (size_t i = 0; i < B; i++) un[i] = (float)r.uncond[i];
      out.Set("lossUncond", un);
    }
    return out;
  }

  Napi::Value OptimizerStep(const Napi::CallbackInfo& info) {
    pi0::AdamWConfig a = ReadAdamW(info);
    double norm = Guard(info.Env(), [&] { return model_->optimizer_step(a); });
    auto out = Napi::Object::New(info.Env());
    out.Set("gradNorm", norm);
    return out;
  }

  Napi::Value Sample(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw Napi::TypeError::New(env, "sample(batch): batch must be an object");
    pi0::SampleInput in;
    ReadSample(env, model_->config(), info[0].As<Napi::Object>(), &in);
    const Config& c = model_->config();
    auto out = Napi::Float32Array::New(env, (size_t)in.B * c.action_horizon * c.action_dim);
    Guard(env, [&] { model_->sample(in, out.Data(), true); return 0; });
    return out;
  }

  std::shared_ptr<Pi0<float>> model_;
  Napi::ObjectReference params_, grads_, m_, v_;
};

// The value model (cpp/pi0/value.h): new ValueModel(configJson, seed, { bins?, threads?, path? }).
class ValueModelWrap : public Napi::ObjectWrap<ValueModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ValueModel",
                       {InstanceMethod("paramSpec", &ValueModelWrap::ParamSpec),
                        InstanceMethod("params", &ValueModelWrap::Params),
                        InstanceMethod("grads", &ValueModelWrap::Grads),
                        InstanceMethod("adamM", &ValueModelWrap::AdamM),
                        InstanceMethod("adamV", &ValueModelWrap::AdamV),
                        InstanceMethod("bins", &ValueModelWrap::Bins),
                        InstanceMethod("step", &ValueModelWrap::Step),
                        InstanceMethod("setStep", &ValueModelWrap::SetStep),
                        InstanceMethod("zeroGrad", &ValueModelWrap::ZeroGrad),
                        InstanceMethod("setThreads", &ValueModelWrap::SetThreads),
                        InstanceMethod("loss", &ValueModelWrap::Loss),
                        InstanceMethod("predict", &ValueModelWrap::Predict),
                        InstanceMethod("optimizerStep", &ValueModelWrap::OptimizerStep),
                        InstanceMethod("device", &ValueModelWrap::Device)});
  }

  explicit ValueModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ValueModelWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "new ValueModel(configJson: string, seed: number, options?): bad arguments");
    const char* what = "new ValueModel(): options";
    const bool fast = ReadPath(env, info, 2, "new ValueModel");
    const bool cuda = ReadCuda(env, info, 2, "new ValueModel");
    double bins = pi0::kDefaultValueBins, threads = DefaultThreads();
    if (info.Length() > 2 && info[2].IsObject()) {
      auto o = info[2].As<Napi::Object>();
      bins = NumberField(env, o, what, "bins", false, bins);
      threads = NumberField(env, o, what, "threads", false, threads);
    }
    if (bins < 2 || bins > 100000 || bins != std::floor(bins))
      throw Napi::RangeError::New(env, std::string(what) + ".bins: expected an integer in [2, 100000] (OpenTau: 201)");
    if (threads < 1 || threads > 256 || threads != std::floor(threads))
      throw Napi::RangeError::New(env, std::string(what) + ".threads: expected a positive integer");
    std::string json = info[0].As<Napi::String>().Utf8Value();
    uint64_t seed = (uint64_t)info[1].As<Napi::Number>().Int64Value();
    Guard(env, [&] {
      model_ = std::make_shared<ValueModel<float>>(pi0::ParseConfig(json), (int)bins, seed, fast, (int)threads, cuda);
      return 0;
    });
  }

 private:
  Napi::Value ParamSpec(const Napi::CallbackInfo& info) { return SpecArray(info.Env(), model_->spec()); }
  Napi::Value Params(const Napi::CallbackInfo& info) { return SlabView(info.Env(), params_, model_, model_->params()); }
  Napi::Value Grads(const Napi::CallbackInfo& info) { return SlabView(info.Env(), grads_, model_, model_->grads()); }
  Napi::Value AdamM(const Napi::CallbackInfo& info) { return SlabView(info.Env(), m_, model_, model_->adam_m()); }
  Napi::Value AdamV(const Napi::CallbackInfo& info) { return SlabView(info.Env(), v_, model_, model_->adam_v()); }
  Napi::Value Bins(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), model_->bins()); }
  Napi::Value Device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), model_->cuda() ? "cuda" : "cpu"); }
  Napi::Value Step(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)model_->step()); }
  void SetStep(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 0)
      throw Napi::TypeError::New(info.Env(), "setStep(n): n must be a non-negative number");
    model_->set_step(info[0].As<Napi::Number>().Int64Value());
  }
  void ZeroGrad(const Napi::CallbackInfo&) { model_->zero_grad(); }
  void SetThreads(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1)
      throw Napi::TypeError::New(info.Env(), "setThreads(n): n must be a positive integer");
    model_->set_threads(info[0].As<Napi::Number>().Int32Value());
  }

  Napi::Value Loss(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Config& c = model_->config();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "loss(batch): batch must be an object");
    auto o = info[0].As<Napi::Object>();
    const char* what = "loss(): batch";
    pi0::ValueLossInput in;
    ReadObs(env, c, o, what, &in);
    const size_t B = in.B;
    const int K = model_->bins();
    auto field = [&](const char* key) { return std::string(what) + "." + key; };
    in.target_bin = ArrayField<int32_t>(env, o, what, "targetBin", B, true);
    for (size_t i = 0; i < B; i++)
      if (in.target_bin[i] < 0 || in.target_bin[i] >= K)
        throw Napi::RangeError::New(env, field("targetBin") + ": bin " + std::to_string(in.target_bin[i]) +
                                             " at index " + std::to_string(i) + " is outside [0, bins=" +
                                             std::to_string(K) + ")");
    in.weights = ArrayField<float>(env, o, what, "weights", B, false);
    if (in.weights) {
      double sum = 0;
      for (size_t i = 0; i < B; i++) {
        if (!std::isfinite(in.weights[i]) || in.weights[i] < 0)
          throw Napi::RangeError::New(env, field("weights") + ": index " + std::to_string(i) + " must be finite and >= 0");
        sum += in.weights[i];
      }
      if (!(sum > 0)) throw Napi::RangeError::New(env, field("weights") + ": all zero; give one sample a positive weight");
    }
    in.mse_weight = NumberField(env, o, what, "mseWeight", false, 0);
    if (in.mse_weight < 0) throw Napi::RangeError::New(env, field("mseWeight") + ": must be >= 0");
    in.target_value = ArrayField<float>(env, o, what, "targetValue", B, in.mse_weight > 0);
    Napi::Value bw = o.Get("backward");
    in.backward = bw.IsUndefined() ? true : bw.ToBoolean().Value();
    pi0::ValueLossOutput r = Guard(env, [&] { return model_->loss(in); });
    auto out = Napi::Object::New(env);
    out.Set("loss", r.loss);
    auto ce = Napi::Float32Array::New(env, B), values = Napi::Float32Array::New(env, B);
    for (size_t i = 0; i < B; i++) {
      ce[i] = (float)r.ce[i];
      values[i] = (float)r.value[i];
    }
    out.Set("ce", ce);
    out.Set("values", values);
    return out;
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw Napi::TypeError::New(env, "predict(batch): batch must be an object");
    pi0::ObsInput in;
    ReadObs(env, model_->config(), info[0].As<Napi::Object>(), "predict(): batch", &in);
    auto out = Napi::Float32Array::New(env, (size_t)in.B * model_->bins());
    Guard(env, [&] { model_->predict(in, out.Data()); return 0; });
    return out;
  }

  Napi::Value OptimizerStep(const Napi::CallbackInfo& info) {
    pi0::AdamWConfig a = ReadAdamW(info);
    double norm = Guard(info.Env(), [&] { return model_->optimizer_step(a); });
    auto out = Napi::Object::New(info.Env());
    out.Set("gradNorm", norm);
    return out;
  }

  std::shared_ptr<ValueModel<float>> model_;
  Napi::ObjectReference params_, grads_, m_, v_;
};

Napi::Value SgemmGflops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "sgemmGflops(n, repeats): expected two numbers");
  int n = info[0].As<Napi::Number>().Int32Value(), r = info[1].As<Napi::Number>().Int32Value();
  if (n < 1 || n > 16384 || r < 1) throw Napi::RangeError::New(env, "sgemmGflops(n, repeats): n in [1, 16384], repeats >= 1");
  return Napi::Number::New(env, pi0::SgemmGflops(n, r));
}

// ---- cuda: what the build and the machine offer, the GEMM precision, and the kernel checks ----

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  const pi0::cuda::DeviceInfo d = pi0::cuda::Query();
  auto o = Napi::Object::New(info.Env());
  o.Set("built", d.built);
  o.Set("cublas", d.cublas);
  o.Set("count", d.count);
  o.Set("name", d.name);
  o.Set("computeCapability", d.cc_major ? std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor) : "");
  o.Set("smCount", d.sm_count);
  o.Set("memoryBytes", (double)d.memory);
  o.Set("runtimeVersion", d.runtime);
  o.Set("driverVersion", d.driver);
  o.Set("error", d.error);
  return o;
}

#if RIPTIDE_HAVE_CUDA
void NeedDevice(const Napi::Env& env, const char* what) {
  if (!pi0::cuda::Available())
    throw Napi::Error::New(env, std::string(what) + ": no usable CUDA device: " + pi0::cuda::Query().error);
}

void CudaSetGemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string g = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (g != "bf16" && g != "fp32") throw Napi::TypeError::New(env, "cudaSetGemm(precision): 'bf16' or 'fp32'");
  pi0::cuda::SetGemm(g == "bf16" ? pi0::cuda::Gemm::Bf16 : pi0::cuda::Gemm::Fp32);
}

Napi::Value CudaGemmTflops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "cudaGemmTflops(n, repeats): expected two numbers");
  int n = info[0].As<Napi::Number>().Int32Value(), r = info[1].As<Napi::Number>().Int32Value();
  if (n < 1 || n > 32768 || r < 1) throw Napi::RangeError::New(env, "cudaGemmTflops(n, repeats): n in [1, 32768], repeats >= 1");
  NeedDevice(env, "cudaGemmTflops");
  return Napi::Number::New(env, Guard(env, [&] { return pi0::cuda::GemmTflops(n, r); }));
}

Napi::Value CudaKernelCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t seed = info.Length() > 0 && info[0].IsNumber() ? (uint64_t)info[0].As<Napi::Number>().Int64Value() : 1;
  NeedDevice(env, "cudaKernelCheck");
  auto checks = Guard(env, [&] { return pi0::cuda::CheckKernels(seed); });
  auto a = Napi::Array::New(env, checks.size());
  for (size_t i = 0; i < checks.size(); i++) {
    auto o = Napi::Object::New(env);
    o.Set("name", checks[i].name);
    o.Set("error", checks[i].error);
    o.Set("tol", checks[i].tol);
    o.Set("pass", checks[i].pass);
    a.Set((uint32_t)i, o);
  }
  return a;
}
#endif

// ---- selfTest: native checks for test/pi0 (not part of the model API) ----

Napi::Value GradCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "gradCheck(name, seed, configJson?)");
  std::string json = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint64_t seed = (uint64_t)info[1].As<Napi::Number>().Int64Value();
  return Napi::Number::New(env, Guard(env, [&] { return pi0::GradCheck(name, seed, json); }));
}

Napi::Value ValueGradCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "valueGradCheck(seed, configJson?, bins?)");
  uint64_t seed = (uint64_t)info[0].As<Napi::Number>().Int64Value();
  std::string json = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  int bins = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 7;
  return Napi::Number::New(env, Guard(env, [&] { return pi0::ValueGradCheck(seed, json, bins); }));
}

Napi::Value FastCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "fastCheck(name, seed)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint64_t seed = (uint64_t)info[1].As<Napi::Number>().Int64Value();
  return Napi::Number::New(env, Guard(env, [&] { return pi0::FastCheck(name, seed); }));
}

Napi::Value Names(Napi::Env env, const std::vector<std::string>& names) {
  auto a = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) a.Set((uint32_t)i, names[i]);
  return a;
}

// sampleCompare(configJson, seed, batch, path): builds a model (norm weights, biases and cfg_embedding
// randomised so nothing sits at its zero init) and samples the batch with the prefix/state KV cache and by
// recomputing the full joint forward every step. Returns { cached, uncached }.
Napi::Value SampleCompare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsObject())
    throw Napi::TypeError::New(env, "sampleCompare(configJson, seed, batch, path?)");
  bool fast = !(info.Length() > 3 && info[3].IsString() && info[3].As<Napi::String>().Utf8Value() == "reference");
  std::string json = info[0].As<Napi::String>().Utf8Value();
  uint64_t seed = (uint64_t)info[1].As<Napi::Number>().Int64Value();
  auto model = Guard(env, [&] { return std::make_unique<Pi0<float>>(pi0::ParseConfig(json), seed, fast, DefaultThreads()); });
  const Config& c = model->config();
  uint64_t s = seed * 2654435761u + 1;
  for (const auto& e : model->spec())
    if (e.init != pi0::Init::Normal)
      for (size_t i = 0; i < e.size; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        model->params()[e.offset + i] += 0.2f * (float((s >> 40) & 0xFFFF) / 32768.f - 1.f);
      }
  pi0::SampleInput in;
  ReadSample(env, c, info[2].As<Napi::Object>(), &in);
  size_t n = (size_t)in.B * c.action_horizon * c.action_dim;
  auto cached = Napi::Float32Array::New(env, n), uncached = Napi::Float32Array::New(env, n);
  Guard(env, [&] {
    model->sample(in, cached.Data(), true);
    model->sample(in, uncached.Data(), false);
    return 0;
  });
  auto out = Napi::Object::New(env);
  out.Set("cached", cached);
  out.Set("uncached", uncached);
  return out;
}

}  // namespace

Napi::Object InitPi0(Napi::Env env) {
  auto o = Napi::Object::New(env);
  o.Set("Pi0Model", Pi0ModelWrap::Define(env));
  o.Set("ValueModel", ValueModelWrap::Define(env));
  o.Set("sgemmGflops", Napi::Function::New(env, SgemmGflops, "sgemmGflops"));
  o.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
#if RIPTIDE_HAVE_CUDA
  o.Set("cudaSetGemm", Napi::Function::New(env, CudaSetGemm, "cudaSetGemm"));
  o.Set("cudaGemmTflops", Napi::Function::New(env, CudaGemmTflops, "cudaGemmTflops"));
  o.Set("cudaKernelCheck", Napi::Function::New(env, CudaKernelCheck, "cudaKernelCheck"));
#endif
  auto st = Napi::Object::New(env);
  st.Set("gradCheck", Napi::Function::New(env, GradCheck, "gradCheck"));
  st.Set("fastCheck", Napi::Function::New(env, FastCheck, "fastCheck"));
  st.Set("valueGradCheck", Napi::Function::New(env, ValueGradCheck, "valueGradCheck"));
  st.Set("gradCheckNames", Names(env, pi0::GradCheckNames()));
  st.Set("fastCheckNames", Names(env, pi0::FastCheckNames()));
  st.Set("sampleCompare", Napi::Function::New(env, SampleCompare, "sampleCompare"));
  o.Set("selfTest", st);
  return o;
}

}  // namespace riptide
