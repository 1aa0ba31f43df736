// `riptide rollout`, `riptide bench env-reuse` and `riptide profile env`: the actor runtime driven from the command
// line. Each builds a job list (tasks x init states x episodes, seeded), runs it through a Runtime, and reports.
import { writeFileAtomic } from '../fs-atomic.ts';
import { RiptideError } from '../errors.ts';
import type { EnvActorStats } from '../runtime/env-actor.ts';
import { EnvBank } from '../runtime/env-bank.ts';
import type { Episode, EpisodeJob } from '../runtime/episode.ts';
import { CAMERAS, type RuntimeSettings, type Span } from '../runtime/layouts.ts';
import { resolveSettings, Runtime, type RuntimeOptions, type RuntimeStats } from '../runtime/runtime.ts';
import { suiteTasks } from '../tasks/suites/index.ts';
import { ProgressLine } from './progress.ts';
import { gitCommit, machineInfo, printTable, writeJsonAtomic } from './report-json.ts';

export interface WorkloadOptions {
  tasks: string[];
  suite?: string;
  /** Init states per task (0..inits-1) and episodes per init state. */
  inits: number;
  episodes: number;
  seed: number;
}

export function taskRefs(o: { tasks: string[]; suite?: string }, fallback: string[]): string[] {
  if (o.tasks.length > 0) return o.tasks;
  if (o.suite) return suiteTasks(o.suite).map((t) => `${t.suite}/${t.id}`);
  return fallback;
}

export function workload(numTasks: number, o: WorkloadOptions): Omit<EpisodeJob, 'episode'>[] {
  const jobs: Omit<EpisodeJob, 'episode'>[] = [];
  for (let e = 0; e < o.episodes; e++) {
    for (let init = 0; init < o.inits; init++) {
      for (let task = 0; task < numTasks; task++) jobs.push({ task, init, seed: o.seed + jobs.length });
    }
  }
  return jobs;
}

