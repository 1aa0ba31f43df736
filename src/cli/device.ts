// `riptide device`: what CUDA this build and machine offer, and (--check) every CUDA kernel against the CPU
// reference with the tolerances of cpp/pi0/cuda/check.cu: the first thing to run on a new GPU machine.
import { RiptideError } from '../errors.ts';
import { cudaInfo, describeCuda } from '../model/device.ts';
import { native } from '../native.ts';
import { gitCommit, machineInfo, printTable, writeJsonAtomic } from './report-json.ts';

export interface DeviceOptions {
  check?: boolean;
  json?: string;
}

export function deviceCommand(opts: DeviceOptions): void {
  const info = cudaInfo();
  console.log(`CUDA in this build: ${info.built ? `yes, ${info.cublas ? 'with cuBLAS' : 'without cuBLAS (our own GEMM kernels)'}` : 'no (no nvcc when the addon was built)'}`);
  console.log(`device: ${describeCuda(info)}`);
  const report: Record<string, unknown> = { cuda: info, machine: machineInfo(), git_commit: gitCommit(), date: new Date().toISOString() };
  if (opts.check) {
    if (info.count === 0) throw new RiptideError(`device --check needs a CUDA device, and this machine has ${describeCuda(info)}. To check the kernels without one, run the CPU emulator: bash cpp/dev/cuda-check/emulator.sh`);
    const checks = native().pi0.cudaKernelCheck!(1);
    printTable(checks.map((c) => ({ kernel: c.name, error: c.error, tol: c.tol, result: c.pass ? 'ok' : 'FAIL' })));
    report.kernel_checks = checks;
    const failed = checks.filter((c) => !c.pass);
    if (opts.json) writeJsonAtomic(opts.json, report);
    if (failed.length) throw new RiptideError(`device --check: ${failed.length} of ${checks.length} kernels outside tolerance: ${failed.map((c) => c.name).join(', ')}`);
    console.log(`all ${checks.length} kernel checks within tolerance`);
  } else if (opts.json) {
    writeJsonAtomic(opts.json, report);
  }
  if (opts.json) console.log(`wrote ${opts.json}`);
}
