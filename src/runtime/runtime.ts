// The supervisor (main thread): creates the rings and the weights board, starts the actors (workers, or all in this
// thread in 'serial' mode), deals episode jobs to the env actors by task, collects finished episodes, and restarts
// an env actor that throws or dies: it gets fresh rings, the rollout actor forgets its unfinished episodes, and
// every job of it that has no record yet runs again (records already written are kept: nothing accepted is lost).
import * as Comlink from 'comlink';

import { RiptideError } from '../errors.ts';
import { openTask } from '../tasks/task.ts';
import type { EnvActorApi } from '../../actors/env-actor.ts';
import type { LearnerActorApi } from '../../actors/learner-actor.ts';
import type { RolloutActorApi } from '../../actors/rollout-actor.ts';
import { ActorHandle, type ActorExit } from './actor.ts';
import { EnvActor, type EnvActorSetup, type EnvActorStats } from './env-actor.ts';
import { episodeFromRecord, type Episode, type EpisodeJob } from './episode.ts';
import { DEFAULT_LEARNER, LearnerActor, type LearnerSettings, type UpdatePlan, type UpdateResult } from './learner-actor.ts';
import { actionSpec, DEFAULT_SETTINGS, EP, episodeSpec, frameStride, imageBytes, maxFrames, obsSpec, type ActionSpec, type EpisodeSpec, type ObsSpec, type RuntimeSettings, type Span } from './layouts.ts';
import { RolloutActor, type RolloutSetup, type RolloutStats, type SentChunk } from './rollout-actor.ts';
import { Doorbell, SlotRing } from './slot-ring.ts';
import type { BoardDescriptor } from './weights-board.ts';

export class RuntimeError extends RiptideError {
  override name = 'RuntimeError';
}

export type RuntimeOptions = Partial<Omit<RuntimeSettings, 'policy'>> & { tasks: string[]; policy?: Partial<RuntimeSettings['policy']> };

export interface RuntimeStats {
  env: EnvActorStats[];
  rollout: RolloutStats;
  restarts: number[];
}

interface EnvSlot {
  tasks: number[];
  obs: SlotRing<ObsSpec>;
  actions: SlotRing<ActionSpec>;
  handle?: ActorHandle<EnvActorApi>;
  local?: EnvActor;
  restarts: number;
}

/** Fills in defaults and checks the settings a user can get wrong, naming the field and the fix. */
export function resolveSettings(o: RuntimeOptions): RuntimeSettings {
  const s: RuntimeSettings = { ...DEFAULT_SETTINGS, ...o, policy: { ...DEFAULT_SETTINGS.policy, ...o.policy }, image: { ...DEFAULT_SETTINGS.image, ...o.image } };
  const positive = (v: number, field: string) => {
    if (!Number.isInteger(v) || v < 1) throw new RuntimeError(`${field} must be a positive integer, got ${v}`);
  };
  if (!Array.isArray(s.tasks) || s.tasks.length === 0) throw new RuntimeError('tasks: name at least one task (e.g. libero_spatial/0; `riptide tasks list` shows them)');
  positive(s.numParallelEnvs, 'task.num_parallel_envs');
  positive(s.envActors, 'runtime.env_actors');
  positive(s.executeSteps, 'algo.execute_steps');
  positive(s.maxBatch, 'runtime.max_batch');
  if (s.maxEpisodeLength !== undefined) positive(s.maxEpisodeLength, 'task.max_episode_length');
  if (s.frameStride !== undefined) {
    positive(s.frameStride, 'runtime.frame_stride');
    if (s.executeSteps % s.frameStride !== 0) throw new RuntimeError(`runtime.frame_stride (${s.frameStride}) must divide algo.execute_steps (${s.executeSteps})`);
  }
  if (!['reuse', 'rebuild'].includes(s.resetMode)) throw new RuntimeError(`runtime.reset_mode must be 'reuse' or 'rebuild', got '${s.resetMode}'`);
  if (!['chunk', 'step'].includes(s.render)) throw new RuntimeError(`runtime.render must be 'chunk' or 'step', got '${s.render}'`);
  if (!['actors', 'serial'].includes(s.mode)) throw new RuntimeError(`runtime.mode must be 'actors' or 'serial', got '${s.mode}'`);
  return s;
}

