// Each binding file builds one namespace object of the addon's exports, plus shared argument checks.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace riptide {

Napi::Object InitSim(Napi::Env env);
Napi::Object InitPi0(Napi::Env env);

template <typename T> struct TypedArrayKind;
template <> struct TypedArrayKind<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct TypedArrayKind<double> { static constexpr napi_typedarray_type type = napi_float64_array; static constexpr const char* name = "Float64Array"; };
template <> struct TypedArrayKind<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static constexpr const char* name = "Uint8Array"; };
template <> struct TypedArrayKind<uint16_t> { static constexpr napi_typedarray_type type = napi_uint16_array; static constexpr const char* name = "Uint16Array"; };
template <> struct TypedArrayKind<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };

// Pointer into a typed array (SharedArrayBuffer-backed ones included: on Node 20 only the typed-array
// path works for SABs, never ArrayBuffer()). expected = 0 accepts any length; *length receives it.
template <typename T>
T* TypedData(const Napi::Env& env, const Napi::Value& v, size_t expected, const char* what,
             size_t* length = nullptr) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != TypedArrayKind<T>::type) {
    throw Napi::TypeError::New(env, std::string(what) + ": expected a " + TypedArrayKind<T>::name);
  }
  auto ta = v.As<Napi::TypedArrayOf<T>>();
  if (expected != 0 && ta.ElementLength() != expected) {
    throw Napi::RangeError::New(env, std::string(what) + ": expected " + std::to_string(expected) +
                                         " elements, got " + std::to_string(ta.ElementLength()));
  }
  if (length) *length = ta.ElementLength();
  return ta.Data();
}

}  // namespace riptide
