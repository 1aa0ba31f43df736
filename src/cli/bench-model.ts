// `riptide bench model`: PI0 training step time (forward + backward + AdamW) and chunk-sampling latency on random
// inputs, with achieved GFLOP/s from the analytic count (src/model/flops.ts). On the CPU the figures sit next to
// OpenBLAS sgemm GFLOP/s measured in the same run, so a figure reads as a fraction of what the machine's GEMM does;
// on a GPU (--device cuda) next to the GEMM engine's TFLOP/s (cuBLAS, or riptide's kernels) measured in the same
// run, and as MFU: achieved FLOP/s over the device's dense bf16 tensor-core peak (a table of known parts below).
import { performance } from 'node:perf_hooks';

import { RiptideError } from '../errors.ts';
import { native } from '../native.ts';
import { Rng } from '../rng.ts';
import { loadPi0Config, type Pi0Config } from '../model/config.ts';
import { cudaInfo, describeCuda, resolveDevice, type DeviceChoice } from '../model/device.ts';
import { pi0Flops, sampleFlops } from '../model/flops.ts';
import type { LossBatch, SampleBatch } from '../model/native-types.ts';
import { hasNativePi0, Pi0Policy } from '../model/pi0.ts';
import { gitCommit, machineInfo, printTable, writeJsonAtomic, type TableRow } from './report-json.ts';

export interface BenchModelOptions {
  preset: string; // tiny | small | pi0 | path to a preset JSON
  json?: string; // write the figures here
  batches?: number[]; // training batch sizes, default [8, 32]
  sampleBatches?: number[]; // sampling batch sizes, default [1, 16]
  steps?: number; // timed repetitions per figure (after one warm-up), default 3
  threads?: number; // native compute threads (default: the addon's choice)
  device?: DeviceChoice; // default cpu
  gemm?: 'bf16' | 'fp32'; // GEMM precision on the GPU, default bf16
}

const FLOW_STEPS = 10;
const SGEMM_N = 1024;
const GPU_GEMM_N = 4096;

// Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from NVIDIA's datasheets, matched on the device name.
const BF16_PEAK_TFLOPS: [RegExp, number][] = [
  [/H200/, 989],
  [/H100.*PCIe/, 756],
  [/H100/, 989], // SXM
  [/A100/, 312],
  [/L40S/, 362],
];
const ADAMW = { lrModel: 1e-5, lrHeader: 1e-4, weightDecay: 1e-10, clipNorm: 1 };

// Deterministic inputs (seeded), so every run times the same work.
function fill(n: number, f: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f();
  return a;
}

function randomInputs(c: Pi0Config, B: number, seed: number): SampleBatch & { actions: Float32Array } {
  const rng = new Rng(seed);
  const u = () => rng.uniform();
  const normal = () => rng.normal();
  const L = c.max_token_len;
  const tokens = new Int32Array(B * L);
  for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(u() * c.llm.vocab_size);
  return {
    batch: B,
    images: fill(B * c.num_cameras * c.image_size * c.image_size * 3, () => u() * 2 - 1),
    imageMask: new Uint8Array(B * c.num_cameras).fill(1),
    tokens,
    tokenMask: new Uint8Array(B * L).fill(1),
    state: fill(B * c.state_dim, normal),
    actions: fill(B * c.action_horizon * c.action_dim, normal),
    noise: fill(B * c.action_horizon * c.action_dim, normal),
    numSteps: FLOW_STEPS,
  };
}

/** Mean wall time of `steps` calls after one warm-up call, in ms. */
function timeIt(steps: number, run: () => void): number {
  run();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run();
  return (performance.now() - t0) / steps;
}

export type BenchModelReport = Record<string, string | number | object>;