export class Runtime {
  readonly settings: RuntimeSettings;
  readonly languages: string[];
  readonly maxSteps: number[];
  readonly #env: EnvSlot[];
  readonly #actorOf: number[];
  readonly #episodes: SlotRing<EpisodeSpec>;
  readonly #rolloutBell = new Doorbell();
  readonly #learnerSettings: LearnerSettings | null;
  #rollout?: ActorHandle<RolloutActorApi>;
  #rolloutLocal?: RolloutActor;
  #learner?: ActorHandle<LearnerActorApi>;
  #learnerLocal?: LearnerActor;
  #nextEpisode = 0;
  #jobs = new Map<number, EpisodeJob & { actor: number }>();
  #done = new Map<number, Episode>();
  #dead: number[] = [];
  #lastExit: ActorExit[] = [];
  #failure: Error | null = null;
  #stopping = false;

  private constructor(settings: RuntimeSettings, learner: LearnerSettings | null) {
    this.settings = settings;
    this.#learnerSettings = learner;
    const tasks = settings.tasks.map((ref) => openTask(ref));
    this.languages = tasks.map((t) => t.language);
    this.maxSteps = tasks.map((t) => settings.maxEpisodeLength ?? t.maxSteps);
    const actors = Math.min(settings.envActors, tasks.length);
    this.#actorOf = tasks.map((_, i) => i % actors);
    this.#env = Array.from({ length: actors }, (_, a) => ({ tasks: tasks.map((_, i) => i).filter((i) => this.#actorOf[i] === a), restarts: 0, ...this.#envRings(a) }));
    const recordSteps = Math.max(...this.maxSteps);
    const envs = tasks.length * settings.numParallelEnvs;
    const spec = episodeSpec(settings, recordSteps);
    // Records with frames every few steps are large: keep the ring to ~256 MB (a full ring only delays the rollout actor).
    const recordBytes = maxFrames(settings, recordSteps) * imageBytes(settings);
    this.#episodes = SlotRing.create('episodes', spec, Math.max(2, Math.min(16, envs + 1, Math.floor(2 ** 28 / recordBytes))));
  }

  /** Builds every actor; resolves once all envs are compiled and the model is loaded. */
  static async start(opts: RuntimeOptions, learner: Partial<LearnerSettings> | false = false): Promise<Runtime> {
    const rt = new Runtime(resolveSettings(opts), learner === false ? null : { ...DEFAULT_LEARNER, ...learner });
    try {
      await rt.#startAll();
    } catch (e) {
      await rt.stop();
      throw e;
    }
    return rt;
  }

  #envRings(a: number): { obs: SlotRing<ObsSpec>; actions: SlotRing<ActionSpec> } {
    const n = this.settings.tasks.filter((_, i) => this.#actorOf[i] === a).length * this.settings.numParallelEnvs;
    return {
      // Per env: the frames of one chunk, its next observation, and an end record followed by a new episode's first.
      obs: SlotRing.create(`obs${a}`, obsSpec(this.settings), n * (this.settings.executeSteps / frameStride(this.settings) + 2), this.#rolloutBell),
      actions: SlotRing.create(`actions${a}`, actionSpec(this.settings), n),
    };
  }

  #envSetup(a: number): EnvActorSetup {
    const e = this.#env[a];
    return { actor: a, settings: this.settings, tasks: e.tasks, obs: e.obs.descriptor, actions: e.actions.descriptor };
  }

