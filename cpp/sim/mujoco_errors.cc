// See mujoco_errors.h. The hook throws through MuJoCo's frames: libmujoco 2.2.2 is built with unwind tables
// (.eh_frame), so unwinding is defined; the mjData stack pointer it leaves behind is cleared by the next reset.
#include "sim/mujoco_errors.h"

#include <mujoco/mujoco.h>

#include <cstring>
#include <mutex>

namespace riptide {
namespace {

thread_local char tl_error[1024];
thread_local char tl_warning[1024];

void CopyMessage(char* dst, const char* msg) {
  std::strncpy(dst, msg ? msg : "(no message)", 1023);
  dst[1023] = '\0';
}

void OnError(const char* msg) {
  CopyMessage(tl_error, msg);
  throw MujocoError(std::string("MuJoCo error: ") + tl_error);
}

void OnWarning(const char* msg) { CopyMessage(tl_warning, msg); }

}  // namespace

void InstallMujocoHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    mju_user_error = OnError;
    mju_user_warning = OnWarning;
  });
}

const char* LastMujocoWarning() { return tl_warning; }

}  // namespace riptide
