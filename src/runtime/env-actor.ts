// An env actor: the cached envs of one or more tasks. It starts queued episodes on idle envs (reset from an init
// state + LIBERO's wait steps), writes each observation straight into a slot of its observation ring, executes the
// action chunks the rollout actor puts in its action ring, and ends an episode on success or at the step budget.
// With `pipeline`, its envs form two halves that are executed separately, so one half steps while the other half's
// observations are being inferred. tick() does whatever is ready and never blocks; run() is the worker loop.
import { EnvBank } from './env-bank.ts';
import type { EpisodeJob } from './episode.ts';
import { ACT, ACTION_DIM, frameStride, imageBytes, KIND_END, KIND_FRAME, KIND_OBS, OBS, timed, type ActionSpec, type ObsSpec, type RuntimeSettings, type Span } from './layouts.ts';
import { SlotRing, type RingDescriptor } from './slot-ring.ts';

export interface EnvActorSetup {
  actor: number;
  settings: RuntimeSettings;
  /** Indices into settings.tasks that this actor holds envs for. */
  tasks: number[];
  obs: RingDescriptor<ObsSpec>;
  actions: RingDescriptor<ActionSpec>;
}

/** Where an actor's time went (milliseconds) and what it did. */
export interface EnvActorStats {
  actor: number;
  steps: number;
  episodes: number;
  resets: number;
  /** Inside the native step calls (physics + OSC controller). */
  physicsMs: number;
  /** Goal checks after every step (JS predicates over native queries). */
  successMs: number;
  renderMs: number;
  resetMs: number;
  /** Scene compiles + render contexts (only at start in reuse mode). */
  buildMs: number;
  /** Waiting for action chunks, i.e. for inference. */
  inferenceWaitMs: number;
  /** Waiting with no episode in flight (no jobs). */
  idleMs: number;
  /** From the first tick to now. */
  wallMs: number;
}

interface EnvSlot {
  index: number;
  bank: EnvBank;
  k: number;
  task: number;
  group: number;
  job: EpisodeJob | null;
  chunk: number;
  length: number;
  success: boolean;
  /** An observation was sent and its chunk has not arrived. */
  awaiting: boolean;
  /** A chunk arrived and waits to be executed. */
  ready: boolean;
  actions: Float32Array;
}

export class EnvActor {
  readonly actor: number;
  readonly settings: RuntimeSettings;
  readonly banks: EnvBank[];
  readonly obs: SlotRing<ObsSpec>;
  readonly actions: SlotRing<ActionSpec>;
  readonly #slots: EnvSlot[] = [];
  readonly #queues = new Map<number, EpisodeJob[]>();
  readonly #groups: number;
  readonly #stats: Omit<EnvActorStats, 'buildMs' | 'wallMs'>;
  /** Timed spans when settings.timeline is on. */
  readonly spans: Span[] | null;
  #startedAt = 0;
  #stopped = false;

