// `riptide sft`: supervised flow matching on demonstrations. Every valid step of every demo is a training window
// (full-step enumeration, design note libero-full-step-enumeration), drawn in a seeded order per epoch; the learner
// runs in this thread (no rollouts to overlap with), and evaluation starts the actor runtime on a saved checkpoint.
// RECAP's policy fine-tune is this trainer with a per-window positive flag (SftOptions.positive).
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import type { SftConfig } from '../config/sft-config.ts';
import { DemoDataset } from '../data/dataset.ts';
import { RiptideError } from '../errors.ts';
import { readCheckpointConfig } from '../model/checkpoint.ts';
import { loadPi0Config } from '../model/config.ts';
import { warmupCosine } from '../model/schedule.ts';
import { appendMetrics, writeRunInfo } from '../report/metrics.ts';
import { DEFAULT_SETTINGS, type PolicySettings, type RuntimeSettings } from '../runtime/layouts.ts';
import { LearnerActor } from '../runtime/learner-actor.ts';
import { Runtime } from '../runtime/runtime.ts';
import { splitIndices } from '../tasks/init-states.ts';
import { findTask } from '../tasks/suites/index.ts';
import { openTask } from '../tasks/task.ts';
import { mixSeed } from './cfg-flow.ts';
import { evalLine, evalResult, initCount, listCheckpoints, type EvalResult, type TrainHooks } from './ript-trainer.ts';

export const SFT_STATE_FORMAT = 'riptide.sft.v1';

/** The built-in task a demo file belongs to (LIBERO names files <task name>_demo.hdf5), or null. */
function taskOfFile(file: string): string | null {
  const name = path.basename(file).replace(/\.hdf5$/, '').replace(/_demo$/, '');
  try {
    const t = findTask(name);
    return `${t.suite}/${t.id}`;
  } catch {
    return null;
  }
}

export interface SftOptions {
  /** RECAP: per demo of the opened dataset, one flag per usable step; 0 trains that step's window unconditional only.
   *  Absent: every window is positive (plain SFT). */
  positive?: (data: DemoDataset) => Uint8Array[];
}

export interface PolicyEvalOptions {
  policy: Partial<PolicySettings>;
  tasks: string[];
  image: { width: number; height: number };
  executeSteps: number;
  maxEpisodeLength?: number;
  /** One evaluation per scale, on the same init states with the same seeds. */
  cfgScales: number[];
  /** Held-out init states per task; null = the whole test split. */
  initStates: number | null;
  numParallelEnvs: number;
  envActors: number;
  seed: number;
  /** The step the results are recorded at. */
  step: number;
}

/** Success on the held-out (test split) init states of every task, once per cfg scale, through one runtime. */
export async function evaluatePolicy(o: PolicyEvalOptions, onEpisode?: (cfgScale: number, done: number, total: number) => void): Promise<EvalResult[]> {
  const rt = await Runtime.start({
    tasks: o.tasks,
    numParallelEnvs: o.numParallelEnvs,
    envActors: o.envActors,
    image: o.image,
    executeSteps: o.executeSteps,
    maxEpisodeLength: o.maxEpisodeLength,
    policy: o.policy,
  });
  try {
    const jobs = o.tasks.flatMap((ref, t) => {
      const inits = splitIndices(initCount(openTask(ref)), 'test').slice(0, o.initStates ?? undefined);
      return inits.map((init) => ({ task: t, init, seed: mixSeed(o.seed, 0xe7a1, t, init) }));
    });
    const results: EvalResult[] = [];
    for (const scale of o.cfgScales) {
      await rt.setCfgScale(scale);
      let done = 0;
      const episodes = await rt.rollout(jobs, () => onEpisode?.(scale, ++done, jobs.length));
      results.push(evalResult(o.step, o.tasks, episodes, scale));
    }
    return results;
  } finally {
    await rt.stop();
  }
}

export class SftTrainer {
  readonly config: SftConfig;
  readonly outputDir: string;
  readonly #hooks: TrainHooks;
  readonly #options: SftOptions;
  #positive: Uint8Array[] | null = null;
  #data: DemoDataset | null = null;
  #learner: LearnerActor | null = null;
  #prompts = new Map<string, number>();
  #evalTasks: string[] = [];
  #horizon = 50;

  constructor(config: SftConfig, hooks: TrainHooks, options: SftOptions = {}) {
    this.config = config;
    this.outputDir = path.resolve(config.output_dir);
    this.#hooks = hooks;
    this.#options = options;
  }

