// Reads a configs/model/*.json preset (a flat schema of numbers in at most one level of objects) into Config.
// A tiny hand-written JSON reader: objects, numbers, strings, true/false/null; arrays are skipped.
#include "pi0/config.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>

namespace riptide::pi0 {
namespace {

struct JsonReader {
  const std::string& s;
  size_t i = 0;
  std::map<std::string, double> numbers;  // "llm.width" -> 32
  std::map<std::string, std::string> strings;

  [[noreturn]] void fail(const std::string& why) {
    throw Pi0Error("model config: invalid JSON at offset " + std::to_string(i) + ": " + why);
  }
  void ws() { while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++; }
  std::string str() {
    if (s[i] != '"') fail("expected a string");
    std::string out;
    for (i++; i < s.size() && s[i] != '"'; i++) {
      if (s[i] == '\\' && i + 1 < s.size()) i++;
      out += s[i];
    }
    if (i >= s.size()) fail("unterminated string");
    i++;
    return out;
  }
  void value(const std::string& key) {
    ws();
    if (i >= s.size()) fail("unexpected end");
    char c = s[i];
    if (c == '{') {
      i++;
      ws();
      if (s[i] == '}') { i++; return; }
      for (;;) {
        ws();
        std::string k = str();
        ws();
        if (s[i] != ':') fail("expected ':'");
        i++;
        value(key.empty() ? k : key + "." + k);
        ws();
        if (s[i] == ',') { i++; continue; }
        if (s[i] == '}') { i++; return; }
        fail("expected ',' or '}'");
      }
    } else if (c == '[') {
      i++;
      ws();
      if (s[i] == ']') { i++; return; }
      for (;;) {
        value(key + "[]");
        ws();
        if (s[i] == ',') { i++; continue; }
        if (s[i] == ']') { i++; return; }
        fail("expected ',' or ']'");
      }
    } else if (c == '"') {
      strings[key] = str();
    } else if (c == 't' && s.compare(i, 4, "true") == 0) {
      i += 4;
    } else if (c == 'f' && s.compare(i, 5, "false") == 0) {
      i += 5;
    } else if (c == 'n' && s.compare(i, 4, "null") == 0) {
      i += 4;
    } else {
      char* end = nullptr;
      double v = std::strtod(s.c_str() + i, &end);
      if (end == s.c_str() + i) fail("expected a value");
      i = static_cast<size_t>(end - s.c_str());
      numbers[key] = v;
    }
  }
};

}  // namespace

Config ParseConfig(const std::string& json) {
  JsonReader r{json};
  r.value("");
  r.ws();
  if (r.i != json.size()) r.fail("trailing characters");

  auto get = [&](const char* field) -> int {
    auto it = r.numbers.find(field);
    if (it == r.numbers.end())
      throw Pi0Error(std::string("model config: missing field '") + field + "' (add it as a positive integer)");
    double v = it->second;
    if (!(v >= 1) || v != std::floor(v) || v > 1e9)
      throw Pi0Error(std::string("model config: field '") + field + "' must be a positive integer, got " +
                     std::to_string(v));
    return static_cast<int>(v);
  };
  Config c;
  auto nit = r.strings.find("name");
  c.name = nit == r.strings.end() ? "" : nit->second;
  c.image_size = get("image_size");
  c.patch_size = get("patch_size");
  c.num_cameras = get("num_cameras");
  c.v_width = get("vision.width");
  c.v_depth = get("vision.depth");
  c.v_heads = get("vision.num_heads");
  c.v_mlp = get("vision.mlp_dim");
  c.l_width = get("llm.width");
  c.depth = get("llm.depth");
  c.num_heads = get("llm.num_heads");
  c.num_kv_heads = get("llm.num_kv_heads");
  c.head_dim = get("llm.head_dim");
  c.l_mlp = get("llm.mlp_dim");
  c.vocab = get("llm.vocab_size");
  c.e_width = get("expert.width");
  c.e_mlp = get("expert.mlp_dim");
  c.max_token_len = get("max_token_len");
  c.action_horizon = get("action_horizon");
  c.action_dim = get("action_dim");
  c.state_dim = get("state_dim");

  auto bad = [](const char* field, const std::string& why) {
    throw Pi0Error(std::string("model config: field '") + field + "' " + why);
  };
  if (c.image_size % c.patch_size != 0) bad("patch_size", "must divide image_size");
  if (c.v_width % c.v_heads != 0) bad("vision.width", "must be divisible by vision.num_heads");
  if (c.num_heads % c.num_kv_heads != 0) bad("llm.num_heads", "must be divisible by llm.num_kv_heads");
  if (c.head_dim % 2 != 0) bad("llm.head_dim", "must be even (half-split RoPE)");
  if (c.e_width % 2 != 0) bad("expert.width", "must be even (sin/cos time embedding)");
  return c;
}

}  // namespace riptide::pi0
