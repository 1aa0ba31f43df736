// Offscreen CPU rendering of one mjModel: an OSMesa (llvmpipe) GL context + mjrContext + mjvScene, owned by one
// VecEnv. The GL context is made current on the calling thread at every call, because a VecEnv may be driven
// from any worker thread. Output: RGB uint8, HWC, rows in OpenGL order (bottom row first) exactly like robosuite's
// raw observations, or rotated 180 degrees (what LIBERO policies are fed) with flip180.
#pragma once
#include <mujoco/mujoco.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace riptide {

struct RenderOptions {
  int width = 0;
  int height = 0;
  bool msaa = false;  // 4x MSAA costs ~1.7x on llvmpipe (spec/env-cost.md); off by default
};

class OffscreenRenderer {
 public:
  // Creates the GL context and uploads the model; m->vis offscreen size/samples are set from opts.
  OffscreenRenderer(mjModel* m, const RenderOptions& opts);
  ~OffscreenRenderer();
  OffscreenRenderer(const OffscreenRenderer&) = delete;
  OffscreenRenderer& operator=(const OffscreenRenderer&) = delete;

  // Renders fixed camera camid of d into out (height * width * 3 bytes).
  void Render(const mjModel* m, mjData* d, int camid, uint8_t* out, bool flip180);

  int width() const { return opts_.width; }
  int height() const { return opts_.height; }

 private:
  void MakeCurrent();

  RenderOptions opts_;
  struct Gl;
  std::unique_ptr<Gl> gl_;
  std::vector<uint8_t> osmesa_buffer_;  // default framebuffer (unused: drawing goes to MuJoCo's offscreen FBO)
  std::vector<uint8_t> scratch_;        // (H, W, 3) for flip180
  mjvScene scene_;
  mjrContext context_;
  mjvOption option_;
  mjvCamera camera_;
};

}  // namespace riptide
