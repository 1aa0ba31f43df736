{
  "targets": [
    {
      "target_name": "riptide",
      "sources": [
        "cpp/addon/addon.cc",
        "cpp/addon/sim_binding.cc",
        "cpp/addon/pi0_binding.cc",
        "cpp/sim/mujoco_errors.cc",
        "cpp/sim/osc.cc",
        "cpp/sim/render.cc",
        "cpp/sim/vec_env.cc",
        "cpp/pi0/buffer.cc",
        "cpp/pi0/config.cc",
        "cpp/pi0/fast.cc",
        "cpp/pi0/model.cc",
        "cpp/pi0/selftest.cc",
        "cpp/pi0/value.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "cpp",
        "/usr/include/x86_64-linux-gnu/openblas-pthread",
        "/usr/include/x86_64-linux-gnu"
      ],
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-march=x86-64-v2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "libraries": ["-lmujoco", "-lOSMesa", "-lopenblas", "-lpthread"]
    }
  ]
}
