// Which device a PI0 or value model runs on. `device: auto` takes the GPU when the addon was built with CUDA and
// a usable device is present, else the CPU with one log line saying why; `device: cuda` without a device is an
// error that says what is missing. The CUDA path lives in cpp/pi0/cuda.
import { RiptideError } from '../errors.ts';
import { native } from '../native.ts';
import type { CudaInfo, NativeDevice } from './native-types.ts';

export const DEVICE_CHOICES = ['cpu', 'cuda', 'auto'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

let cached: CudaInfo | undefined;
const warned = new WeakSet<(line: string) => void>(); // the fallback line is said once per log sink

/** What this build and machine offer (asked once per process). */
export function cudaInfo(): CudaInfo {
  cached ??= native().pi0.cudaInfo();
  return cached;
}

/** A one-line description of the device, for logs and bench reports. */
export function describeCuda(i: CudaInfo = cudaInfo()): string {
  if (i.count === 0) return `no CUDA device (${i.error})`;
  const gemm = i.cublas ? 'cuBLAS' : "riptide's GEMM kernels";
  return `${i.name} (compute ${i.computeCapability}, ${i.smCount} SMs, ${(i.memoryBytes / 2 ** 30).toFixed(0)} GiB; CUDA runtime ${i.runtimeVersion}, driver ${i.driverVersion}; GEMMs on ${gemm})`;
}

/** The device a model with this setting runs on. `where` names the setting in errors (a config field or flag). */
export function resolveDevice(choice: DeviceChoice, where = 'device', log: (line: string) => void = console.log): NativeDevice {
  if (!DEVICE_CHOICES.includes(choice)) {
    throw new RiptideError(`${where}: '${String(choice)}' is not a device. Fix: use one of ${DEVICE_CHOICES.join(', ')}.`);
  }
  if (choice === 'cpu') return 'cpu';
  const info = cudaInfo();
  if (info.count > 0) return 'cuda';
  if (choice === 'cuda') {
    const fix = info.built
      ? 'run on a machine with an NVIDIA GPU of compute capability 8.0 or newer and its driver'
      : 'install the CUDA toolkit (nvcc on PATH) and rebuild with `npm run build:native`';
    throw new RiptideError(`${where}: 'cuda' was asked for, but ${describeCuda(info)}. Fix: ${fix}, or set ${where} to cpu or auto.`);
  }
  if (!warned.has(log)) log(`${where} auto: ${describeCuda(info)}; the model runs on the CPU`);
  warned.add(log);
  return 'cpu';
}
