// robosuite 1.4 OSC_POSE (as LIBERO runs it) and the PandaGripper ramp, for one env. spec/libero.md §2 has the
// reference semantics; the only deliberate change is Cholesky solves instead of SVD pinv (same result away from
// singularities, ~40x cheaper). Everything here reads/writes one mjData and a small per-env state: no allocation.
//
// Per control step: OscSetGoal once (first substep), then per substep OscTorques + GripperRamp, which write ctrl.
#pragma once
#include <mujoco/mujoco.h>

#include <string>
#include <vector>

namespace riptide {

constexpr int kArmDof = 7;
constexpr int kActionDim = 7;

// Model indices of the robot, resolved once per compiled model (names from src/sim/mjcf/panda.ts).
struct RobotIndex {
  int arm_qpos[kArmDof];
  int arm_dof[kArmDof];
  int arm_act[kArmDof];
  double arm_ctrl_lo[kArmDof], arm_ctrl_hi[kArmDof];
  int finger_qpos[2];
  int finger_act[2];
  double finger_mid[2], finger_half[2];
  int grip_site;
  int hand_body;
  std::vector<int> dof_to_arm;  // (nv) arm index of a dof, -1 for the rest

  // Resolves every name; throws std::runtime_error listing all missing names.
  static RobotIndex Resolve(const mjModel* m);
};

struct OscGains {
  double kp = 150.0;
  double kd = 24.494897427831781;  // 2 * sqrt(150) (damping ratio 1)
  double null_kp = 10.0;
  double null_kd = 6.324555320336759;  // 2 * sqrt(10)
  double pos_scale = 0.05;  // m per unit action
  double rot_scale = 0.5;   // rad per unit action
  double grip_speed = 0.01;  // ramp per substep
};

// Per-env controller state.
struct ControllerState {
  double goal_pos[3];
  double goal_rot[9];  // row-major world rotation of the grip site
  double q0[kArmDof];  // nullspace posture target
  double grip_c;       // gripper ramp in [-1, 1]; +1 = closed
  float grip_sign;     // sign of the last gripper action
};

// Per-VecEnv scratch (envs of one VecEnv step serially on one thread).
struct OscScratch {
  std::vector<mjtNum> jacp, jacr;  // (3, nv)
  explicit OscScratch(int nv) : jacp(3 * nv), jacr(3 * nv) {}
};

// Re-anchors the goal at the current grip-site pose plus the scaled, clipped delta (needs fresh kinematics).
void OscSetGoal(const RobotIndex& r, const mjData* d, const float* action, const OscGains& g, ControllerState* s);

// Arm torques for the current state (needs kinematics, qM and qfrc_bias: after mj_step1 or mj_forward).
void OscTorques(const mjModel* m, mjData* d, const RobotIndex& r, const ControllerState& s, const OscGains& g,
                OscScratch* scratch);

// One substep of the gripper ramp: c += speed * sign, clipped, then finger ctrl = mid -/+ half * c.
void GripperRamp(mjData* d, const RobotIndex& r, const OscGains& g, ControllerState* s);

// Sets the finger ctrl for the current ramp value without advancing it.
void GripperApplyCtrl(mjData* d, const RobotIndex& r, const ControllerState& s);

}  // namespace riptide
