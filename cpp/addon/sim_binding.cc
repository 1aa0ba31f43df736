// exports.sim: the VecEnv binding (src/sim/native-types.ts types it; src/sim/vec-env.ts is the facade).
// Argument checks and typed-array pointers only; all work happens in cpp/sim/vec_env.cc. C++ exceptions from the
// core (MuJoCo errors included, see cpp/sim/mujoco_errors.h) become JS Errors here.
#include <mujoco/mujoco.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "addon/bindings.h"
#include "sim/vec_env.h"

namespace riptide {
namespace {

// Runs f, turning core exceptions into JS errors (RangeError for indices, Error for the rest).
template <typename F>
auto Guard(const Napi::Env& env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::out_of_range& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected an integer");
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x) || std::floor(x) != x || std::fabs(x) > 2147483647.0) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected an integer, got " + std::to_string(x));
  }
  return static_cast<int>(x);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a string");
  return info[i].As<Napi::String>().Utf8Value();
}

class VecEnvWrap : public Napi::ObjectWrap<VecEnvWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "VecEnv",
        {
            InstanceAccessor<&VecEnvWrap::NumEnvs>("numEnvs"),
            InstanceAccessor<&VecEnvWrap::Nq>("nq"),
            InstanceAccessor<&VecEnvWrap::Nv>("nv"),
            InstanceAccessor<&VecEnvWrap::StateSize>("stateSize"),
            InstanceAccessor<&VecEnvWrap::Nmocap>("nmocap"),
            InstanceAccessor<&VecEnvWrap::NumObjects>("numObjects"),
            InstanceAccessor<&VecEnvWrap::RenderWidth>("renderWidth"),
            InstanceAccessor<&VecEnvWrap::RenderHeight>("renderHeight"),
            InstanceMethod<&VecEnvWrap::Reset>("reset"),
            InstanceMethod<&VecEnvWrap::Step>("step"),
            InstanceMethod<&VecEnvWrap::RunNativeLoop>("runNativeLoop"),
            InstanceMethod<&VecEnvWrap::GetState>("getState"),
            InstanceMethod<&VecEnvWrap::GetMocap>("getMocap"),
            InstanceMethod<&VecEnvWrap::RobotState>("robotState"),
            InstanceMethod<&VecEnvWrap::ObjectPoses>("objectPoses"),
            InstanceMethod<&VecEnvWrap::BodyId>("bodyId"),
            InstanceMethod<&VecEnvWrap::SiteId>("siteId"),
            InstanceMethod<&VecEnvWrap::JointId>("jointId"),
            InstanceMethod<&VecEnvWrap::CameraId>("cameraId"),
            InstanceMethod<&VecEnvWrap::JointQposAddress>("jointQposAddress"),
            InstanceMethod<&VecEnvWrap::JointDofAddress>("jointDofAddress"),
            InstanceMethod<&VecEnvWrap::BodyPose>("bodyPose"),
            InstanceMethod<&VecEnvWrap::SitePose>("sitePose"),
            InstanceMethod<&VecEnvWrap::JointQpos>("jointQpos"),
            InstanceMethod<&VecEnvWrap::InContact>("inContact"),
            InstanceMethod<&VecEnvWrap::ContactCount>("contactCount"),
            InstanceMethod<&VecEnvWrap::Render>("render"),
            InstanceMethod<&VecEnvWrap::Warnings>("warnings"),
            InstanceMethod<&VecEnvWrap::WarningText>("warningText"),
            InstanceMethod<&VecEnvWrap::Close>("close"),
        });
  }

  explicit VecEnvWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VecEnvWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "VecEnv: expected an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    VecEnvConfig c;
    if (!o.Get("mjcf").IsString()) throw Napi::TypeError::New(env, "VecEnv: options.mjcf must be an MJCF string");
    c.mjcf = o.Get("mjcf").As<Napi::String>().Utf8Value();
    if (o.Get("name").IsString()) c.name = o.Get("name").As<Napi::String>().Utf8Value();
    const Napi::Value n = o.Get("numEnvs");
    if (!n.IsNumber() || std::floor(n.As<Napi::Number>().DoubleValue()) != n.As<Napi::Number>().DoubleValue()) {
      throw Napi::TypeError::New(env, c.name + ": options.numEnvs must be an integer");
    }
    c.num_envs = static_cast<int>(n.As<Napi::Number>().DoubleValue());
    const Napi::Value objs = o.Get("objects");
    if (objs.IsArray()) {
      Napi::Array a = objs.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        if (!a.Get(i).IsString()) throw Napi::TypeError::New(env, c.name + ": options.objects must be body names");
        c.objects.push_back(a.Get(i).As<Napi::String>().Utf8Value());
      }
    } else if (!objs.IsUndefined() && !objs.IsNull()) {
      throw Napi::TypeError::New(env, c.name + ": options.objects must be an array of body names");
    }
    const Napi::Value r = o.Get("render");
    if (r.IsObject()) {
      Napi::Object ro = r.As<Napi::Object>();
      if (!ro.Get("width").IsNumber() || !ro.Get("height").IsNumber()) {
        throw Napi::TypeError::New(env, c.name + ": options.render needs numeric width and height");
      }
      c.render = true;
      c.render_options.width = ro.Get("width").As<Napi::Number>().Int32Value();
      c.render_options.height = ro.Get("height").As<Napi::Number>().Int32Value();
      c.render_options.msaa = ro.Get("msaa").ToBoolean().Value();
    }
    const Napi::Value mode = o.Get("stepMode");
    if (mode.IsString()) {
      const std::string s = mode.As<Napi::String>().Utf8Value();
      if (s == "fast") c.step_mode = StepMode::kFast;
      else if (s == "rs14") c.step_mode = StepMode::kRs14;
      else throw Napi::TypeError::New(env, c.name + ": options.stepMode must be 'fast' or 'rs14', got '" + s + "'");
    }
    env_ = Guard(env, [&] { return VecEnv::Create(c); });
  }

 private:
  VecEnv& Env(const Napi::CallbackInfo& info) {
    if (!env_) throw Napi::Error::New(info.Env(), "VecEnv is closed");
    return *env_;
  }
  VecEnv& Env(const Napi::Env& env) {
    if (!env_) throw Napi::Error::New(env, "VecEnv is closed");
    return *env_;
  }

  Napi::Value NumEnvs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Env(info).num_envs()); }
  Napi::Value Nq(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Env(info).nq()); }
  Napi::Value Nv(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Env(info).nv()); }
  Napi::Value StateSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Env(info).state_size()); }
  Napi::Value Nmocap(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Env(info).nmocap()); }
  Napi::Value NumObjects(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Env(info).num_objects()); }
  Napi::Value RenderWidth(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    return Napi::Number::New(info.Env(), e.has_renderer() ? e.render_options().width : 0);
  }
  Napi::Value RenderHeight(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    return Napi::Number::New(info.Env(), e.has_renderer() ? e.render_options().height : 0);
  }

  void Reset(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "reset(k)");
    auto present = [&](size_t i) { return info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull(); };
    double* s = nullptr;
    double* mocap = nullptr;
    size_t len = 0, mocap_len = 0;
    if (present(1)) s = TypedData<double>(info.Env(), info[1], e.state_size(), "reset(k, initState): initState", &len);
    if (present(2)) {
      mocap = TypedData<double>(info.Env(), info[2], 7 * e.nmocap(), "reset(k, initState, fixturePoses): fixturePoses",
                                &mocap_len);
    }
    Guard(info.Env(), [&] { e.Reset(k, s, len, mocap, mocap_len); });
  }

  void Step(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const size_t K = e.num_envs();
    const float* a = TypedData<float>(info.Env(), info[0], K * kActionDim, "step(actions): actions (numEnvs*7)");
    const uint8_t* active = nullptr;
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
      active = TypedData<uint8_t>(info.Env(), info[1], K, "step(actions, active): active (numEnvs)");
    }
    Guard(info.Env(), [&] { e.Step(a, active); });
  }

  Napi::Value RunNativeLoop(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    size_t len = 0;
    const float* a = TypedData<float>(info.Env(), info[0], 0, "runNativeLoop(actions): actions (T*numEnvs*7)", &len);
    const int steps = IntArg(info, 1, "runNativeLoop(actions, steps): steps");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.RunNativeLoop(a, len, steps); }));
  }

  void GetState(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "getState(k)");
    double* out = TypedData<double>(info.Env(), info[1], e.state_size(), "getState(k, out): out (1+nq+nv)");
    Guard(info.Env(), [&] { e.GetState(k, out); });
  }

  void GetMocap(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "getMocap(k)");
    double* out = TypedData<double>(info.Env(), info[1], 7 * e.nmocap(), "getMocap(k, out): out (nmocap*7)");
    Guard(info.Env(), [&] { e.GetMocap(k, out); });
  }

  void RobotState(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    double* out = TypedData<double>(info.Env(), info[0], e.num_envs() * robot_state::kSize,
                                    "robotState(out): out (numEnvs*26)");
    e.RobotState(out);
  }

  void ObjectPoses(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const size_t n = static_cast<size_t>(e.num_envs()) * e.num_objects() * 7;
    if (n == 0) return;
    double* out = TypedData<double>(info.Env(), info[0], n, "objectPoses(out): out (numEnvs*objects.length*7)");
    e.ObjectPoses(out);
  }

  Napi::Value BodyId(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const std::string name = StringArg(info, 0, "bodyId(name)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.BodyId(name); }));
  }
  Napi::Value SiteId(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const std::string name = StringArg(info, 0, "siteId(name)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.SiteId(name); }));
  }
  Napi::Value JointId(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const std::string name = StringArg(info, 0, "jointId(name)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.JointId(name); }));
  }
  Napi::Value CameraId(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const std::string name = StringArg(info, 0, "cameraId(name)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.CameraId(name); }));
  }

  Napi::Value JointQposAddress(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const std::string name = StringArg(info, 0, "jointQposAddress(name)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.JointQposAddress(name); }));
  }
  Napi::Value JointDofAddress(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const std::string name = StringArg(info, 0, "jointDofAddress(name)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.JointDofAddress(name); }));
  }

  void BodyPose(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "bodyPose(k)"), id = IntArg(info, 1, "bodyPose(k, id)");
    double* out = TypedData<double>(info.Env(), info[2], 7, "bodyPose(k, id, out): out (7)");
    Guard(info.Env(), [&] { e.BodyPose(k, id, out); });
  }
  void SitePose(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "sitePose(k)"), id = IntArg(info, 1, "sitePose(k, id)");
    double* out = TypedData<double>(info.Env(), info[2], 12, "sitePose(k, id, out): out (12)");
    Guard(info.Env(), [&] { e.SitePose(k, id, out); });
  }
  Napi::Value JointQpos(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "jointQpos(k)"), id = IntArg(info, 1, "jointQpos(k, id)");
    double* out = TypedData<double>(info.Env(), info[2], 7, "jointQpos(k, id, out): out (7)");
    int n = 0;
    Guard(info.Env(), [&] { e.JointQpos(k, id, out, &n); });
    return Napi::Number::New(info.Env(), n);
  }
  Napi::Value InContact(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "inContact(k)"), a = IntArg(info, 1, "inContact(k, bodyA)"),
              b = IntArg(info, 2, "inContact(k, bodyA, bodyB)");
    return Napi::Boolean::New(info.Env(), Guard(info.Env(), [&] { return e.InContact(k, a, b); }));
  }
  Napi::Value ContactCount(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "contactCount(k)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.ContactCount(k); }));
  }

  void Render(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "render(k)");
    const std::string camera = StringArg(info, 1, "render(k, camera)");
    if (!e.has_renderer()) {
      throw Napi::Error::New(info.Env(), "render() needs a render context: create the VecEnv with render: { width, height }");
    }
    const size_t n = static_cast<size_t>(e.render_options().width) * e.render_options().height * 3;
    uint8_t* out = TypedData<uint8_t>(info.Env(), info[2], n, "render(k, camera, out): out (height*width*3)");
    const bool flip = info.Length() > 3 && info[3].ToBoolean().Value();
    Guard(info.Env(), [&] { e.Render(k, camera, out, flip); });
  }

  Napi::Value Warnings(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "warnings(k)");
    return Napi::Number::New(info.Env(), Guard(info.Env(), [&] { return e.Warnings(k); }));
  }
  Napi::Value WarningText(const Napi::CallbackInfo& info) {
    VecEnv& e = Env(info);
    const int k = IntArg(info, 0, "warningText(k)");
    return Napi::String::New(info.Env(), Guard(info.Env(), [&] { return e.WarningText(k); }));
  }

  void Close(const Napi::CallbackInfo&) { env_.reset(); }

  std::unique_ptr<VecEnv> env_;
};

}  // namespace

Napi::Object InitSim(Napi::Env env) {
  Napi::Object sim = Napi::Object::New(env);
  sim.Set("VecEnv", VecEnvWrap::Define(env));
  sim.Set("mujocoVersion", Napi::String::New(env, mj_versionString()));
  return sim;
}

}  // namespace riptide
