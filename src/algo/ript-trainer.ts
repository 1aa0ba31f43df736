// `riptide train`: RIPT-style RL with CFG-Flow over the actor runtime. One step = collect RLOO groups (stats skip,
// dynamic sampling, attempt cap) -> leave-one-out advantages -> one CFG-Flow update in the learner actor -> publish.
// Evaluation on held-out init states every log_freq steps, checkpoints every save_freq steps; everything random is
// derived from (seed, step), and a checkpoint holds the sampler and stats too, so a resumed run continues exactly.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import type { TrainConfig } from '../config/train-config.ts';
import { RiptideError } from '../errors.ts';
import { warmupCosine } from '../model/schedule.ts';
import { ffmpegAvailable, VideoEncoder } from '../report/video.ts';
import { appendMetrics, metricsPath, readMetrics, writeMetrics, writeRunInfo } from '../report/metrics.ts';
import type { Episode } from '../runtime/episode.ts';
import { Runtime, type RuntimeOptions } from '../runtime/runtime.ts';
import { splitIndices } from '../tasks/init-states.ts';
import { suiteTasks } from '../tasks/suites/index.ts';
import { openTask, type Task } from '../tasks/task.ts';
import { meanSuccess, mixSeed, stepBatch } from './cfg-flow.ts';
import { collectGroups, type RolloutJob } from './collect.ts';
import { InitStateSampler, type SamplerState } from './init-sampler.ts';
import { initStateHash, RolloutStatsTracker } from './rollout-stats.ts';

export const TRAINER_STATE_FORMAT = 'riptide.ript_trainer.v1';

export interface TrainerState {
  format: string;
  step: number;
  /** The run's task refs: a resume with another task list would mix up the sampler and stats. */
  tasks: string[];
  sampler: SamplerState;
  stats: ReturnType<RolloutStatsTracker['toJSON']>;
}

export interface TrainHooks {
  log(line: string): void;
  /** Progress of the current phase: done of total, with a label. */
  progress?(phase: string, done: number, total: number, info?: string): void;
  /** Called after each step's bookkeeping (tests). */
  onStep?(record: StepRecord): void;
}

/** A train step's metrics.json record. */
export type StepRecord = { step: number; lr: number; [field: string]: number };

export interface EvalResult {
  step: number;
  overall_success_rate: number;
  per_task: Record<string, number>;
  mean_episode_length: number;
  cfg_scale: number;
  episodes: number;
}

/** The task refs a config names. */
export function configTasks(c: TrainConfig): string[] {
  return c.task.suite ? suiteTasks(c.task.suite).map((t) => `${t.suite}/${t.id}`) : c.task.tasks;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

const STEP_DIR = /^step_(\d{6,})$/;

/** Checkpoint folders of a run, oldest first. */
export function listCheckpoints(outputDir: string): { step: number; dir: string }[] {
  const root = path.join(outputDir, 'checkpoints');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => ({ m: STEP_DIR.exec(name), name }))
    .filter((x) => x.m && existsSync(path.join(root, x.name, 'trainer_state.json')))
    .map((x) => ({ step: Number(x.m![1]), dir: path.join(root, x.name) }))
    .sort((a, b) => a.step - b.step);
}

/** How many init states a task has stored. */
export function initCount(task: Task): number {
  try {
    return Number((JSON.parse(readFileSync(task.initFile, 'utf8')) as { count: number }).count);
  } catch (e) {
    throw new RiptideError(`${task.initFile}: cannot read the init states of ${task.ref} (${(e as Error).message}); regenerate them with: riptide tasks init-states ${task.ref}`);
  }
}

export class RiptTrainer {
  readonly config: TrainConfig;
  readonly tasks: Task[];
  /** The task refs as the config names them (metrics keys, log lines). */
  readonly refs: string[];
  readonly outputDir: string;
  readonly statsPath: string;
  readonly #hooks: TrainHooks;
  readonly #sampler: InitStateSampler;
  readonly #stats: RolloutStatsTracker | null;
  readonly #testInits: number[][];
  #runtime: Runtime | null = null;
  #videos: VideoEncoder | null = null;
  #step = 0;
  #resumeDir: string | null = null;

  constructor(config: TrainConfig, hooks: TrainHooks) {
    this.config = config;
    this.#hooks = hooks;
    this.refs = configTasks(config);
    this.tasks = this.refs.map((ref) => openTask(ref));
    this.outputDir = path.resolve(config.output_dir);
    this.statsPath = path.resolve(config.algo.rollout_stats_path ?? path.join(this.outputDir, 'rollout_stats.json'));
    const counts = this.tasks.map(initCount);
    this.#sampler = new InitStateSampler(counts.map((n) => splitIndices(n, 'train')), config.seed);
    this.#testInits = counts.map((n) => splitIndices(n, 'test').slice(0, config.eval.init_states ?? undefined));
    this.#stats = config.algo.enable_rollout_stats_tracking ? new RolloutStatsTracker(config.algo.rollout_skip_threshold) : null;
  }

