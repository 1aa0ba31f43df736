// See render.h.
#include "sim/render.h"

#include <GL/osmesa.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace riptide {
namespace {
// MuJoCo loads GL entry points into process-wide tables inside mjr_makeContext; serialise context creation.
std::mutex g_create_mutex;
}  // namespace

struct OffscreenRenderer::Gl {
  OSMesaContext ctx = nullptr;
};

OffscreenRenderer::OffscreenRenderer(mjModel* m, const RenderOptions& opts) : opts_(opts), gl_(new Gl) {
  if (opts.width < 1 || opts.height < 1 || opts.width > 4096 || opts.height > 4096) {
    throw std::runtime_error("render size must be 1..4096 pixels per side, got " + std::to_string(opts.width) + "x" +
                             std::to_string(opts.height));
  }
  std::lock_guard<std::mutex> lock(g_create_mutex);
  gl_->ctx = OSMesaCreateContextExt(OSMESA_RGBA, 24, 8, 0, nullptr);
  if (!gl_->ctx) throw std::runtime_error("OSMesaCreateContextExt failed (is libOSMesa / llvmpipe installed?)");
  osmesa_buffer_.resize(static_cast<size_t>(opts.width) * opts.height * 4);
  MakeCurrent();

  m->vis.global.offwidth = opts.width;
  m->vis.global.offheight = opts.height;
  m->vis.quality.offsamples = opts.msaa ? 4 : 0;

  mjv_defaultScene(&scene_);
  mjr_defaultContext(&context_);
  mjv_defaultOption(&option_);
  mjv_defaultCamera(&camera_);
  try {
    mjv_makeScene(m, &scene_, m->ngeom + 100);
    mjr_makeContext(m, &context_, mjFONTSCALE_50);
  } catch (...) {
    mjr_freeContext(&context_);
    mjv_freeScene(&scene_);
    OSMesaDestroyContext(gl_->ctx);
    throw;
  }
  mjr_setBuffer(mjFB_OFFSCREEN, &context_);
  if (context_.currentBuffer != mjFB_OFFSCREEN) {
    mjr_freeContext(&context_);
    mjv_freeScene(&scene_);
    OSMesaDestroyContext(gl_->ctx);
    throw std::runtime_error("MuJoCo offscreen framebuffer is not supported by this GL context");
  }
  // robosuite: collision geoms (group 0) hidden, visual (group 1) shown, sites hidden.
  option_.geomgroup[0] = 0;
  for (int i = 0; i < mjNGROUP; i++) option_.sitegroup[i] = 0;
  scene_.flags[mjRND_SHADOW] = 0;
  scene_.flags[mjRND_REFLECTION] = 0;
  scene_.flags[mjRND_SKYBOX] = 0;
  scene_.flags[mjRND_FOG] = 0;
  camera_.type = mjCAMERA_FIXED;
  scratch_.resize(static_cast<size_t>(opts.width) * opts.height * 3);
}

OffscreenRenderer::~OffscreenRenderer() {
  if (!gl_ || !gl_->ctx) return;
  MakeCurrent();
  mjr_freeContext(&context_);
  mjv_freeScene(&scene_);
  OSMesaMakeCurrent(nullptr, nullptr, 0, 0, 0);
  OSMesaDestroyContext(gl_->ctx);
}

void OffscreenRenderer::MakeCurrent() {
  if (OSMesaGetCurrentContext() == gl_->ctx) return;
  if (!OSMesaMakeCurrent(gl_->ctx, osmesa_buffer_.data(), GL_UNSIGNED_BYTE, opts_.width, opts_.height)) {
    throw std::runtime_error("OSMesaMakeCurrent failed");
  }
}

void OffscreenRenderer::Render(const mjModel* m, mjData* d, int camid, uint8_t* out, bool flip180) {
  MakeCurrent();
  mjr_setBuffer(mjFB_OFFSCREEN, &context_);
  camera_.fixedcamid = camid;
  mjv_updateScene(m, d, &option_, nullptr, &camera_, mjCAT_ALL, &scene_);
  const mjrRect viewport = {0, 0, opts_.width, opts_.height};
  mjr_render(viewport, &scene_, &context_);
  if (!flip180) {
    mjr_readPixels(out, nullptr, viewport, &context_);
    return;
  }
  // A 180-degree rotation of an HWC image is the pixel sequence reversed.
  mjr_readPixels(scratch_.data(), nullptr, viewport, &context_);
  const size_t n = static_cast<size_t>(opts_.width) * opts_.height;
  const uint8_t* src = scratch_.data();
  for (size_t i = 0; i < n; i++) {
    const uint8_t* s = src + 3 * (n - 1 - i);
    out[3 * i] = s[0];
    out[3 * i + 1] = s[1];
    out[3 * i + 2] = s[2];
  }
}

}  // namespace riptide
