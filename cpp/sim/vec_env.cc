// See vec_env.h.
#include "sim/vec_env.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "sim/mujoco_errors.h"

namespace riptide {

const double kPandaInitQpos[kArmDof] = {0, -0.16104, 0, -2.44460, 0, 2.22675, 0.78539816339744831};
const double kPandaInitFingers[2] = {0.020833, -0.020833};

namespace {

// Serialises MJCF compilation (MuJoCo 2.2.2 swaps the global error hooks while compiling).
std::mutex g_compile_mutex;

const char* kWarningNames[mjNWARNING] = {"INERTIA (near-singular inertia)", "CONTACTFULL (nconmax too small)",
                                         "CNSTRFULL (njmax too small)",     "VGEOMFULL (too many visual geoms)",
                                         "BADQPOS (bad number in qpos)",    "BADQVEL (bad number in qvel)",
                                         "BADQACC (bad number in qacc)",    "BADCTRL (bad number in ctrl)"};

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); j++) prev[j] = j;
  for (size_t i = 1; i <= a.size(); i++) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); j++) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// True when a and b share a word of 4+ letters ("robot0_hand" and "robot0_right_hand" share "hand").
bool SharesWord(const std::string& a, const std::string& b) {
  auto words = [](const std::string& s) {
    std::vector<std::string> w;
    std::string cur;
    for (char c : s + "_") {
      if (c == '_' || c == '/' || c == '.' || c == '-') {
        if (cur.size() >= 4 && !std::isdigit(static_cast<unsigned char>(cur.back()))) w.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    return w;
  };
  for (const std::string& x : words(a))
    for (const std::string& y : words(b))
      if (x == y) return true;
  return false;
}

mjModel* LoadFromString(const std::string& xml, const std::string& name) {
  // MuJoCo 2.2.2 has no from-string loader: put the document in a virtual file system as "model.xml".
  std::unique_ptr<mjVFS> vfs(new mjVFS);
  mj_defaultVFS(vfs.get());
  const char* fname = "model.xml";
  if (mj_makeEmptyFileVFS(vfs.get(), fname, static_cast<int>(xml.size())) != 0) {
    throw std::runtime_error(name + ": could not create the in-memory MJCF file");
  }
  const int idx = mj_findFileVFS(vfs.get(), fname);
  std::memcpy(vfs->filedata[idx], xml.data(), xml.size());
  char error[1024] = "";
  mjModel* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_compile_mutex);
    try {
      m = mj_loadXML(fname, vfs.get(), error, sizeof(error));
    } catch (const std::exception& e) {
      mj_deleteVFS(vfs.get());
      throw std::runtime_error(name + ": MuJoCo could not compile the MJCF: " + e.what());
    }
  }
  mj_deleteVFS(vfs.get());
  if (!m) throw std::runtime_error(name + ": MuJoCo could not compile the MJCF: " + std::string(error));
  return m;
}

// Axis-angle of a unit quaternion given as (x, y, z, w), robosuite quat2axisangle (no sign canonicalisation).
void QuatToAxisAngle(const double* xyzw, double* out) {
  const double w = std::max(-1.0, std::min(1.0, xyzw[3]));
  const double den = std::sqrt(1.0 - w * w);
  if (den < 1e-9) {
    out[0] = out[1] = out[2] = 0;
    return;
  }
  const double s = 2.0 * std::acos(w) / den;
  for (int i = 0; i < 3; i++) out[i] = xyzw[i] * s;
}

inline void QuatWxyzToXyzw(const mjtNum* wxyz, double* out) {
  out[0] = wxyz[1];
  out[1] = wxyz[2];
  out[2] = wxyz[3];
  out[3] = wxyz[0];
}

}  // namespace

std::unique_ptr<VecEnv> VecEnv::Create(const VecEnvConfig& config) {
  InstallMujocoHandlers();
  if (config.num_envs < 1 || config.num_envs > 4096) {
    throw std::runtime_error(config.name + ": numEnvs must be an integer in 1..4096, got " +
                             std::to_string(config.num_envs));
  }
  std::unique_ptr<VecEnv> env(new VecEnv(config));
  env->model_ = LoadFromString(config.mjcf, config.name);
  mjModel* m = env->model_;
  try {
    env->robot_ = RobotIndex::Resolve(m);
  } catch (const std::exception& e) {
    throw std::runtime_error(config.name + ": " + e.what());
  }
  for (const std::string& obj : config.objects) env->object_bodies_.push_back(env->BodyId(obj));
  env->scratch_.reset(new OscScratch(m->nv));
  for (int k = 0; k < config.num_envs; k++) {
    mjData* d = mj_makeData(m);
    if (!d) throw std::runtime_error(config.name + ": mj_makeData failed (out of memory?)");
    env->data_.push_back(d);
  }
  env->ctrl_.resize(config.num_envs);
  if (config.render) {
    try {
      env->renderer_.reset(new OffscreenRenderer(m, config.render_options));
    } catch (const std::exception& e) {
      throw std::runtime_error(config.name + ": could not create the render context: " + e.what());
    }
  }
  for (int k = 0; k < config.num_envs; k++) env->Reset(k, nullptr, 0);
  return env;
}

