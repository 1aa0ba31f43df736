// VecEnv: K independent simulation states of one compiled MuJoCo model, stepped at 20 Hz with the Panda's
// OSC_POSE controller and gripper ramp, plus an optional offscreen renderer. No N-API here: cpp/addon/sim_binding.cc
// wraps it for JS, and a native-only loop (RunNativeLoop) drives it without JS for benchmarks.
//
// Data path: actions (K, 7) float32 -> per env 25 x [mj_step1 -> OSC + gripper -> mj_step2] -> mjData[k]
//            -> readouts (robot state, object poses, contacts, images) written into caller-provided arrays.
// Envs of one VecEnv step serially on the calling thread; a VecEnv must be used by one thread at a time.
#pragma once
#include <mujoco/mujoco.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/osc.h"
#include "sim/render.h"

namespace riptide {

enum class StepMode {
  kFast,  // 25 x (mj_step1 -> controller -> mj_step2): one pipeline per substep
  kRs14,  // 25 x (mj_forward -> controller -> mj_step): robosuite 1.4 / LIBERO, 1.78x the cost
};

struct VecEnvConfig {
  std::string mjcf;                  // the MJCF document (compose it with src/sim/mjcf/scene.ts)
  int num_envs = 1;                  // K
  std::string name = "env";          // for error messages, e.g. the task name
  std::vector<std::string> objects;  // bodies whose poses ObjectPoses reports, in this order
  bool render = false;               // create a GL context (only then can Render be called)
  RenderOptions render_options;
  StepMode step_mode = StepMode::kFast;
};

// Robot state layout (per env), mirrored by ROBOT_STATE in src/sim/vec-env.ts.
namespace robot_state {
constexpr int kEefPos = 0, kEefQuat = 3, kEefAxisAngle = 7, kGripperQpos = 10, kJointPos = 12, kJointVel = 19,
              kSize = 26;
}

constexpr int kSubsteps = 25;  // 20 Hz control at a 2 ms timestep

class VecEnv {
 public:
  static std::unique_ptr<VecEnv> Create(const VecEnvConfig& config);
  ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  int num_envs() const { return static_cast<int>(data_.size()); }
  int nq() const { return model_->nq; }
  int nv() const { return model_->nv; }
  int state_size() const { return 1 + model_->nq + model_->nv; }
  int nmocap() const { return model_->nmocap; }
  int num_objects() const { return static_cast<int>(object_bodies_.size()); }
  bool has_renderer() const { return renderer_ != nullptr; }
  const RenderOptions& render_options() const { return config_.render_options; }
  const mjModel* model() const { return model_; }
  const mjData* data(int k) const { return data_[k]; }

  // state = [time, qpos (nq), qvel (nv)] (LIBERO init-state rows) or nullptr for the model's default pose with
  // the robot at its init qpos. mocap = (nmocap, 7) pos + quat wxyz of the mocap bodies (the task fixtures, so each
  // env can hold its own fixture poses under one compiled model) or nullptr for the model's body poses.
  // Then mj_forward; controller and gripper ramp reset; nullspace target = arm qpos.
  void Reset(int k, const double* state, size_t state_len, const double* mocap = nullptr, size_t mocap_len = 0);
  // One 20 Hz control step for each env with active[k] != 0 (active may be nullptr = all). actions (K, 7).
  void Step(const float* actions, const uint8_t* active);
  // Steps all envs `steps` times cycling through T = actions_len / (K*7) action rows; returns elapsed ms.
  double RunNativeLoop(const float* actions, size_t actions_len, int steps);

  void GetState(int k, double* out) const;          // (1 + nq + nv)
  void GetMocap(int k, double* out) const;          // (nmocap, 7) pos + quat wxyz
  void RobotState(double* out) const;               // (K, 26)
  void ObjectPoses(double* out) const;              // (K, num_objects, 7): pos xyz + quat xyzw
  int BodyId(const std::string& name) const;        // throws listing close names
  int SiteId(const std::string& name) const;
  int JointId(const std::string& name) const;
  int CameraId(const std::string& name) const;
  int JointQposAddress(const std::string& joint) const { return model_->jnt_qposadr[JointId(joint)]; }
  int JointDofAddress(const std::string& joint) const { return model_->jnt_dofadr[JointId(joint)]; }
  void BodyPose(int k, int body, double* out) const;  // (7) pos + quat xyzw
  void SitePose(int k, int site, double* out) const;  // (12) pos + 3x3 rotation row-major
  void JointQpos(int k, int joint, double* out, int* n) const;  // up to 7 values (free joint)
  bool InContact(int k, int body_a, int body_b) const;
  int ContactCount(int k) const { CheckEnv(k); return data_[k]->ncon; }
  // Renders camera into out (H, W, 3); raw OpenGL row order unless flip180.
  void Render(int k, const std::string& camera, uint8_t* out, bool flip180);
  // MuJoCo warnings raised in env k since its last reset (sum over mjData.warning[].number), and their names.
  int Warnings(int k) const;
  std::string WarningText(int k) const;

  void CheckEnv(int k) const;

 private:
  explicit VecEnv(const VecEnvConfig& config) : config_(config) {}
  void StepOne(int k, const float* action);
  void CheckActions(const float* actions, const uint8_t* active) const;
  int LookupId(mjtObj type, const char* kind, const std::string& name) const;

  VecEnvConfig config_;
  mjModel* model_ = nullptr;
  std::vector<mjData*> data_;
  std::vector<ControllerState> ctrl_;
  RobotIndex robot_;
  OscGains gains_;
  std::unique_ptr<OscScratch> scratch_;
  std::vector<int> object_bodies_;
  std::unique_ptr<OffscreenRenderer> renderer_;
};

// Robot init pose (LIBERO MountedPanda).
extern const double kPandaInitQpos[kArmDof];
extern const double kPandaInitFingers[2];

}  // namespace riptide