  get step(): number {
    return this.#step;
  }

  /**
   * Prepares the run folder: a fresh run refuses a folder that already has checkpoints (nothing is overwritten);
   * `resume` continues from the newest checkpoint there.
   */
  prepare(resume: boolean): void {
    const found = listCheckpoints(this.outputDir);
    if (resume) {
      const last = found.at(-1);
      if (!last) throw new RiptideError(`--resume: ${path.join(this.outputDir, 'checkpoints')} holds no checkpoint (step_NNNNNN with trainer_state.json); start without --resume`);
      const file = path.join(last.dir, 'trainer_state.json');
      let state: TrainerState;
      try {
        state = JSON.parse(readFileSync(file, 'utf8')) as TrainerState;
      } catch (e) {
        throw new RiptideError(`${file}: not valid JSON (${(e as Error).message}); move this checkpoint folder aside to resume from the one before`);
      }
      if (state?.format !== TRAINER_STATE_FORMAT) throw new RiptideError(`${file}: format '${state?.format}' is not '${TRAINER_STATE_FORMAT}'; resume from a riptide train checkpoint`);
      if (JSON.stringify(state.tasks) !== JSON.stringify(this.refs)) {
        throw new RiptideError(`${file}: the run trained on tasks ${state.tasks.join(', ')} but the config names ${this.refs.join(', ')}; resume with the run's task list or start a new output_dir`);
      }
      this.#step = state.step;
      this.#sampler.restore(state.sampler);
      this.#stats?.restore(state.stats, `${last.dir}/trainer_state.json`);
      this.#resumeDir = last.dir;
      // Records written after the checkpoint (a run that died between saves) are redone.
      const m = existsSync(metricsPath(this.outputDir)) ? readMetrics(this.outputDir) : null;
      if (m) writeMetrics(this.outputDir, { ...m, eval: m.eval.filter((r) => r.step <= state.step), train: m.train.filter((r) => r.step <= state.step) });
      this.#hooks.log(`resuming ${this.outputDir} from step ${state.step} (${last.dir})`);
      return;
    }
    if (found.length > 0) {
      throw new RiptideError(`${this.outputDir} already holds checkpoints (last: step ${found.at(-1)!.step}); pass --resume to continue it, or set output_dir to a new folder`);
    }
    const old = existsSync(metricsPath(this.outputDir)) ? readMetrics(this.outputDir) : null;
    if (old && old.eval.length + old.train.length > 0) {
      throw new RiptideError(`${metricsPath(this.outputDir)} holds records of an earlier run that saved no checkpoint; set output_dir to a new folder or delete that file`);
    }
    mkdirSync(this.outputDir, { recursive: true });
    if (this.#stats?.load(this.statsPath)) this.#hooks.log(`loaded rollout stats for ${this.#stats.stats.size} init states from ${this.statsPath}`);
    writeRunInfo(this.outputDir, { command: 'train', config: this.config, tasks: this.refs });
  }

  runtimeOptions(): RuntimeOptions {
    const c = this.config;
    return {
      tasks: this.refs,
      numParallelEnvs: c.task.num_parallel_envs,
      envActors: c.runtime.env_actors,
      image: { width: c.task.image_size, height: c.task.image_size },
      executeSteps: c.algo.execute_steps,
      frameStride: gcd(c.algo.execute_steps, c.algo.window_stride),
      maxEpisodeLength: c.task.max_episode_length ?? undefined,
      pipeline: c.runtime.pipeline,
      mode: c.runtime.mode,
      maxBatch: c.runtime.max_batch,
      policy: {
        preset: c.policy.preset,
        seed: c.seed,
        checkpoint: this.#resumeDir ?? c.policy.checkpoint ?? undefined,
        cfgScale: c.algo.cfg_scale,
        flowSteps: c.algo.flow_steps,
        threads: c.runtime.threads ?? undefined,
        device: c.runtime.device,
      },
    };
  }

  async start(): Promise<Runtime> {
    const c = this.config;
    if (c.features.save_video && c.features.video_episodes > 0) {
      if (!ffmpegAvailable()) throw new RiptideError('features.save_video needs ffmpeg: install it (apt-get install ffmpeg, or npm run setup) or set features.save_video=false');
      this.#videos = new VideoEncoder();
    }
    this.#runtime = await Runtime.start(this.runtimeOptions(), {
      lr: c.algo.lr,
      microBatch: c.algo.micro_batch_size,
      seed: c.seed,
      clipNorm: c.algo.clip_grad_norm,
      resume: this.#resumeDir ?? undefined,
    });
    return this.#runtime;
  }

  /** Stops the actors and waits for the videos still being encoded. */
  async stop(): Promise<void> {
    await this.#runtime?.stop();
    this.#runtime = null;
    const v = await this.#videos?.close();
    this.#videos = null;
    for (const f of v?.failed ?? []) this.#hooks.log(`video ${f.out} failed: ${f.error}`);
  }

  /** The whole run: evaluation at step 0, then steps until n_steps, evaluating and saving on schedule. */
  async run(): Promise<EvalResult[]> {
    const c = this.config;
    const evals: EvalResult[] = [];
    if (this.#step === 0) evals.push(await this.evaluate());
    while (this.#step < c.training.n_steps) {
      await this.trainStep();
      const last = this.#step === c.training.n_steps;
      if (this.#step % c.training.log_freq === 0 || last) evals.push(await this.evaluate());
      if (this.#step % c.training.save_freq === 0 || last) await this.save();
    }
    return evals;
  }

  #rt(): Runtime {
    if (!this.#runtime) throw new RiptideError('trainer: start() the runtime first');
    return this.#runtime;
  }

  async #rollout(jobs: RolloutJob[], phase: string): Promise<Episode[]> {
    let done = 0;
    this.#hooks.progress?.(phase, 0, jobs.length);
    return this.#rt().rollout(jobs, () => this.#hooks.progress?.(phase, ++done, jobs.length));
  }

  /** One RL step: collect groups, compute advantages, update, log. Returns the step's train record. */
  async trainStep(): Promise<StepRecord> {
    const c = this.config;
    const a = c.algo;
    const step = this.#step + 1;
    const t0 = performance.now();
    const collected = await collectGroups<Episode>({
      sampler: this.#sampler,
      stats: this.#stats,
      hashOf: (ctx) => initStateHash(this.tasks[ctx.task].initFile, ctx.init),
      taskName: (t) => this.refs[t],
      rollout: (jobs) => this.#rollout(jobs, `step ${step} rollouts`),
      groupSize: a.rloo_batch_size,
      groups: a.demo_batch_size,
      earlyStop: a.early_stop_percentage,
      dynamicSampling: a.enable_dynamic_sampling,
      maxAttempts: a.max_sample_attempts ?? 4 * a.demo_batch_size,
      seedOf: (attempt, k) => mixSeed(c.seed, step, attempt, k),
      log: this.#hooks.log,
    });
    const rolloutS = (performance.now() - t0) / 1000;
    const all = [...collected.kept, ...collected.dropped];
    const envSteps = all.reduce((n, g) => n + g.episodes.reduce((m, e) => m + e.length, 0), 0);
    const batch = stepBatch(collected.kept, { groupSize: a.rloo_batch_size, normalizeAdvantage: a.normalize_advantage, advMax: a.adv_max });
    const lr = warmupCosine(step - 1, { warmup: a.warmup_steps, total: c.training.n_steps, peak: a.lr, floor: a.lr * a.min_lr_ratio });
    const headerLr = (lr * (a.header_lr ?? a.lr)) / a.lr;
    const record: StepRecord = {
      step,
      groups_kept: collected.kept.length,
      groups_dropped: collected.dropped.length,
      groups_skipped: collected.skipped.length,
      contexts_tried: collected.attempts,
      mean_success: meanSuccess(all),
      adv_mean: batch.advMean,
      adv_std: batch.advStd,
      lr,
      env_steps: envSteps,
      steps_per_s: envSteps / Math.max(rolloutS, 1e-9),
    };
    if (batch.episodes.length > 0) {
      const phase = `step ${step} update`;
      const u = await this.#rt().update(batch.episodes, {
        weights: batch.weights,
        uncondWeight: a.uncond_weight,
        stride: a.window_stride,
        supervise: a.supervise_steps ?? undefined,
        tail: a.tail_windows,
        microBatch: a.micro_batch_size,
        accumulation: a.gradient_accumulation_steps,
        lrModel: lr,
        lrHeader: headerLr,
        weightDecay: a.weight_decay,
        clipNorm: a.clip_grad_norm,
        emaDecay: a.ema_decay,
        seed: mixSeed(c.seed, step, 0x1ea7),
      }, (done, total) => this.#hooks.progress?.(phase, done, total, 'micro-batches'));
      Object.assign(record, { fm_loss: u.loss, loss_cond: u.lossCond, grad_norm: u.gradNorm, windows: u.windows, optimizer_steps: u.optimizerSteps });
      if (u.lossUncond !== null) record.loss_uncond = u.lossUncond;
    } else {
      this.#hooks.log(`step ${step}: no group kept (every group was uniform or skipped); no update this step`);
    }
    record.wall_s = (performance.now() - t0) / 1000;
    this.#step = step;
    this.#stats?.save(this.statsPath);
    appendMetrics(this.outputDir, 'train', record);
    this.#hooks.log(stepLine(record, c.training.n_steps));
    this.#hooks.onStep?.(record);
    return record;
  }

  /** Success rate on the held-out init states of every task (eval.cfg_scale), appended to metrics.json. */
  async evaluate(): Promise<EvalResult> {
    const c = this.config;
    const jobs: RolloutJob[] = [];
    this.#testInits.forEach((inits, task) => {
      for (const init of inits) for (let r = 0; r < c.eval.episodes_per_init; r++) jobs.push({ task, init, seed: mixSeed(c.seed, 0xe7a1, task, init, r) });
    });
    const rt = this.#rt();
    await rt.setCfgScale(c.eval.cfg_scale);
    let episodes: Episode[];
    try {
      episodes = await this.#rollout(jobs, `eval at step ${this.#step}`);
    } finally {
      await rt.setCfgScale(c.algo.cfg_scale);
    }
    const result = evalResult(this.#step, this.refs, episodes, c.eval.cfg_scale);
    appendMetrics(this.outputDir, 'eval', result);
    if (this.#videos) this.#queueVideos(episodes);
    this.#hooks.log(evalLine(result));
    return result;
  }

  /** Evaluation videos, replayed and encoded in a side worker while training goes on. */
  #queueVideos(episodes: Episode[]): void {
    const size = this.config.task.image_size;
    this.refs.forEach((ref, task) => {
      for (const e of episodes.filter((x) => x.task === task).slice(0, this.config.features.video_episodes)) {
        const name = `step_${String(this.#step).padStart(6, '0')}_${ref.replace(/[^A-Za-z0-9_.-]+/g, '-')}_init${e.init}_${e.success ? 'success' : 'failure'}.mp4`;
        this.#videos!.submit({
          task: ref,
          init: e.init,
          actions: e.actions.subarray(0, e.length * 7),
          length: e.length,
          out: path.join(this.outputDir, 'videos', name),
          width: size,
          height: size,
          caption: `${ref} step ${this.#step}`,
        });
      }
    });
  }

  /** Checkpoint of the current step (learner weights, Adam, EMA, sampler and stats), then keep the last keep_last. */
  async save(): Promise<string> {
    const dir = path.join(this.outputDir, 'checkpoints', `step_${String(this.#step).padStart(6, '0')}`);
    const state: TrainerState = { format: TRAINER_STATE_FORMAT, step: this.#step, tasks: this.refs, sampler: this.#sampler.state(), stats: (this.#stats ?? new RolloutStatsTracker(1)).toJSON() };
    await this.#rt().saveCheckpoint(dir, state);
    const all = listCheckpoints(this.outputDir);
    for (const old of all.slice(0, Math.max(0, all.length - this.config.training.keep_last))) rmSync(old.dir, { recursive: true, force: true });
    this.#hooks.log(`saved ${dir}`);
    return dir;
  }
}

