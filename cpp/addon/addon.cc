// riptide native addon entry: registers the simulator (exports.sim) and the PI0 model (exports.pi0).
// Bindings only: argument checks and typed-array pointers; the work lives in cpp/sim and cpp/pi0.
#include <napi.h>

#include "addon/bindings.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sim", riptide::InitSim(env));
  exports.Set("pi0", riptide::InitPi0(env));
  return exports;
}

NODE_API_MODULE(riptide, Init)