  async open(): Promise<DemoDataset> {
    const c = this.config;
    if (listCheckpoints(this.outputDir).length > 0) throw new RiptideError(`${this.outputDir} already holds checkpoints; set output_dir to a new folder`);
    const model = c.policy.checkpoint ? readCheckpointConfig(c.policy.checkpoint) : loadPi0Config(c.policy.preset);
    this.#horizon = model.action_horizon;
    const data = await DemoDataset.open(c.data.paths, { mode: c.data.mode, seed: c.seed, horizon: model.action_horizon });
    this.#data = data;
    if (data.size === 0) throw new RiptideError(`data.paths (${c.data.paths.join(', ')}): no training windows in mode '${c.data.mode}' (demos shorter than a window? try data.mode=pad)`);
    this.#positive = this.#options.positive?.(data) ?? null;
    for (const d of data.demos) if (!this.#prompts.has(d.prompt)) this.#prompts.set(d.prompt, this.#prompts.size);
    this.#evalTasks = [...new Set(data.files.map((f) => taskOfFile(f.file)).filter((t): t is string => t !== null))];
    const settings: RuntimeSettings = {
      ...DEFAULT_SETTINGS,
      tasks: [],
      image: { width: data.width, height: data.height },
      policy: { ...DEFAULT_SETTINGS.policy, preset: c.policy.preset, seed: c.seed, checkpoint: c.policy.checkpoint ?? undefined, threads: c.runtime.threads ?? undefined, device: c.runtime.device },
    };
    const learner = new LearnerActor({
      settings,
      learner: { lr: c.train.lr, microBatch: c.train.micro_batch_size, seed: c.seed, clipNorm: c.train.clip_grad_norm },
      board: null,
      languages: [...this.#prompts.keys()],
    });
    if (!learner.policy.normStats) learner.setNormStats(data.normStats());
    this.#learner = learner;
    mkdirSync(this.outputDir, { recursive: true });
    writeRunInfo(this.outputDir, { command: 'sft', config: c, tasks: this.#evalTasks });
    this.#hooks.log(`${data.demos.length} demos in ${data.files.length} files, ${data.size} windows per epoch (mode ${c.data.mode}), ${data.width}x${data.height} images; evaluating on ${this.#evalTasks.join(', ') || 'no built-in task'}`);
    return data;
  }

  async run(): Promise<EvalResult[]> {
    const c = this.config;
    const data = this.#data ?? (await this.open());
    const learner = this.#learner!;
    const evals: EvalResult[] = [];
    const batch = data.allocBatch(c.train.batch_size);
    const task = new Int32Array(c.train.batch_size);
    const positive = this.#positive;
    const flags = new Uint8Array(c.train.batch_size);
    const stream = data.stream(c.train.batch_size);
    let since = { loss: 0, n: 0, t0: performance.now(), grad: 0 };
    for (let step = 1; step <= c.train.steps; step++) {
      const { refs, epoch } = stream.next().value;
      const B = refs.length / 2;
      data.readBatch(refs, batch);
      for (let b = 0; b < B; b++) task[b] = this.#prompts.get(batch.prompts[b])!;
      if (positive) for (let b = 0; b < B; b++) flags[b] = positive[refs[2 * b]][refs[2 * b + 1]];
      const lr = warmupCosine(step - 1, { warmup: c.train.warmup_steps, total: c.train.steps, peak: c.train.lr, floor: c.train.lr * c.train.min_lr_ratio });
      const u = await learner.trainRows(
        { size: B, horizon: batch.horizon, task, state: batch.state, images: batch.images, actions: batch.actions, actionIsPad: batch.actionIsPad, positive: positive ? flags.subarray(0, B) : undefined },
        { lrModel: lr, lrHeader: lr, weightDecay: c.train.weight_decay, clipNorm: c.train.clip_grad_norm, emaDecay: c.train.ema_decay, indicatorDropout: c.train.indicator_dropout, seed: mixSeed(c.seed, step) },
      );
      since.loss += u.lossCond;
      since.grad += u.gradNorm;
      since.n++;
      this.#hooks.progress?.('sft', step, c.train.steps, `loss ${u.lossCond.toFixed(3)} epoch ${epoch}`);
      const last = step === c.train.steps;
      if (step % c.train.log_freq === 0 || last) {
        const secs = (performance.now() - since.t0) / 1000;
        const rec = { step, fm_loss: since.loss / since.n, grad_norm: since.grad / since.n, lr, epoch, samples_per_s: (since.n * B) / secs };
        appendMetrics(this.outputDir, 'train', rec);
        this.#hooks.log(`step ${step}/${c.train.steps} | loss ${rec.fm_loss.toFixed(4)} | grad ${rec.grad_norm.toFixed(3)} | lr ${lr.toExponential(1)} | epoch ${epoch} | ${rec.samples_per_s.toFixed(1)} samples/s`);
        since = { loss: 0, n: 0, t0: performance.now(), grad: 0 };
      }
      const evalNow = c.eval.freq > 0 && (step % c.eval.freq === 0 || last);
      if (step % c.train.save_freq === 0 || last || evalNow) {
        const dir = this.#save(step, epoch);
        if (evalNow) evals.push(await this.evaluate(dir, step));
      }
    }
    return evals;
  }

  #save(step: number, epoch: number): string {
    const dir = path.join(this.outputDir, 'checkpoints', `step_${String(step).padStart(6, '0')}`);
    this.#learner!.save(dir, { format: SFT_STATE_FORMAT, step, epoch, data: this.config.data });
    const all = listCheckpoints(this.outputDir);
    for (const old of all.slice(0, Math.max(0, all.length - this.config.train.keep_last))) rmSync(old.dir, { recursive: true, force: true });
    return dir;
  }

  /** Success on the held-out init states of every task the demos belong to, with the checkpoint at `dir`. */
  async evaluate(dir: string, step: number): Promise<EvalResult> {
    const c = this.config;
    const tasks = this.#evalTasks;
    if (tasks.length === 0) throw new RiptideError('eval: the demo files name no built-in task (files are <task name>_demo.hdf5); set eval.freq=0');
    const data = this.#data!;
    const [result] = await evaluatePolicy(
      {
        policy: { checkpoint: dir, threads: c.runtime.threads ?? undefined, device: c.runtime.device },
        tasks,
        image: { width: data.width, height: data.height },
        executeSteps: Math.min(c.eval.execute_steps ?? 50, this.#horizon),
        cfgScales: [c.eval.cfg_scale],
        initStates: c.eval.init_states,
        numParallelEnvs: c.eval.num_parallel_envs,
        envActors: c.eval.env_actors,
        seed: c.seed,
        step,
      },
      (_, done, total) => this.#hooks.progress?.(`eval at step ${step}`, done, total),
    );
    appendMetrics(this.outputDir, 'eval', result);
    this.#hooks.log(evalLine(result));
    return result;
  }

  close(): void {
    this.#data?.close();
  }
}
