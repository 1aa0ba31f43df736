// Native self tests for the PI0 and value models, called from the tests through pi0.selfTest (not part of the model
// API): finite-difference gradient checks in double for every layer type, the whole model and the value model, and
// per-kernel fast-vs-reference comparisons in float.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace riptide::pi0 {

std::vector<std::string> GradCheckNames();
// Max relative error |analytic - numeric| / max(|analytic|, |numeric|, 1e-3 * max|analytic| of the tensor, 1e-4)
// over the checked coordinates (central differences, h = 1e-5, double; the 1e-4 floor absorbs difference noise
// on gradients that are exactly zero, e.g. a key bias under softmax). Throws on an unknown name.
// config_json (for "model"): a preset to build the model from; empty = a small built-in config.
double GradCheck(const std::string& name, uint64_t seed, const std::string& config_json = "");

// The same check for the value model (value.h): every tensor, CE + MSE, weights, masks. config_json as above;
// bins: the number of value bins.
double ValueGradCheck(uint64_t seed, const std::string& config_json, int bins);

std::vector<std::string> FastCheckNames();
// Max |fast - reference| / max|reference| over a kernel's outputs and gradients (float).
double FastCheck(const std::string& name, uint64_t seed);

}  // namespace riptide::pi0
