// `riptide tasks ...`: list the suites, show or render a task (built-in or a user's BDDL file), regenerate init
// states, and check the scripted experts against LIBERO's success rules.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { writeFileAtomic } from '../fs-atomic.ts';
import { encodePng } from '../png.ts';
import { runExpert } from '../tasks/experts/index.ts';
import { generateInitStates, writeInitStates } from '../tasks/init-states.ts';
import { allTasks, SUITES, suiteTasks } from '../tasks/suites/index.ts';
import { openTask, taskInitStates, type Task } from '../tasks/task.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { ProgressLine } from './progress.ts';
import { printTable, writeJsonAtomic } from './report-json.ts';

export function listTasks(opts: { suite?: string }): void {
  const suites = opts.suite ? [opts.suite] : SUITES;
  for (const s of suites) {
    const tasks = suiteTasks(s);
    console.log(`${s} (${tasks.length} tasks, ${tasks[0]?.maxSteps} max steps)`);
    for (const t of tasks) console.log(`  ${String(t.id).padStart(2)}  ${t.name}\n      "${t.language}"`);
  }
}

export function showTask(ref: string): void {
  const task = openTask(ref);
  const t0 = performance.now();
  const env = TaskEnv.create(task.scene, { numEnvs: 1 });
  const compileMs = performance.now() - t0;
  try {
    const { problem, arena } = task.scene;
    console.log(`task        ${task.ref}`);
    console.log(`file        ${problem.file}`);
    console.log(`instruction "${task.language}"`);
    console.log(`scene       ${problem.problem} (surface ${task.scene.surface}, robot base ${arena.robot.base.join(', ')})`);
    console.log(`objects     ${task.scene.objects.map((o) => `${o.name} (${o.category})`).join(', ') || '-'}`);
    console.log(`fixtures    ${task.scene.fixtures.map((o) => `${o.name} (${o.category})`).join(', ') || '-'}`);
    console.log(`init        ${problem.init.map((a) => `(${a.predicate} ${a.args.join(' ')})`).join(' ')}`);
    console.log(`goal        ${problem.goal.map((a) => `(${a.predicate} ${a.args.join(' ')})`).join(' and ')}`);
    console.log(`model       nq ${env.env.nq}, nv ${env.env.nv}, ${env.env.nmocap} fixtures, compiled in ${compileMs.toFixed(0)} ms, signature ${task.scene.signature}`);
    let inits = 'none: riptide tasks init-states ' + task.ref;
    try {
      inits = `${taskInitStates(task, env).length} (${path.relative(process.cwd(), task.initFile)})`;
    } catch (e) {
      inits = (e as Error).message;
    }
    console.log(`init states ${inits}`);
    console.log(`max steps   ${task.maxSteps}`);
  } finally {
    env.close();
  }
}

/** Both cameras of each task at an init state, one task per row, into one PNG. */
export function renderTasks(refs: string[], opts: { out: string; size: number; index: number }): void {
  const rows: Uint8Array[] = [];
  let width = 0;
  for (const ref of refs) {
    const task = openTask(ref);
    const env = TaskEnv.create(task.scene, { numEnvs: 1, render: { width: opts.size, height: opts.size } });
    try {
      const inits = taskInitStates(task, env);
      if (opts.index >= inits.length) throw new RangeError(`--init ${opts.index}: ${task.ref} has ${inits.length} init states (0..${inits.length - 1})`);
      env.start([inits[opts.index]]);
      const image = env.renderBothCameras(0);
      rows.push(image.rgb);
      width = image.width;
    } finally {
      env.close();
    }
  }
  const rgb = new Uint8Array(rows.reduce((n, r) => n + r.length, 0));
  rows.reduce((at, r) => (rgb.set(r, at), at + r.length), 0);
  const out = path.resolve(opts.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileAtomic(out, encodePng(rgb, width, opts.size * rows.length));
  console.log(`wrote ${out}: ${refs.join(', ')} at init state ${opts.index} after the wait steps (agentview | robot0_eye_in_hand, as the policy sees them)`);
}

/** The tasks a --suite / task list names (all tasks when neither is given). */
function selectTasks(refs: string[], suite?: string): Task[] {
  if (refs.length > 0) return refs.map(openTask);
  const entries = suite ? suiteTasks(suite) : allTasks();
  return entries.map((e) => openTask(`${e.suite}/${e.name}`));
}

export function regenerateInitStates(refs: string[], opts: { suite?: string; count: number; seed: number }): void {
  const tasks = selectTasks(refs, opts.suite);
  const progress = new ProgressLine('init states', tasks.length * opts.count);
  let done = 0;
  try {
    for (const task of tasks) {
      const env = TaskEnv.create(task.scene, { numEnvs: 1 });
      try {
        const set = generateInitStates(task.scene, env, {
          task: task.ref,
          count: opts.count,
          seed: opts.seed,
          onState: () => progress.update(++done, task.ref),
        });
        writeInitStates(task.initFile, set, task.scene, env);
      } finally {
        env.close();
      }
    }
  } finally {
    progress.done();
  }
  console.log(`wrote init states for ${tasks.length} task(s), ${opts.count} each (seed ${opts.seed})`);
}

export function checkExperts(refs: string[], opts: { suite?: string; envs: number; json?: string; episodes?: number }): void {
  const tasks = selectTasks(refs, opts.suite);
  const rows: { suite: string; id: number | string; task: string; success: string; rate: number; mean_steps: number; max_steps: number }[] = [];
  const total = tasks.length * (opts.episodes ?? 50);
  const progress = new ProgressLine('expert episodes', total);
  let done = 0;
  const t0 = performance.now();
  let steps = 0;
  try {
    for (const task of tasks) {
      const env = TaskEnv.create(task.scene, { numEnvs: opts.envs });
      try {
        const inits = taskInitStates(task, env).slice(0, opts.episodes);
        const res = runExpert(env, inits, { maxSteps: task.maxSteps, onEpisode: () => progress.update(++done, task.ref) });
        const ok = res.filter((r) => r.success);
        steps += res.reduce((s, r) => s + r.steps, 0);
        rows.push({
          suite: task.entry?.suite ?? '-',
          id: task.entry?.id ?? '-',
          task: task.entry?.name ?? task.ref,
          success: `${ok.length}/${res.length}`,
          rate: ok.length / res.length,
          mean_steps: ok.length ? Math.round(ok.reduce((s, r) => s + r.steps, 0) / ok.length) : 0,
          max_steps: task.maxSteps,
        });
      } finally {
        env.close();
      }
    }
  } finally {
    progress.done();
  }
  printTable(rows);
  const sec = (performance.now() - t0) / 1000;
  console.log(`${rows.filter((r) => r.rate >= 0.8).length}/${rows.length} tasks at >= 40/50; ${steps} control steps in ${sec.toFixed(0)} s`);
  if (opts.json) writeJsonAtomic(opts.json, { tasks: rows, seconds: sec });
}