/** Success per task (in `refs` order) and overall over evaluation episodes. */
export function evalResult(step: number, refs: string[], episodes: Episode[], cfgScale: number): EvalResult {
  const rate = (es: Episode[]) => es.filter((e) => e.success).length / Math.max(1, es.length);
  return {
    step,
    overall_success_rate: rate(episodes),
    per_task: Object.fromEntries(refs.map((ref, i) => [ref, rate(episodes.filter((e) => e.task === i))])),
    mean_episode_length: episodes.reduce((n, e) => n + e.length, 0) / Math.max(1, episodes.length),
    cfg_scale: cfgScale,
    episodes: episodes.length,
  };
}

export function evalLine(r: EvalResult): string {
  const tasks = Object.entries(r.per_task).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`);
  return `eval step ${r.step}: success ${(100 * r.overall_success_rate).toFixed(1)}% (${tasks.join(', ')}), mean length ${r.mean_episode_length.toFixed(0)}`;
}

function stepLine(r: StepRecord, total: number): string {
  const f = (v: number | undefined, d = 3) => (v === undefined ? '-' : v.toFixed(d));
  return [
    `step ${r.step}/${total}`,
    `groups kept ${r.groups_kept} dropped ${r.groups_dropped} skipped ${r.groups_skipped}`,
    `success ${f(r.mean_success, 2)}`,
    `adv ${f(r.adv_mean, 2)}±${f(r.adv_std, 2)}`,
    `fm ${f(r.fm_loss)}`,
    `lr ${r.lr.toExponential(1)}`,
    `${r.env_steps} env steps ${f(r.steps_per_s, 1)}/s`,
    `${f(r.wall_s, 1)} s`,
  ].join(' | ');
}
