{
  "targets": [
    {
      "target_name": "riptide",
      "sources": [
        "cpp/addon/addon.cc",
        "cpp/addon/sim_binding.cc",
        "cpp/addon/pi0_binding.cc",
        "cpp/sim/vec_env.cc",
        "cpp/sim/osc.cc",
        "cpp/sim/render.cc",
        "cpp/pi0/model.cc"
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
