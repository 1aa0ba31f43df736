// MuJoCo's process-wide error/warning hooks made safe for many envs in many threads: an error becomes a C++
// exception (riptide::MujocoError) thrown from the hook, with its message kept in a thread_local buffer, so a
// bad model or an arena overflow reaches JS as an Error instead of exit(). Warnings are not printed (MuJoCo
// 2.2.2 would append them to MUJOCO_LOG.TXT); mjData.warning[] counts them and VecEnv::Warnings reports it.
#pragma once
#include <stdexcept>
#include <string>

namespace riptide {

struct MujocoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Installs the hooks once per process; cheap to call again.
void InstallMujocoHandlers();

// The last warning text MuJoCo reported on this thread ("" if none).
const char* LastMujocoWarning();

}  // namespace riptide