/** Runs jobs with a progress line; SIGINT stops the actors cleanly and exits 130. */
async function runJobs(rt: Runtime, jobs: Omit<EpisodeJob, 'episode'>[], label: string): Promise<{ episodes: Episode[]; wallMs: number }> {
  const bar = new ProgressLine(label, jobs.length);
  let done = 0;
  let successes = 0;
  const onSigint = () => {
    bar.done();
    console.error(`riptide: interrupted after ${done} of ${jobs.length} episodes; stopping the actors`);
    void rt.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const t0 = performance.now();
  try {
    const episodes = await rt.rollout(jobs, (e) => {
      done++;
      successes += e.success ? 1 : 0;
      bar.update(done, `success ${successes}/${done}`);
    });
    return { episodes, wallMs: performance.now() - t0 };
  } finally {
    process.off('SIGINT', onSigint);
    bar.done();
  }
}

function steps(episodes: Episode[]): number {
  return episodes.reduce((a, e) => a + e.length, 0);
}

// ------------------------------------------------------------------ riptide rollout

export interface RolloutCliOptions extends WorkloadOptions {
  runtime: Omit<RuntimeOptions, 'tasks'>;
  json?: string;
}

export async function rolloutCommand(o: RolloutCliOptions): Promise<void> {
  const tasks = taskRefs(o, ['libero_spatial/0']);
  const rt = await Runtime.start({ ...o.runtime, tasks });
  try {
    const jobs = workload(tasks.length, o);
    const { episodes, wallMs } = await runJobs(rt, jobs, 'rollout');
    const rows = tasks.map((ref, t) => {
      const mine = episodes.filter((e) => e.task === t);
      return { task: ref, episodes: mine.length, success: mine.filter((e) => e.success).length, mean_length: steps(mine) / Math.max(1, mine.length) };
    });
    printTable(rows);
    const stepsPerS = steps(episodes) / (wallMs / 1000);
    console.log(`${episodes.length} episodes, ${steps(episodes)} env steps in ${(wallMs / 1000).toFixed(1)} s: ${stepsPerS.toFixed(1)} env steps/s`);
    if (o.json) {
      writeJsonAtomic(o.json, { machine: machineInfo(), commit: gitCommit(), settings: rt.settings, tasks: rows, wall_s: wallMs / 1000, env_steps_per_s: stepsPerS, episodes: episodes.map(({ episode, task, init, seed, success, length }) => ({ episode, task, init, seed, success, length })) });
    }
  } finally {
    await rt.stop();
  }
}

// ------------------------------------------------------------------ riptide bench env-reuse

/** The three env patterns compared side by side. */
export const REUSE_MODES = {
  reuse: { resetMode: 'reuse', render: 'chunk', stepMode: 'fast', msaa: false },
  rebuild: { resetMode: 'rebuild', render: 'chunk', stepMode: 'fast', msaa: false },
  libero: { resetMode: 'rebuild', render: 'step', stepMode: 'rs14', msaa: true },
} as const satisfies Record<string, Pick<RuntimeSettings, 'resetMode' | 'render' | 'stepMode'> & { msaa: boolean }>;
export type ReuseMode = keyof typeof REUSE_MODES;

export interface BenchReuseOptions extends WorkloadOptions {
  runtime: Omit<RuntimeOptions, 'tasks'>;
  modes: ReuseMode[];
  json?: string;
}

export async function benchEnvReuse(o: BenchReuseOptions): Promise<void> {
  const tasks = taskRefs(o, ['libero_10/0', 'libero_10/1']);
  const jobs = workload(tasks.length, o);
  const results: Record<string, { wall_s: number; env_steps: number; env_steps_per_s: number; episodes: number; mean_length: number; resets: number; reset_ms: number; build_ms_at_start: number; success: number }> = {};
  for (const mode of o.modes) {
    const t0 = performance.now();
    const { msaa, ...pattern } = REUSE_MODES[mode];
    const image = { width: 256, height: 256, ...o.runtime.image, msaa };
    const rt = await Runtime.start({ ...o.runtime, ...pattern, image, tasks });
    const startMs = performance.now() - t0;
    try {
      const { episodes, wallMs } = await runJobs(rt, jobs, `env-reuse ${mode}`);
      const stats = await rt.stats();
      const resets = stats.env.reduce((a, e) => a + e.resets, 0);
      const resetMs = stats.env.reduce((a, e) => a + e.resetMs, 0);
      results[mode] = {
        wall_s: wallMs / 1000,
        env_steps: steps(episodes),
        env_steps_per_s: steps(episodes) / (wallMs / 1000),
        episodes: episodes.length,
        mean_length: steps(episodes) / episodes.length,
        resets,
        reset_ms: resetMs / resets,
        build_ms_at_start: startMs,
        success: episodes.filter((e) => e.success).length,
      };
    } finally {
      await rt.stop();
    }
  }
  printTable(Object.entries(results).map(([mode, r]) => ({ mode, ...r })));
  const resets = resetCosts(tasks[0], o.runtime);
  console.log(`reset of ${tasks[0]} (median): by init state ${resets.reuse_ms.toFixed(3)} ms, LIBERO hard reset ${resets.rebuild_ms.toFixed(1)} ms`);
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : null);
  const summary = {
    reset_cost_ratio: resets.rebuild_ms / resets.reuse_ms,
    reset_reuse_ms: resets.reuse_ms,
    reset_rebuild_ms: resets.rebuild_ms,
    speedup_vs_rebuild: ratio(results.reuse?.env_steps_per_s, results.rebuild?.env_steps_per_s),
    speedup_vs_libero_pattern: ratio(results.reuse?.env_steps_per_s, results.libero?.env_steps_per_s),
    mean_episode_length: results.reuse?.mean_length ?? null,
  };
  for (const [k, v] of Object.entries(summary)) console.log(`${k}: ${v === null ? '-' : v.toFixed(k === 'mean_episode_length' ? 1 : 2)}`);
  if (o.json) writeJsonAtomic(o.json, { machine: machineInfo(), commit: gitCommit(), tasks, jobs: jobs.length, settings: o.runtime, modes: results, ...summary });
}