export async function benchModel(opts: BenchModelOptions): Promise<BenchModelReport> {
  const config = loadPi0Config(opts.preset);
  if (!hasNativePi0()) {
    throw new RiptideError(
      'bench model: the native addon has no PI0 model (native().pi0.Pi0Model). Fix: build it with `npm run build:native` after pulling cpp/pi0.',
    );
  }
  const trainBatches = opts.batches ?? [8, 32];
  const sampleBatches = opts.sampleBatches ?? [1, 16];
  const steps = opts.steps ?? 3;
  for (const [flag, list] of [['batches', trainBatches], ['sampleBatches', sampleBatches]] as const) {
    if (!list.every((b) => Number.isInteger(b) && b > 0)) throw new RiptideError(`bench model: ${flag} must be positive integers, got ${JSON.stringify(list)}`);
  }
  if (!Number.isInteger(steps) || steps < 1) throw new RiptideError(`bench model: steps must be a positive integer, got ${steps}`);

  const flops = pi0Flops(config);
  const device = resolveDevice(opts.device ?? 'cpu', '--device');
  const pi0 = native().pi0;
  if (device === 'cuda') pi0.cudaSetGemm!(opts.gemm ?? 'bf16');
  // The baseline GEMM is measured before and after the model work, 3 times each, and the best figure counts: a
  // noisy neighbour then lowers our ratio, never raises it.
  const gemmTrials = () =>
    [0, 1, 2].map(() => (device === 'cuda' ? pi0.cudaGemmTflops!(GPU_GEMM_N, 20) * 1e3 : pi0.sgemmGflops(SGEMM_N, 10)));
  const sgemmBefore = gemmTrials();
  const policy = Pi0Policy.create({ config, seed: 0, threads: opts.threads, device });

  const report: BenchModelReport = {
    preset: config.name,
    params: policy.paramCount,
    timed_repetitions: steps,
    flow_steps: FLOW_STEPS,
    train_gflop_per_sample: flops.train / 1e9,
    sample_gflop_per_chunk_per_sample: sampleFlops(flops, FLOW_STEPS) / 1e9,
    device,
    sgemm_n: device === 'cuda' ? GPU_GEMM_N : SGEMM_N,
  };
  if (device === 'cuda') {
    report.gpu = describeCuda();
    report.gemm_precision = opts.gemm ?? 'bf16';
  }
  const rows: TableRow[] = [];

  let trainGflops = 0;
  for (const B of trainBatches) {
    const inputs = randomInputs(config, B, 1000 + B);
    const batch: LossBatch = { ...inputs, seed: 1 };
    const ms = timeIt(steps, () => policy.trainStep([batch], ADAMW));
    const gflops = (flops.train * B) / (ms / 1e3) / 1e9;
    report[`train_ms_per_step_b${B}`] = ms;
    report[`train_samples_per_s_b${B}`] = (B * 1e3) / ms;
    report[`train_gflops_b${B}`] = gflops;
    trainGflops = gflops; // the last (largest by default) batch is the headline figure
    rows.push({ figure: 'train step', batch: B, ms, 'samples/s': (B * 1e3) / ms, 'GFLOP/s': gflops });
  }

  for (const B of sampleBatches) {
    const batch = randomInputs(config, B, 2000 + B);
    const ms = timeIt(steps, () => void policy.sampleActions(batch));
    const gflops = (sampleFlops(flops, FLOW_STEPS) * B) / (ms / 1e3) / 1e9;
    report[`sample_latency_ms_b${B}`] = ms;
    report[`sample_gflops_b${B}`] = gflops;
    rows.push({ figure: `sample chunk (${FLOW_STEPS} steps)`, batch: B, ms, 'samples/s': (B * 1e3) / ms, 'GFLOP/s': gflops });
  }

  const sgemmAll = [...sgemmBefore, ...gemmTrials()];
  const sgemm = Math.max(...sgemmAll);
  report.sgemm_gflops = sgemm;
  report.sgemm_gflops_min = Math.min(...sgemmAll);
  report.train_gflops = trainGflops;
  report.train_sgemm_ratio = trainGflops / sgemm;
  const engine = cudaInfo().cublas ? 'cuBLAS' : 'riptide';
  const gemmName = device === 'cuda' ? `${engine} GEMM, ${opts.gemm ?? 'bf16'} (best of 6)` : 'sgemm (best of 6)';
  rows.unshift({ figure: gemmName, batch: device === 'cuda' ? GPU_GEMM_N : SGEMM_N, ms: null, 'samples/s': null, 'GFLOP/s': sgemm });
  for (const r of rows) r['vs sgemm'] = (r['GFLOP/s'] as number) / sgemm;
  if (device === 'cuda') {
    const peak = BF16_PEAK_TFLOPS.find(([re]) => re.test(cudaInfo().name))?.[1];
    report.bf16_peak_tflops = peak ?? 'unknown part: add it to BF16_PEAK_TFLOPS in src/cli/bench-model.ts';
    if (peak) {
      report.train_mfu = trainGflops / (peak * 1e3);
      for (const r of rows) r.MFU = (r['GFLOP/s'] as number) / (peak * 1e3);
    }
  }

  report.machine = machineInfo();
  report.git_commit = gitCommit();
  report.date = new Date().toISOString();

  const where = device === 'cuda' ? `on ${describeCuda()}` : 'on the CPU';
  console.log(`PI0 '${config.name}' ${where}: ${(policy.paramCount / 1e6).toFixed(2)} M params, ${steps} timed repetitions after a warm-up`);
  printTable(rows);
  if (opts.json) {
    writeJsonAtomic(opts.json, report);
    console.log(`wrote ${opts.json}`);
  }
  return report;
}
