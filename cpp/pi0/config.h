// PI0 model configuration: the shape of every tensor, parsed from a configs/model/*.json preset.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace riptide::pi0 {

// Thrown for bad presets and bad batches; what() names the field and the fix.
struct Pi0Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string name;
  int image_size = 0, patch_size = 0, num_cameras = 0;
  // SigLIP tower
  int v_width = 0, v_depth = 0, v_heads = 0, v_mlp = 0;
  // Gemma (VLM stream) and the action expert; the expert shares depth, heads, kv heads and head_dim
  int depth = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0, vocab = 0;
  int l_width = 0, l_mlp = 0;
  int e_width = 0, e_mlp = 0;
  int max_token_len = 0, action_horizon = 0, action_dim = 0, state_dim = 0;

  // derived
  int grid() const { return image_size / patch_size; }
  int patches() const { return grid() * grid(); }            // Np: SigLIP tokens per camera
  int patch_dim() const { return 3 * patch_size * patch_size; }
  int v_head_dim() const { return v_width / v_heads; }
  int prefix_len() const { return num_cameras * patches() + max_token_len; }  // P
  int suffix_len() const { return 1 + action_horizon; }                         // S: state + actions
};

// Parses and validates the preset JSON text; throws Pi0Error naming the bad field.
Config ParseConfig(const std::string& json);

}  // namespace riptide::pi0
