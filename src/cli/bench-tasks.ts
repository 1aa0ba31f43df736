// `riptide bench tasks`: what each task's scene costs: building the MJCF from its BDDL file, compiling it (one
// mjData), resetting an env from a stored init state (qpos, qvel, fixture poses + mj_forward), and one control step.
// Targets (issue 3): compile < 200 ms and reset < 1 ms on the 2-core VM.
import { allTasks } from '../tasks/suites/index.ts';
import { openTask, taskInitStates } from '../tasks/task.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { ProgressLine } from './progress.ts';
import { gitCommit, machineInfo, printTable, writeJsonAtomic } from './report-json.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchTasks(opts: { json?: string; suite?: string }): Promise<void> {
  const entries = allTasks().filter((e) => !opts.suite || e.suite === opts.suite);
  const progress = new ProgressLine('tasks', entries.length);
  const rows: { suite: string; id: number; nq: number; bddl_to_mjcf_ms: number; compile_ms: number; reset_ms: number; step_ms: number }[] = [];
  for (const [i, e] of entries.entries()) {
    const ref = `${e.suite}/${e.name}`;
    const t0 = performance.now();
    const task = openTask(ref);
    const buildMs = performance.now() - t0;
    const compile: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      TaskEnv.create(task.scene, { numEnvs: 1 }).close();
      compile.push(performance.now() - t);
    }
    const env = TaskEnv.create(task.scene, { numEnvs: 1 });
    const inits = taskInitStates(task, env);
    const reset: number[] = [];
    for (let r = 0; r < 500; r++) {
      const t = performance.now();
      env.reset(0, inits[r % inits.length]);
      reset.push(performance.now() - t);
    }
    const a = new Float32Array(7);
    const step: number[] = [];
    for (let r = 0; r < 40; r++) {
      if (r % 20 === 0) env.reset(0, inits[r % inits.length]);
      const t = performance.now();
      env.env.step(a);
      step.push(performance.now() - t);
    }
    env.close();
    rows.push({
      suite: e.suite,
      id: e.id,
      nq: env.env.nq,
      bddl_to_mjcf_ms: buildMs,
      compile_ms: median(compile),
      reset_ms: median(reset),
      step_ms: median(step),
    });
    progress.update(i + 1, ref);
  }
  progress.done();
  printTable(rows);
  const worst = (k: 'compile_ms' | 'reset_ms') => Math.max(...rows.map((r) => r[k]));
  console.log(`slowest compile ${worst('compile_ms').toFixed(1)} ms (target < 200), slowest reset ${worst('reset_ms').toFixed(3)} ms (target < 1)`);
  if (opts.json) writeJsonAtomic(opts.json, { machine: machineInfo(), commit: gitCommit(), tasks: rows });
}