/**
 * Median cost of one reset, side by side: restoring an init state in a cached env, and LIBERO's hard reset (BDDL
 * -> MJCF, compile, new render context, the reset observation rendered with MSAA). In-rollout means include each
 * env's first, cold reset; this is the steady state.
 */
function resetCosts(ref: string, runtime: Omit<RuntimeOptions, 'tasks'>): { reuse_ms: number; rebuild_ms: number } {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const time = (mode: ReuseMode, n: number) => {
    const { msaa, ...pattern } = REUSE_MODES[mode];
    const settings = resolveSettings({ ...runtime, ...pattern, tasks: [ref], image: { width: 256, height: 256, ...runtime.image, msaa } });
    const bank = new EnvBank(ref, { ...settings, numParallelEnvs: 1 });
    try {
      return median(
        Array.from({ length: n }, (_, i) => {
          const t0 = performance.now();
          bank.reset(0, i % bank.inits.length);
          return performance.now() - t0;
        }),
      );
    } finally {
      bank.close();
    }
  };
  return { reuse_ms: time('reuse', 200), rebuild_ms: time('libero', 9) };
}

// ------------------------------------------------------------------ riptide profile env

export interface ProfileOptions extends WorkloadOptions {
  runtime: Omit<RuntimeOptions, 'tasks'>;
  actors: number[];
  json?: string;
  trace?: string;
}

/** The same episodes' steps and renders with no actors: VecEnv.runNativeLoop over the recorded actions. */
function nativeOnlyMs(tasks: string[], settings: RuntimeSettings, episodes: Episode[]): number {
  let ms = 0;
  tasks.forEach((ref, t) => {
    const mine = episodes.filter((e) => e.task === t);
    for (let i = 0; i < mine.length; i += settings.numParallelEnvs) {
      const group = mine.slice(i, i + settings.numParallelEnvs);
      const bank = new EnvBank(ref, { ...settings, numParallelEnvs: group.length, resetMode: 'reuse' });
      try {
        group.forEach((e, k) => bank.reset(k, e.init));
        const T = Math.max(...group.map((e) => e.length));
        const actions = new Float32Array(T * group.length * 7);
        group.forEach((e, k) => {
          for (let s = 0; s < T; s++) {
            const row = Math.min(s, e.length - 1); // a finished env repeats its last action
            actions.set(e.actions.subarray(row * 7, row * 7 + 7), (s * group.length + k) * 7);
          }
        });
        const t0 = performance.now();
        bank.wait(group.map((_, k) => k));
        ms += performance.now() - t0 + bank.nativeLoop(actions, T);
        const img = new Uint8Array(CAMERAS.length * settings.image.width * settings.image.height * 3);
        const r0 = performance.now();
        group.forEach((e, k) => {
          for (let c = 0; c < e.chunks; c++) bank.render(k, img);
        });
        ms += performance.now() - r0;
      } finally {
        bank.close();
      }
    }
  });
  return ms;
}

function chromeTrace(timelines: Record<string, Span[]>[]): unknown {
  const events: unknown[] = [];
  let origin = Infinity;
  for (const tl of timelines) for (const spans of Object.values(tl)) for (const s of spans) origin = Math.min(origin, s.start);
  timelines.forEach((tl, run) => {
    Object.entries(tl).forEach(([actor, spans], tid) => {
      events.push({ name: 'thread_name', ph: 'M', pid: run + 1, tid, args: { name: actor } });
      for (const s of spans) events.push({ name: s.name.replace(/Ms$/, ''), ph: 'X', pid: run + 1, tid, ts: Math.round((s.start - origin) * 1000), dur: Math.round(s.dur * 1000) });
    });
  });
  return { traceEvents: events, displayTimeUnit: 'ms' };
}