  async #startAll(): Promise<void> {
    const s = this.settings;
    const learnerSetup = (board: BoardDescriptor) => ({ settings: s, learner: this.#learnerSettings!, board, languages: this.languages });
    const rolloutSetup: RolloutSetup = {
      settings: s,
      obs: this.#env.map((e) => e.obs.descriptor),
      actions: this.#env.map((e) => e.actions.descriptor),
      episodes: this.#episodes.descriptor,
      languages: this.languages,
      maxSteps: this.maxSteps,
    };
    if (s.mode === 'serial') {
      this.#env.forEach((e, a) => (e.local = new EnvActor(this.#envSetup(a))));
      this.#rolloutLocal = new RolloutActor(rolloutSetup);
      if (this.#learnerSettings) {
        this.#learnerLocal = new LearnerActor(learnerSetup(this.#rolloutLocal.board));
        await this.#learnerLocal.publish();
      }
      return;
    }
    const envs = Promise.all(this.#env.map((_, a) => this.#startEnvActor(a)));
    envs.catch(() => {}); // awaited below; an early rollout failure must not leave it unhandled
    this.#rollout = ActorHandle.start<RolloutActorApi>('rollout actor', 'rollout-actor.ts', (x) => this.#fatal('rollout actor', x));
    const board = await this.#rollout.call((api) => api.configure(rolloutSetup));
    if (this.#learnerSettings) {
      this.#learner = ActorHandle.start<LearnerActorApi>('learner actor', 'learner-actor.ts', (x) => this.#fatal('learner actor', x));
      await this.#learner.call((api) => api.configure(learnerSetup(board)));
    }
    await envs;
  }

  async #startEnvActor(a: number): Promise<void> {
    const h = ActorHandle.start<EnvActorApi>(`env actor ${a}`, 'env-actor.ts', (x) => {
      if (this.#stopping || this.#env[a].handle !== h) return;
      this.#lastExit[a] = x;
      this.#dead.push(a);
      this.#episodes.bell.ring();
    });
    this.#env[a].handle = h;
    await h.call((api) => api.configure(this.#envSetup(a)));
  }

  #fatal(name: string, x: ActorExit): void {
    if (this.#stopping) return;
    this.#failure = new RuntimeError(`${name} died (exit code ${x.code})${x.error ? `: ${x.error.message}` : ''}`);
    this.#episodes.bell.ring();
  }

  /** Runs one episode per job and resolves with the finished episodes in job order. */
  async rollout(jobs: Omit<EpisodeJob, 'episode'>[], onEpisode?: (e: Episode) => void): Promise<Episode[]> {
    const ids = jobs.map((j) => {
      if (!(j.task >= 0 && j.task < this.settings.tasks.length)) throw new RuntimeError(`rollout job task ${j.task}: the runtime has tasks 0..${this.settings.tasks.length - 1}`);
      const job = { ...j, episode: this.#nextEpisode++, actor: this.#actorOf[j.task] };
      this.#jobs.set(job.episode, job);
      return job.episode;
    });
    const byActor = this.#env.map((_, a) => ids.map((id) => this.#jobs.get(id)!).filter((j) => j.actor === a));
    await Promise.all(byActor.map((js, a) => this.#submit(a, js)));
    const report = (e: Episode) => onEpisode?.(e);
    if (this.settings.mode === 'serial') {
      while (ids.some((id) => !this.#done.has(id))) {
        let worked = false;
        for (const e of this.#env) worked = e.local!.tick() || worked;
        worked = this.#rolloutLocal!.tick() || worked;
        this.#drain(report);
        if (!worked && ids.some((id) => !this.#done.has(id))) throw new RuntimeError('serial runtime stalled: no actor had work but episodes are unfinished');
      }
    } else {
      while (ids.some((id) => !this.#done.has(id))) {
        const seen = this.#episodes.bell.read();
        if (this.#failure) throw this.#failure;
        if (this.#dead.length > 0) await this.#restart(this.#dead.shift()!, report);
        if (this.#drain(report) === 0) await this.#episodes.bell.wait(seen, 500);
      }
    }
    const out = ids.map((id) => this.#done.get(id)!);
    for (const id of ids) {
      this.#done.delete(id);
      this.#jobs.delete(id);
    }
    return out;
  }

  async #submit(a: number, jobs: EpisodeJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const plain = jobs.map(({ episode, task, init, seed }) => ({ episode, task, init, seed }));
    const e = this.#env[a];
    if (e.local) e.local.submit(plain);
    else await e.handle!.call((api) => api.submit(plain));
  }

  /** Reads every record in the episode ring; returns how many it read. */
  #drain(report: (e: Episode) => void): number {
    let n = 0;
    for (let m = this.#episodes.peek(); m; m = this.#episodes.peek()) {
      const job = this.#jobs.get(m.meta[EP.episode]);
      if (job && !this.#done.has(job.episode)) {
        const e = episodeFromRecord(m, job, this.settings, this.maxSteps[job.task]);
        this.#done.set(job.episode, e);
        report(e);
      }
      this.#episodes.release();
      n++;
    }
    return n;
  }

  async #restart(a: number, report: (e: Episode) => void): Promise<void> {
    const e = this.#env[a];
    const x = this.#lastExit[a];
    if (++e.restarts > this.settings.maxRestarts) {
      throw new RuntimeError(`env actor ${a} (${e.tasks.map((t) => this.settings.tasks[t]).join(', ')}) died ${e.restarts} times; last: exit code ${x?.code}${x?.error ? `: ${x.error.message}` : ''}`);
    }
    console.warn(`riptide: env actor ${a} died (exit code ${x?.code}${x?.error ? `: ${x.error.message}` : ''}); restarting it and re-running its unfinished episodes`);
    e.obs.close();
    e.actions.close();
    Object.assign(e, this.#envRings(a));
    await this.#rollout!.call((api) => api.attach(a, e.obs.descriptor, e.actions.descriptor));
    this.#drain(report);
    const rerun = [...this.#jobs.values()].filter((j) => j.actor === a && !this.#done.has(j.episode));
    await this.#startEnvActor(a);
    await this.#submit(a, rerun);
  }

  /** One learner update on these episodes; the rollout actor uses the new weights from its next batch on. */
  async update(episodes: Episode[], plan?: UpdatePlan, onProgress?: (done: number, total: number) => void): Promise<UpdateResult> {
    if (this.#learnerLocal) return this.#learnerLocal.update(episodes, plan, onProgress);
    return this.#learnerHandle().call((api) => api.update(episodes, plan, onProgress && Comlink.proxy(onProgress)));
  }

  /** The learner writes a checkpoint of its weights, optimizer and EMA with `trainerState` (atomically). */
  async saveCheckpoint(dir: string, trainerState: unknown): Promise<void> {
    if (this.#learnerLocal) return this.#learnerLocal.save(dir, trainerState);
    await this.#learnerHandle().call((api) => api.save(dir, trainerState));
  }

  #learnerHandle(): ActorHandle<LearnerActorApi> {
    if (!this.#learner) throw new RuntimeError('this runtime was started without a learner: pass learner settings to Runtime.start');
    return this.#learner;
  }

  /** Sampling guidance from the next batch on (no rollout may be in flight). */
  async setCfgScale(scale: number): Promise<void> {
    if (!(scale >= 0)) throw new RuntimeError(`cfg_scale must be >= 0, got ${scale}`);
    if (this.#rolloutLocal) this.#rolloutLocal.setCfgScale(scale);
    else await this.#rollout!.call((api) => api.setCfgScale(scale));
  }

  /** Per-actor timings and counters. */
  async stats(): Promise<RuntimeStats> {
    const restarts = this.#env.map((e) => e.restarts);
    if (this.settings.mode === 'serial') return { env: this.#env.map((e) => e.local!.stats()), rollout: this.#rolloutLocal!.stats(), restarts };
    const env = await Promise.all(this.#env.map((e) => e.handle!.call((api) => api.health()).then((h) => h.stats!)));
    const rollout = (await this.#rollout!.call((api) => api.health())).stats!;
    return { env, rollout, restarts };
  }

  /** Activity spans per actor (settings.timeline): 'env actor N' and 'rollout actor'. */
  async timeline(): Promise<Record<string, Span[]>> {
    const out: Record<string, Span[]> = {};
    for (const [a, e] of this.#env.entries()) out[`env actor ${a}`] = e.local ? (e.local.spans ?? []) : await e.handle!.call((api) => api.spans());
    out['rollout actor'] = this.#rolloutLocal ? (this.#rolloutLocal.spans ?? []) : await this.#rollout!.call((api) => api.spans());
    return out;
  }

  /** The chunks the rollout actor sent (settings.trace). */
  async sentChunks(): Promise<SentChunk[]> {
    if (this.#rolloutLocal) return this.#rolloutLocal.sent;
    return this.#rollout!.call((api) => api.sent());
  }

  /** Fault injection for tests and drills: terminates env actor a's worker as a crash would. */
  async killEnvActor(a: number): Promise<void> {
    await this.#env[a].handle?.kill();
  }

  /** Stops every actor and frees the envs. Safe to call twice, and after a failure. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    // Closed rings end the actors' loops even if a worker never answers the stop call.
    for (const ring of [this.#episodes, ...this.#env.flatMap((e) => [e.obs, e.actions])]) ring.close();
    for (const e of this.#env) e.local?.close();
    const handles = [...this.#env.map((e) => e.handle), this.#rollout, this.#learner].filter((h) => h !== undefined);
    await Promise.all(handles.map((h) => h.stop()));
  }
}
