// `riptide bench sim`: what one env costs in the bowl-and-plate scene (primitive collision geoms).
// Figures: creation (compile + data, and the render context), reset from an init state, one control step
// (25 substeps + OSC) without rendering, a 2-camera observation at 128/224/256, and JS-driven stepping next to a
// native-only loop over the same recorded actions (the floor; their ratio is the JS overhead).
import { VecEnv } from '../sim/vec-env.ts';
import { bowlPlateMjcf } from '../tasks/bowl-plate.ts';
import { BowlPlateEpisodes } from '../tasks/bowl-plate-episodes.ts';
import { gitCommit, machineInfo, printTable, writeJsonAtomic, type TableRow } from './report-json.ts';

export interface BenchSimOptions {
  json?: string;
  envs: number;
  steps: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeIt(n: number, fn: (i: number) => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

export async function benchSim(opts: BenchSimOptions): Promise<void> {
  const mjcf = bowlPlateMjcf();
  const K = opts.envs;
  const T = opts.steps;
  const log = (s: string) => process.stderr.write(`${s}\n`);

  // Creation: compile + one mjData; K mjData; + OSMesa/MuJoCo render context.
  log('creation ...');
  const create1 = timeIt(5, () => VecEnv.create({ mjcf, numEnvs: 1 }).close());
  const createK = timeIt(5, () => VecEnv.create({ mjcf, numEnvs: K }).close());
  const createR = timeIt(5, () => VecEnv.create({ mjcf, numEnvs: 1, render: { width: 128, height: 128 } }).close());

  // Recorded expert actions over seeded placements: a contact-rich, realistic trajectory to time and replay.
  log('recording an expert trajectory ...');
  const episodes = BowlPlateEpisodes.create({ numEnvs: K });
  const seeds = Array.from({ length: K }, (_, i) => i);
  const inits = seeds.map((s) => episodes.initState(s));
  const actions = recordExpertActions(episodes, seeds, T);
  const env = episodes.env;

  log('reset ...');
  const reset = timeIt(2000, (i) => env.reset(i % K, inits[i % K]));

  log('control steps ...');
  const resetAll = () => inits.forEach((s, k) => env.reset(k, s));
  const jsLoop: number[] = [];
  const nativeLoop: number[] = [];
  const ratios: number[] = [];
  for (let rep = 0; rep < 7; rep++) {
    // Pairs of back-to-back runs over the same actions, in alternating order, so machine noise hits both alike;
    // the overhead is the median of the per-pair ratios.
    const runJs = () => {
      resetAll();
      const t0 = performance.now();
      for (let t = 0; t < T; t++) env.step(actions.subarray(t * K * 7, (t + 1) * K * 7));
      return performance.now() - t0;
    };
    const runNative = () => {
      resetAll();
      return env.runNativeLoop(actions, T);
    };
    const [js, nat] = rep % 2 ? [runJs(), runNative()] : (([n, j]) => [j, n])([runNative(), runJs()]);
    jsLoop.push(js);
    nativeLoop.push(nat);
    ratios.push(js / nat);
  }
  episodes.close();

  log('rendering ...');
  const obs: Record<number, number> = {};
  for (const size of [128, 224, 256]) {
    const r = BowlPlateEpisodes.create({ numEnvs: 1, render: { width: size, height: size } });
    r.start([0]);
    const img = new Uint8Array(size * size * 3);
    const twoCams = () => {
      r.env.render(0, 'agentview', img);
      r.env.render(0, 'robot0_eye_in_hand', img);
    };
    timeIt(3, twoCams); // llvmpipe compiles its shaders on the first frames
    obs[size] = median(timeIt(30, twoCams));
    r.close();
  }

  // A control step's cost is the JS-driven loop's: the mean over a contact-rich trajectory, median over the pairs.
  const controlStepMs = median(jsLoop) / (T * K);
  const floorStepMs = median(nativeLoop) / (T * K);
  const figures = {
    scene: 'bowl_plate (mounted Panda, table, bowl, plate; primitive collision geoms)',
    envs: K,
    steps_per_loop: T,
    create_ms: median(create1),
    create_per_extra_env_ms: (median(createK) - median(create1)) / Math.max(1, K - 1),
    render_context_ms: median(createR) - median(create1),
    create_with_render_ms: median(createR),
    reset_ms: median(reset),
    control_step_ms: controlStepMs,
    control_steps_per_s: 1000 / controlStepMs,
    obs_2cam_128_ms: obs[128],
    obs_2cam_224_ms: obs[224],
    obs_2cam_256_ms: obs[256],
    native_floor_step_ms: floorStepMs,
    control_step_min_ms: Math.min(...jsLoop) / (T * K),
    js_overhead_fraction: median(ratios) - 1,
    machine: machineInfo(),
    git_commit: gitCommit(),
  };

  const rows: TableRow[] = [
    { figure: 'create (compile + 1 mjData)', ms: figures.create_ms, target: '' },
    { figure: `  + each extra env (mjData), K=${K}`, ms: figures.create_per_extra_env_ms, target: '' },
    { figure: '  + render context (OSMesa + mjrContext)', ms: figures.render_context_ms, target: '' },
    { figure: 'reset from an init state', ms: figures.reset_ms, target: '<= 1' },
    { figure: 'control step (25 substeps + OSC), per env, JS-driven', ms: controlStepMs, target: '<= 2' },
    { figure: '2-camera observation 128x128', ms: obs[128], target: '<= 15' },
    { figure: '2-camera observation 224x224', ms: obs[224], target: '' },
    { figure: '2-camera observation 256x256', ms: obs[256], target: '' },
    { figure: 'native-only loop, per env step (floor)', ms: floorStepMs, target: '' },
  ];
  printTable(rows);
  console.log(
    `JS overhead over the native floor: ${(100 * figures.js_overhead_fraction).toFixed(1)}% (target <= 5%); ` +
      `${figures.control_steps_per_s.toFixed(0)} control steps/s on one core`,
  );
  if (opts.json) {
    writeJsonAtomic(opts.json, figures);
    console.log(`wrote ${opts.json}`);
  }
}

/** The expert's actions from the seeds' placements, T x K x 7, stepping on after success (contact-rich). */
function recordExpertActions(episodes: BowlPlateEpisodes, seeds: number[], T: number): Float32Array {
  const out = new Float32Array(T * seeds.length * 7);
  episodes.runExpert(seeds, { maxSteps: T, stopOnSuccess: false, record: out });
  return out;
}