  constructor(setup: EnvActorSetup) {
    this.actor = setup.actor;
    this.settings = setup.settings;
    this.obs = SlotRing.attach(setup.obs);
    this.actions = SlotRing.attach(setup.actions);
    this.banks = setup.tasks.map((t) => new EnvBank(setup.settings.tasks[t], setup.settings));
    const perTask = setup.settings.numParallelEnvs;
    this.#groups = setup.settings.pipeline && perTask * setup.tasks.length > 1 ? 2 : 1;
    setup.tasks.forEach((task, b) => {
      this.#queues.set(task, []);
      for (let k = 0; k < perTask; k++) {
        const index = this.#slots.length;
        this.#slots.push({
          index,
          bank: this.banks[b],
          k,
          task,
          group: index % this.#groups,
          job: null,
          chunk: 0,
          length: 0,
          success: false,
          awaiting: false,
          ready: false,
          actions: new Float32Array(setup.settings.executeSteps * ACTION_DIM),
        });
      }
    });
    this.#stats = { actor: this.actor, steps: 0, episodes: 0, resets: 0, physicsMs: 0, successMs: 0, renderMs: 0, resetMs: 0, inferenceWaitMs: 0, idleMs: 0 };
    this.spans = setup.settings.timeline ? [] : null;
  }

  /** Queues episodes; each job's task must be one of this actor's. */
  submit(jobs: EpisodeJob[]): void {
    for (const j of jobs) {
      const q = this.#queues.get(j.task);
      if (!q) throw new RangeError(`env actor ${this.actor} holds no envs of task ${j.task} (${this.settings.tasks[j.task] ?? '?'})`);
      q.push(j);
    }
  }

  /** Episodes queued or running. */
  get pending(): number {
    let n = this.#slots.filter((s) => s.job).length;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  stats(): EnvActorStats {
    const buildMs = this.banks.reduce((a, b) => a + b.buildMs, 0);
    return { ...this.#stats, buildMs, wallMs: this.#startedAt ? performance.now() - this.#startedAt : 0 };
  }

  /** Does everything that is ready now: take chunks, start queued episodes, execute complete groups. */
  tick(): boolean {
    if (!this.#startedAt) this.#startedAt = performance.now();
    let worked = this.#takeChunks();
    worked = this.#startEpisodes() || worked;
    for (let g = 0; g < this.#groups; g++) {
      const members = this.#slots.filter((s) => s.job && s.group === g);
      if (members.length > 0 && members.every((s) => s.ready)) {
        this.#execute(members);
        // This group's observations go out now, to be inferred while the other group steps.
        this.obs.publish();
        worked = true;
      }
    }
    // A round of observations becomes visible at once, so the rollout actor batches it together.
    this.obs.publish();
    return worked;
  }

  /** The worker loop: tick, and sleep on the action ring's bell when nothing was ready. */
  async run(): Promise<void> {
    while (!this.#stopped && !this.actions.closed) {
      const seen = this.actions.bell.read();
      if (this.tick()) continue;
      const t0 = performance.now();
      await this.actions.bell.wait(seen, 200);
      const dur = performance.now() - t0;
      const key = this.#slots.some((s) => s.awaiting) ? 'inferenceWaitMs' : 'idleMs';
      this.#stats[key] += dur;
      if (key === 'inferenceWaitMs') this.spans?.push({ name: key, start: performance.timeOrigin + t0, dur });
    }
  }

  stop(): void {
    this.#stopped = true;
    this.actions.bell.ring();
  }

  close(): void {
    this.stop();
    for (const b of this.banks) b.close();
  }

  #takeChunks(): boolean {
    let took = false;
    for (let m = this.actions.peek(); m; m = this.actions.peek()) {
      const s = this.#slots[m.meta[ACT.env]];
      if (s?.awaiting && s.job?.episode === m.meta[ACT.episode] && s.chunk === m.meta[ACT.chunk]) {
        s.actions.set(m.actions);
        s.awaiting = false;
        s.ready = true;
      }
      this.actions.release();
      took = true;
    }
    return took;
  }

  #startEpisodes(): boolean {
    let started = false;
    for (const bank of this.banks) {
      const idle = this.#slots.filter((s) => s.bank === bank && !s.job);
      const queue = this.#queues.get(idle[0]?.task ?? -1);
      if (!queue || queue.length === 0) continue;
      const now: EnvSlot[] = [];
      for (const s of idle) {
        const job = queue.shift();
        if (!job) break;
        timed(this.#stats, 'resetMs', this.spans, () => bank.reset(s.k, job.init));
        this.#stats.resets++;
        Object.assign(s, { job, chunk: 0, length: 0, success: false, awaiting: false, ready: false });
        now.push(s);
      }
      timed(this.#stats, 'physicsMs', this.spans, () => bank.wait(now.map((s) => s.k)));
      for (const s of now) this.#emit(s, KIND_OBS);
      started = true;
    }
    return started;
  }

  #execute(members: EnvSlot[]): void {
    const { executeSteps, render } = this.settings;
    const stride = frameStride(this.settings);
    const scratch = render === 'step' ? new Uint8Array(imageBytes(this.settings)) : null;
    for (const bank of this.banks) {
      const mine = members.filter((s) => s.bank === bank);
      if (mine.length === 0) continue;
      const actions = new Float32Array(bank.numEnvs * ACTION_DIM);
      const active = new Uint8Array(bank.numEnvs);
      for (const s of mine) active[s.k] = 1;
      for (let t = 0; t < executeSteps && mine.some((s) => active[s.k]); t++) {
        for (const s of mine) actions.set(s.actions.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM), s.k * ACTION_DIM);
        timed(this.#stats, 'physicsMs', this.spans, () => bank.step(actions, active));
        timed(this.#stats, 'successMs', null, () => {
          for (const s of mine) {
            if (!active[s.k]) continue;
            s.length++;
            this.#stats.steps++;
            if (bank.success(s.k)) s.success = true;
            if (s.success || s.length >= bank.maxSteps) active[s.k] = 0;
          }
        });
        // Frames inside the chunk (chunk boundaries are sent as observations below).
        if (stride < executeSteps) for (const s of mine) if (active[s.k] && s.length % stride === 0 && s.length % executeSteps !== 0) this.#emit(s, KIND_FRAME);
        if (scratch) timed(this.#stats, 'renderMs', this.spans, () => mine.forEach((s) => active[s.k] && bank.render(s.k, scratch)));
      }
    }
    for (const s of members) {
      s.ready = false;
      if (s.success || s.length >= s.bank.maxSteps) {
        this.#emit(s, KIND_END);
        s.job = null;
        this.#stats.episodes++;
      } else {
        s.chunk++;
        this.#emit(s, KIND_OBS);
      }
    }
  }

  /** Writes env s's observation (or its end record) into the next observation slot. */
  #emit(s: EnvSlot, kind: number): void {
    const m = this.obs.claim();
    if (!m) throw new Error(`env actor ${this.actor}: observation ring full (${this.obs.capacity} slots); it must hold a chunk's frames + 2 per env`);
    const job = s.job!;
    m.meta[OBS.env] = s.index;
    m.meta[OBS.episode] = job.episode;
    m.meta[OBS.chunk] = s.chunk;
    m.meta[OBS.kind] = kind;
    m.meta[OBS.success] = s.success ? 1 : 0;
    m.meta[OBS.length] = s.length;
    m.meta[OBS.task] = s.task;
    m.meta[OBS.seed] = job.seed;
    if (kind !== KIND_END) {
      s.bank.state(s.k, m.state);
      timed(this.#stats, 'renderMs', this.spans, () => s.bank.render(s.k, m.images));
      s.awaiting = kind === KIND_OBS;
    }
  }
}