VecEnv::~VecEnv() {
  renderer_.reset();  // GL resources first, while the model is alive
  for (mjData* d : data_) mj_deleteData(d);
  if (model_) mj_deleteModel(model_);
}

void VecEnv::CheckEnv(int k) const {
  if (k < 0 || k >= num_envs()) {
    throw std::out_of_range(config_.name + ": env index " + std::to_string(k) + " out of range 0.." +
                            std::to_string(num_envs() - 1));
  }
}

void VecEnv::Reset(int k, const double* state, size_t state_len, const double* mocap, size_t mocap_len) {
  CheckEnv(k);
  const mjModel* m = model_;
  mjData* d = data_[k];
  if (state && state_len != static_cast<size_t>(state_size())) {
    throw std::invalid_argument(config_.name + ": reset state must have 1+nq+nv = " + std::to_string(state_size()) +
                                " values [time, qpos(" + std::to_string(m->nq) + "), qvel(" + std::to_string(m->nv) +
                                ")], got " + std::to_string(state_len));
  }
  if (mocap && mocap_len != static_cast<size_t>(7 * m->nmocap)) {
    throw std::invalid_argument(config_.name + ": reset fixture poses must have 7 values (pos, quat wxyz) per mocap body = " +
                                std::to_string(7 * m->nmocap) + ", got " + std::to_string(mocap_len));
  }
  mj_resetData(m, d);
  if (mocap) {
    for (int i = 0; i < m->nmocap; i++) {
      std::memcpy(d->mocap_pos + 3 * i, mocap + 7 * i, sizeof(mjtNum) * 3);
      std::memcpy(d->mocap_quat + 4 * i, mocap + 7 * i + 3, sizeof(mjtNum) * 4);
      mju_normalize4(d->mocap_quat + 4 * i);
    }
  }
  if (state) {
    d->time = state[0];
    std::memcpy(d->qpos, state + 1, sizeof(mjtNum) * m->nq);
    std::memcpy(d->qvel, state + 1 + m->nq, sizeof(mjtNum) * m->nv);
  } else {
    for (int i = 0; i < kArmDof; i++) d->qpos[robot_.arm_qpos[i]] = kPandaInitQpos[i];
    for (int i = 0; i < 2; i++) d->qpos[robot_.finger_qpos[i]] = kPandaInitFingers[i];
  }
  ControllerState& s = ctrl_[k];
  s.grip_c = 0;
  s.grip_sign = 0;
  for (int i = 0; i < kArmDof; i++) s.q0[i] = d->qpos[robot_.arm_qpos[i]];
  GripperApplyCtrl(d, robot_, s);
  mj_forward(m, d);
  const float hold[kActionDim] = {0, 0, 0, 0, 0, 0, 0};
  OscSetGoal(robot_, d, hold, gains_, &s);
}

void VecEnv::CheckActions(const float* actions, const uint8_t* active) const {
  const int K = num_envs();
  for (int k = 0; k < K; k++) {
    if (active && !active[k]) continue;
    for (int i = 0; i < kActionDim; i++) {
      if (!std::isfinite(actions[k * kActionDim + i])) {
        throw std::invalid_argument(config_.name + ": step: action of env " + std::to_string(k) + " component " +
                                    std::to_string(i) + " is not finite (" +
                                    std::to_string(actions[k * kActionDim + i]) +
                                    "); actions are (numEnvs, 7) values in [-1, 1]");
      }
    }
  }
}

