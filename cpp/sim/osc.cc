// OSC_POSE + gripper ramp; see osc.h. Matrices are small dense row-major arrays on the stack:
// J (6, 7), M (7, 7), X = M^-1 J^T (7, 6), Linv = J M^-1 J^T (6, 6).
#include "sim/osc.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace riptide {
namespace {

constexpr int N = kArmDof;

inline double Clip(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

// In-place Cholesky of a small SPD matrix (row-major n x n, lower triangle used), with a floor on the pivots so a
// (near-)singular Jacobian gives a damped answer instead of NaN (pinv's role in robosuite).
void Chol(double* a, int n) {
  for (int j = 0; j < n; j++) {
    double s = a[j * n + j];
    for (int k = 0; k < j; k++) s -= a[j * n + k] * a[j * n + k];
    const double piv = std::sqrt(s > 1e-12 ? s : 1e-12);
    a[j * n + j] = piv;
    for (int i = j + 1; i < n; i++) {
      double t = a[i * n + j];
      for (int k = 0; k < j; k++) t -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = t / piv;
    }
  }
}

// Solves (L L^T) x = b in place (b of length n).
void CholSolve(const double* l, int n, double* b) {
  for (int i = 0; i < n; i++) {
    double t = b[i];
    for (int k = 0; k < i; k++) t -= l[i * n + k] * b[k];
    b[i] = t / l[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double t = b[i];
    for (int k = i + 1; k < n; k++) t -= l[k * n + i] * b[k];
    b[i] = t / l[i * n + i];
  }
}

// Solves the 3x3 block starting at (o, o) of the 6x6 matrix a for rhs b (in place).
void Solve3Block(const double* a, int o, double* b) {
  double blk[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) blk[i * 3 + j] = a[(o + i) * 6 + (o + j)];
  Chol(blk, 3);
  CholSolve(blk, 3, b);
}

int FindId(const mjModel* m, mjtObj type, const std::string& name, std::string* missing, const char* kind) {
  const int id = mj_name2id(m, type, name.c_str());
  if (id < 0) *missing += std::string(missing->empty() ? "" : ", ") + kind + " '" + name + "'";
  return id;
}

}  // namespace

RobotIndex RobotIndex::Resolve(const mjModel* m) {
  RobotIndex r;
  std::string missing;
  for (int i = 0; i < N; i++) {
    const int j = FindId(m, mjOBJ_JOINT, "robot0_joint" + std::to_string(i + 1), &missing, "joint");
    const int a = FindId(m, mjOBJ_ACTUATOR, "robot0_torq_j" + std::to_string(i + 1), &missing, "actuator");
    r.arm_qpos[i] = j >= 0 ? m->jnt_qposadr[j] : -1;
    r.arm_dof[i] = j >= 0 ? m->jnt_dofadr[j] : -1;
    r.arm_act[i] = a;
    if (j >= 0 && m->jnt_type[j] != mjJNT_HINGE) missing += (missing.empty() ? "" : ", ") + std::string("hinge joint robot0_joint") + std::to_string(i + 1);
    if (a >= 0) {
      const bool limited = m->actuator_ctrllimited[a];
      r.arm_ctrl_lo[i] = limited ? m->actuator_ctrlrange[2 * a] : -mjMAXVAL;
      r.arm_ctrl_hi[i] = limited ? m->actuator_ctrlrange[2 * a + 1] : mjMAXVAL;
    }
  }
  for (int i = 0; i < 2; i++) {
    const int j = FindId(m, mjOBJ_JOINT, "gripper0_finger_joint" + std::to_string(i + 1), &missing, "joint");
    const int a = FindId(m, mjOBJ_ACTUATOR, "gripper0_finger" + std::to_string(i + 1), &missing, "actuator");
    r.finger_qpos[i] = j >= 0 ? m->jnt_qposadr[j] : -1;
    r.finger_act[i] = a;
    if (a >= 0) {
      const double lo = m->actuator_ctrlrange[2 * a], hi = m->actuator_ctrlrange[2 * a + 1];
      r.finger_mid[i] = 0.5 * (lo + hi);
      r.finger_half[i] = 0.5 * (hi - lo);
    }
  }
  r.grip_site = FindId(m, mjOBJ_SITE, "gripper0_grip_site", &missing, "site");
  r.hand_body = FindId(m, mjOBJ_BODY, "robot0_right_hand", &missing, "body");
  if (!missing.empty()) {
    throw std::runtime_error("the model lacks the robot names riptide needs: " + missing +
                             " (generate the robot with src/sim/mjcf/panda.ts)");
  }
  r.dof_to_arm.assign(m->nv, -1);
  for (int i = 0; i < N; i++) r.dof_to_arm[r.arm_dof[i]] = i;
  return r;
}

void OscSetGoal(const RobotIndex& r, const mjData* d, const float* action, const OscGains& g, ControllerState* s) {
  const mjtNum* p = d->site_xpos + 3 * r.grip_site;
  const mjtNum* R = d->site_xmat + 9 * r.grip_site;
  double rot[3];
  for (int i = 0; i < 3; i++) {
    s->goal_pos[i] = p[i] + g.pos_scale * Clip(action[i], -1.0, 1.0);
    rot[i] = g.rot_scale * Clip(action[3 + i], -1.0, 1.0);
  }
  // goal_R = R(axis-angle rot) * R_current (world-frame left multiply, robosuite set_goal_orientation).
  const double angle = std::sqrt(rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2]);
  if (angle < 1e-12) {
    std::memcpy(s->goal_rot, R, sizeof(double) * 9);
  } else {
    mjtNum axis[3] = {rot[0] / angle, rot[1] / angle, rot[2] / angle}, q[4], dR[9];
    mju_axisAngle2Quat(q, axis, angle);
    mju_quat2Mat(dR, q);
    mju_mulMatMat(s->goal_rot, dR, R, 3, 3, 3);
  }
  s->grip_sign = action[6] > 0.f ? 1.f : (action[6] < 0.f ? -1.f : 0.f);
}

void OscTorques(const mjModel* m, mjData* d, const RobotIndex& r, const ControllerState& s, const OscGains& g,
                OscScratch* scratch) {
  const int nv = m->nv;
  const int site = r.grip_site;
  mj_jacSite(m, d, scratch->jacp.data(), scratch->jacr.data(), site);

  double J[6 * N], q[N], v[N];  // J (6, 7): rows 0-2 position, 3-5 rotation
  for (int c = 0; c < N; c++) {
    const int dof = r.arm_dof[c];
    for (int i = 0; i < 3; i++) {
      J[i * N + c] = scratch->jacp[i * nv + dof];
      J[(3 + i) * N + c] = scratch->jacr[i * nv + dof];
    }
    q[c] = d->qpos[r.arm_qpos[c]];
    v[c] = d->qvel[dof];
  }

  // M (7, 7): arm block of the joint-space inertia, read from the sparse qM (each dof row lists its ancestors).
  double M[N * N] = {0};
  for (int a = 0; a < N; a++) {
    int i = r.arm_dof[a], adr = m->dof_Madr[i];
    for (int j = i; j >= 0; j = m->dof_parentid[j], adr++) {
      const int b = r.dof_to_arm[j];
      if (b >= 0) M[a * N + b] = M[b * N + a] = d->qM[adr];
    }
  }

  // Task-space errors: F = kp (goal - p) - kd v_ee; tau_r = kp e_ori - kd w_ee.
  const mjtNum* p = d->site_xpos + 3 * site;
  const mjtNum* R = d->site_xmat + 9 * site;
  double vee[6] = {0};
  for (int i = 0; i < 6; i++)
    for (int c = 0; c < N; c++) vee[i] += J[i * N + c] * v[c];
  double e_ori[3] = {0};
  for (int col = 0; col < 3; col++) {  // 0.5 * sum_i cross(rc_i, rd_i) over the rotation-matrix columns
    const double rc[3] = {R[col], R[3 + col], R[6 + col]};
    const double rd[3] = {s.goal_rot[col], s.goal_rot[3 + col], s.goal_rot[6 + col]};
    e_ori[0] += 0.5 * (rc[1] * rd[2] - rc[2] * rd[1]);
    e_ori[1] += 0.5 * (rc[2] * rd[0] - rc[0] * rd[2]);
    e_ori[2] += 0.5 * (rc[0] * rd[1] - rc[1] * rd[0]);
  }
  double wrench[6];
  for (int i = 0; i < 3; i++) {
    wrench[i] = g.kp * (s.goal_pos[i] - p[i]) - g.kd * vee[i];
    wrench[3 + i] = g.kp * e_ori[i] - g.kd * vee[3 + i];
  }

  // X = M^-1 J^T (7, 6); Linv = J X (6, 6).
  double L[N * N];
  std::memcpy(L, M, sizeof(L));
  Chol(L, N);
  double X[N * 6];
  for (int k = 0; k < 6; k++) {
    double col[N];
    for (int c = 0; c < N; c++) col[c] = J[k * N + c];
    CholSolve(L, N, col);
    for (int c = 0; c < N; c++) X[c * 6 + k] = col[c];
  }
  double Linv[36];
  for (int i = 0; i < 6; i++)
    for (int k = 0; k < 6; k++) {
      double t = 0;
      for (int c = 0; c < N; c++) t += J[i * N + c] * X[c * 6 + k];
      Linv[i * 6 + k] = t;
    }

  // Decoupled: [Lambda_pos F; Lambda_ori tau_r] (uncouple_pos_ori = true).
  Solve3Block(Linv, 0, wrench);
  Solve3Block(Linv, 3, wrench + 3);

  // Nullspace posture: tau_p = M (kp (q0 - q) - kd v); tau_null = N^T tau_p = tau_p - J^T Lambda X^T tau_p.
  double acc[N], taup[N] = {0};
  for (int c = 0; c < N; c++) acc[c] = g.null_kp * (s.q0[c] - q[c]) - g.null_kd * v[c];
  for (int a = 0; a < N; a++)
    for (int c = 0; c < N; c++) taup[a] += M[a * N + c] * acc[c];
  double u[6] = {0};
  for (int k = 0; k < 6; k++)
    for (int c = 0; c < N; c++) u[k] += X[c * 6 + k] * taup[c];
  double Lfull[36];
  std::memcpy(Lfull, Linv, sizeof(Lfull));
  Chol(Lfull, 6);
  CholSolve(Lfull, 6, u);

  for (int c = 0; c < N; c++) {
    double tau = taup[c] + d->qfrc_bias[r.arm_dof[c]];
    for (int i = 0; i < 6; i++) tau += J[i * N + c] * (wrench[i] - u[i]);
    d->ctrl[r.arm_act[c]] = Clip(tau, r.arm_ctrl_lo[c], r.arm_ctrl_hi[c]);
  }
}

void GripperApplyCtrl(mjData* d, const RobotIndex& r, const ControllerState& s) {
  // robosuite PandaGripper: current_action = [-c, +c]; ctrl = mid + half * current_action.
  d->ctrl[r.finger_act[0]] = r.finger_mid[0] - r.finger_half[0] * s.grip_c;
  d->ctrl[r.finger_act[1]] = r.finger_mid[1] + r.finger_half[1] * s.grip_c;
}

void GripperRamp(mjData* d, const RobotIndex& r, const OscGains& g, ControllerState* s) {
  s->grip_c = Clip(s->grip_c + g.grip_speed * s->grip_sign, -1.0, 1.0);
  GripperApplyCtrl(d, r, *s);
}

}  // namespace riptide