export async function profileEnv(o: ProfileOptions): Promise<void> {
  const tasks = taskRefs(o, ['libero_spatial/0', 'libero_spatial/1']);
  const jobs = workload(tasks.length, o);
  const runs: { actors: number; wall_s: number; env_steps_per_s: number; actor_overhead: number; vs_native_loop: number; native_only_ms: number; stats: RuntimeStats }[] = [];
  const timelines: Record<string, Span[]>[] = [];
  const rows = [];
  for (const actors of o.actors) {
    const rt = await Runtime.start({ ...o.runtime, tasks, envActors: actors, timeline: o.trace !== undefined });
    let episodes: Episode[];
    let wallMs: number;
    let stats: RuntimeStats;
    try {
      ({ episodes, wallMs } = await runJobs(rt, jobs, `profile ${actors} env actor(s)`));
      stats = await rt.stats();
      if (o.trace) timelines.push(await rt.timeline());
    } finally {
      await rt.stop();
    }
    // JS overhead: what an env actor's thread does outside the native step, render and reset calls (ring traffic,
    // scheduling, goal checks), against the time in them. vs_native_loop also counts the slowdown of the native calls
    // themselves while the rollout actor computes on the other core.
    const sum = (f: (e: EnvActorStats) => number) => stats.env.reduce((a, e) => a + f(e), 0);
    const busyMs = sum((e) => e.wallMs - e.inferenceWaitMs - e.idleMs);
    const nativeCallsMs = sum((e) => e.physicsMs + e.renderMs + e.resetMs);
    const overhead = busyMs / nativeCallsMs - 1;
    const nativeMs = nativeOnlyMs(tasks, rt.settings, episodes);
    const stepsPerS = steps(episodes) / (wallMs / 1000);
    runs.push({ actors, wall_s: wallMs / 1000, env_steps_per_s: stepsPerS, actor_overhead: overhead, vs_native_loop: busyMs / nativeMs - 1, native_only_ms: nativeMs, stats });
    for (const e of stats.env) {
      const busy = e.wallMs - e.idleMs;
      const pct = (ms: number) => (100 * ms) / busy;
      rows.push({
        run: `${actors} actor(s)`,
        actor: `env ${e.actor}`,
        'steps/s': e.steps / (busy / 1000),
        'physics %': pct(e.physicsMs),
        'render %': pct(e.renderMs),
        'reset %': pct(e.resetMs),
        'goal check %': pct(e.successMs),
        'inference wait %': pct(e.inferenceWaitMs),
        'other JS %': pct(busy - e.physicsMs - e.renderMs - e.resetMs - e.successMs - e.inferenceWaitMs),
      });
    }
    const r = stats.rollout;
    rows.push({ run: `${actors} actor(s)`, actor: 'rollout', 'steps/s': stepsPerS, 'infer ms/batch': r.inferMs / Math.max(1, r.batches), 'rows/batch': r.rows / Math.max(1, r.batches), 'slot wait %': (100 * r.slotWaitMs) / r.wallMs });
    console.error(
      `${actors} env actor(s): ${stepsPerS.toFixed(1)} env steps/s end to end; actor_overhead ${(100 * overhead).toFixed(1)}% ` +
        `(busy ${busyMs.toFixed(0)} ms, in native calls ${nativeCallsMs.toFixed(0)} ms); against the native-only loop (${nativeMs.toFixed(0)} ms) ${(100 * (busyMs / nativeMs - 1)).toFixed(1)}%`,
    );
  }
  printTable(rows);
  if (o.trace) {
    writeFileAtomic(o.trace, JSON.stringify(chromeTrace(timelines)));
    console.log(`chrome trace: ${o.trace} (open in chrome://tracing or https://ui.perfetto.dev)`);
  }
  if (o.json) writeJsonAtomic(o.json, { machine: machineInfo(), commit: gitCommit(), tasks, jobs: jobs.length, settings: o.runtime, runs });
  if (runs.length === 0) throw new RiptideError('profile env: --actors named no actor counts');
}