void VecEnv::StepOne(int k, const float* action) {
  const mjModel* m = model_;
  mjData* d = data_[k];
  ControllerState& s = ctrl_[k];
  OscScratch* scratch = scratch_.get();
  if (config_.step_mode == StepMode::kFast) {
    for (int sub = 0; sub < kSubsteps; sub++) {
      mj_step1(m, d);
      if (sub == 0) OscSetGoal(robot_, d, action, gains_, &s);
      OscTorques(m, d, robot_, s, gains_, scratch);
      GripperRamp(d, robot_, gains_, &s);
      mj_step2(m, d);
    }
  } else {
    for (int sub = 0; sub < kSubsteps; sub++) {
      mj_forward(m, d);
      if (sub == 0) OscSetGoal(robot_, d, action, gains_, &s);
      OscTorques(m, d, robot_, s, gains_, scratch);
      GripperRamp(d, robot_, gains_, &s);
      mj_step(m, d);
    }
  }
}

void VecEnv::Step(const float* actions, const uint8_t* active) {
  CheckActions(actions, active);
  const int K = num_envs();
  for (int k = 0; k < K; k++) {
    if (active && !active[k]) continue;
    StepOne(k, actions + k * kActionDim);
  }
}

double VecEnv::RunNativeLoop(const float* actions, size_t actions_len, int steps) {
  const size_t row = static_cast<size_t>(num_envs()) * kActionDim;
  if (actions_len == 0 || actions_len % row != 0) {
    throw std::invalid_argument(config_.name + ": runNativeLoop actions must hold T*numEnvs*7 values (T >= 1), got " +
                                std::to_string(actions_len));
  }
  if (steps < 0) throw std::invalid_argument(config_.name + ": runNativeLoop steps must be >= 0");
  const size_t T = actions_len / row;
  for (size_t t = 0; t < T; t++) CheckActions(actions + t * row, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; i++) {
    const float* a = actions + (static_cast<size_t>(i) % T) * row;
    for (int k = 0; k < num_envs(); k++) StepOne(k, a + k * kActionDim);
  }
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

void VecEnv::GetState(int k, double* out) const {
  CheckEnv(k);
  const mjData* d = data_[k];
  out[0] = d->time;
  std::memcpy(out + 1, d->qpos, sizeof(mjtNum) * model_->nq);
  std::memcpy(out + 1 + model_->nq, d->qvel, sizeof(mjtNum) * model_->nv);
}

void VecEnv::GetMocap(int k, double* out) const {
  CheckEnv(k);
  const mjData* d = data_[k];
  for (int i = 0; i < model_->nmocap; i++) {
    std::memcpy(out + 7 * i, d->mocap_pos + 3 * i, sizeof(mjtNum) * 3);
    std::memcpy(out + 7 * i + 3, d->mocap_quat + 4 * i, sizeof(mjtNum) * 4);
  }
}

void VecEnv::RobotState(double* out) const {
  using namespace robot_state;
  for (int k = 0; k < num_envs(); k++) {
    const mjData* d = data_[k];
    double* o = out + k * kSize;
    std::memcpy(o + kEefPos, d->site_xpos + 3 * robot_.grip_site, sizeof(double) * 3);
    QuatWxyzToXyzw(d->xquat + 4 * robot_.hand_body, o + kEefQuat);
    QuatToAxisAngle(o + kEefQuat, o + kEefAxisAngle);
    for (int i = 0; i < 2; i++) o[kGripperQpos + i] = d->qpos[robot_.finger_qpos[i]];
    for (int i = 0; i < kArmDof; i++) {
      o[kJointPos + i] = d->qpos[robot_.arm_qpos[i]];
      o[kJointVel + i] = d->qvel[robot_.arm_dof[i]];
    }
  }
}

void VecEnv::ObjectPoses(double* out) const {
  const int n = num_objects();
  for (int k = 0; k < num_envs(); k++) {
    for (int j = 0; j < n; j++) BodyPose(k, object_bodies_[j], out + (k * n + j) * 7);
  }
}

int VecEnv::LookupId(mjtObj type, const char* kind, const std::string& name) const {
  const int id = mj_name2id(model_, type, name.c_str());
  if (id >= 0) return id;
  int count = 0;
  switch (type) {
    case mjOBJ_BODY: count = model_->nbody; break;
    case mjOBJ_SITE: count = model_->nsite; break;
    case mjOBJ_JOINT: count = model_->njnt; break;
    case mjOBJ_CAMERA: count = model_->ncam; break;
    default: break;
  }
  std::vector<std::pair<size_t, std::string>> scored;
  for (int i = 0; i < count; i++) {
    const char* n = mj_id2name(model_, type, i);
    if (!n) continue;
    const std::string s(n);
    const bool sub = s.find(name) != std::string::npos || name.find(s) != std::string::npos;
    const size_t dist = EditDistance(s, name);
    const bool close = sub || SharesWord(s, name) || dist <= std::max<size_t>(2, name.size() / 3);
    scored.emplace_back(close ? dist : 1000000 + dist, s);
  }
  std::stable_sort(scored.begin(), scored.end());
  std::string list;
  const bool all = type == mjOBJ_CAMERA;  // few: list them all
  for (size_t i = 0; i < scored.size() && (all || i < 8); i++) {
    if (!all && scored[i].first >= 1000000) break;
    list += (list.empty() ? "" : ", ") + scored[i].second;
  }
  throw std::invalid_argument(config_.name + ": no " + kind + " named '" + name + "' in the model" +
                              (list.empty() ? std::string("") : std::string("; ") + (all ? "cameras: " : "close names: ") + list));
}

int VecEnv::BodyId(const std::string& name) const { return LookupId(mjOBJ_BODY, "body", name); }
int VecEnv::SiteId(const std::string& name) const { return LookupId(mjOBJ_SITE, "site", name); }
int VecEnv::JointId(const std::string& name) const { return LookupId(mjOBJ_JOINT, "joint", name); }
int VecEnv::CameraId(const std::string& name) const { return LookupId(mjOBJ_CAMERA, "camera", name); }

void VecEnv::BodyPose(int k, int body, double* out) const {
  CheckEnv(k);
  if (body < 0 || body >= model_->nbody) throw std::out_of_range(config_.name + ": body id " + std::to_string(body) + " out of range");
  const mjData* d = data_[k];
  std::memcpy(out, d->xpos + 3 * body, sizeof(double) * 3);
  QuatWxyzToXyzw(d->xquat + 4 * body, out + 3);
}

void VecEnv::SitePose(int k, int site, double* out) const {
  CheckEnv(k);
  if (site < 0 || site >= model_->nsite) throw std::out_of_range(config_.name + ": site id " + std::to_string(site) + " out of range");
  const mjData* d = data_[k];
  std::memcpy(out, d->site_xpos + 3 * site, sizeof(double) * 3);
  std::memcpy(out + 3, d->site_xmat + 9 * site, sizeof(double) * 9);
}

void VecEnv::JointQpos(int k, int joint, double* out, int* n) const {
  CheckEnv(k);
  if (joint < 0 || joint >= model_->njnt) throw std::out_of_range(config_.name + ": joint id " + std::to_string(joint) + " out of range");
  static const int kWidth[4] = {7, 4, 1, 1};  // free, ball, slide, hinge
  *n = kWidth[model_->jnt_type[joint]];
  std::memcpy(out, data_[k]->qpos + model_->jnt_qposadr[joint], sizeof(double) * *n);
}

bool VecEnv::InContact(int k, int body_a, int body_b) const {
  CheckEnv(k);
  const mjModel* m = model_;
  if (body_a < 0 || body_a >= m->nbody || body_b < 0 || body_b >= m->nbody) {
    throw std::out_of_range(config_.name + ": inContact body ids must be in 0.." + std::to_string(m->nbody - 1));
  }
  auto in_subtree = [m](int body, int root) {
    while (body != root && body != 0) body = m->body_parentid[body];
    return body == root;
  };
  const mjData* d = data_[k];
  for (int i = 0; i < d->ncon; i++) {
    const int b1 = m->geom_bodyid[d->contact[i].geom1];
    const int b2 = m->geom_bodyid[d->contact[i].geom2];
    if ((in_subtree(b1, body_a) && in_subtree(b2, body_b)) || (in_subtree(b1, body_b) && in_subtree(b2, body_a))) {
      return true;
    }
  }
  return false;
}

void VecEnv::Render(int k, const std::string& camera, uint8_t* out, bool flip180) {
  CheckEnv(k);
  if (!renderer_) {
    throw std::logic_error(config_.name + ": render() needs a render context: create the VecEnv with render: { width, height }");
  }
  renderer_->Render(model_, data_[k], CameraId(camera), out, flip180);
}

int VecEnv::Warnings(int k) const {
  CheckEnv(k);
  int n = 0;
  for (int i = 0; i < mjNWARNING; i++) n += data_[k]->warning[i].number;
  return n;
}

std::string VecEnv::WarningText(int k) const {
  CheckEnv(k);
  std::string s;
  for (int i = 0; i < mjNWARNING; i++) {
    const int n = data_[k]->warning[i].number;
    if (n) s += (s.empty() ? "" : "; ") + std::string(kWarningNames[i]) + " x" + std::to_string(n);
  }
  return s;
}

}  // namespace riptide
