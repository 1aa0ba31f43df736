// The rollout actor: gathers the observations that are ready in every env actor's ring into one batch, samples one
// action chunk per row with the PI0 addon (noise seeded by episode seed and chunk, so an episode does not depend on
// what it was batched with), writes the chunks back, and tracks each episode (actions, observations at chunk
// boundaries) until its env actor reports the end; then it writes the episode record for the supervisor. Before
// each batch it switches to the newest weights the learner published.
import type { Pi0Policy } from '../model/pi0.ts';
import { Rng } from '../rng.ts';
import {
  ACT,
  ACTION_DIM,
  EP,
  frameStride,
  imageBytes,
  KIND_END,
  KIND_FRAME,
  maxChunks,
  maxFrames,
  OBS,
  STATE_DIM,
  timed,
  type ActionSpec,
  type EpisodeSpec,
  type ObsSpec,
  type RuntimeSettings,
  type Span,
} from './layouts.ts';
import { openPolicy, PolicyInputs } from './policy-io.ts';
import { SlotRing, type RingDescriptor, type SlotView } from './slot-ring.ts';
import { WeightsBoard, type BoardDescriptor } from './weights-board.ts';

export interface RolloutSetup {
  settings: RuntimeSettings;
  /** Per env actor: its observation ring (all share this actor's doorbell) and its action ring. */
  obs: RingDescriptor<ObsSpec>[];
  actions: RingDescriptor<ActionSpec>[];
  episodes: RingDescriptor<EpisodeSpec>;
  /** Per task: instruction and step budget. */
  languages: string[];
  maxSteps: number[];
}

export interface RolloutStats {
  batches: number;
  rows: number;
  /** Time in the sampler (preprocessing included). */
  inferMs: number;
  /** Time waiting for observations. */
  slotWaitMs: number;
  weightsVersion: number;
  wallMs: number;
}

/** One chunk as sent (kept when settings.trace is on). */
export interface SentChunk {
  episode: number;
  chunk: number;
  actions: Float32Array;
}

interface Track {
  actor: number;
  task: number;
  seed: number;
  chunks: number;
  frames: number;
  actions: Float32Array;
  states: Float32Array;
  images: Uint8Array;
}

interface Row {
  actor: number;
  env: number;
  episode: number;
  chunk: number;
  seed: number;
}

export class RolloutActor {
  readonly settings: RuntimeSettings;
  readonly policy: Pi0Policy;
  readonly sent: SentChunk[] = [];
  /** Timed spans when settings.timeline is on. */
  readonly spans: Span[] | null;
  readonly #setup: RolloutSetup;
  readonly #obs: SlotRing<ObsSpec>[];
  readonly #actions: SlotRing<ActionSpec>[];
  readonly #episodes: SlotRing<EpisodeSpec>;
  readonly #board: WeightsBoard;
  readonly #inputs: PolicyInputs;
  readonly #tracks = new Map<number, Track>();
  readonly #rows: Row[] = [];
  #version = 0;
  #cfgScale: number;
  #next = 0;
  #recordsFull = false;
  #stopped = false;
  #startedAt = 0;
  readonly #stats = { batches: 0, rows: 0, inferMs: 0, slotWaitMs: 0 };

  constructor(setup: RolloutSetup) {
    this.#setup = setup;
    this.settings = setup.settings;
    this.spans = setup.settings.timeline ? [] : null;
    this.#obs = setup.obs.map((d) => SlotRing.attach(d));
    this.#actions = setup.actions.map((d) => SlotRing.attach(d));
    this.#episodes = SlotRing.attach(setup.episodes);
    this.policy = openPolicy(setup.settings.policy);
    this.#cfgScale = setup.settings.policy.cfgScale;
    this.#board = WeightsBoard.create(this.policy.params().length);
    const H = this.policy.config.action_horizon;
    if (setup.settings.executeSteps > H) {
      throw new RangeError(`executeSteps ${setup.settings.executeSteps} is longer than the policy's action horizon ${H}; set it to at most ${H}`);
    }
    this.#inputs = new PolicyInputs(this.policy.config, setup.settings.maxBatch, setup.settings.image, setup.languages, this.policy.normStats);
  }

  /** Where the learner publishes weights for this actor. */
  get board(): BoardDescriptor {
    return this.#board.descriptor;
  }

  /** Replaces env actor `actor`'s rings (after a restart) and forgets its unfinished episodes. */
  attach(actor: number, obs: RingDescriptor<ObsSpec>, actions: RingDescriptor<ActionSpec>): void {
    this.#obs[actor] = SlotRing.attach(obs);
    this.#actions[actor] = SlotRing.attach(actions);
    for (const [id, t] of this.#tracks) if (t.actor === actor) this.#tracks.delete(id);
  }

  /** Guidance for the chunks sampled from now on (evaluation may use another scale than training rollouts). */
  setCfgScale(scale: number): void {
    this.#cfgScale = scale;
  }

  stats(): RolloutStats {
    return { ...this.#stats, weightsVersion: this.#version, wallMs: this.#startedAt ? performance.now() - this.#startedAt : 0 };
  }

  /** Ends finished episodes, batches ready observations, samples and sends their chunks. */
  tick(): boolean {
    if (!this.#startedAt) this.#startedAt = performance.now();
    this.#version = this.#board.readInto(this.policy.params(), this.#version) ?? this.#version;
    let worked = false;
    this.#rows.length = 0;
    this.#recordsFull = false;
    const n = this.#obs.length;
    for (let i = 0; i < n && this.#rows.length < this.settings.maxBatch; i++) {
      const a = (this.#next + i) % n;
      const ring = this.#obs[a];
      for (let m = ring.peek(); m && this.#rows.length < this.settings.maxBatch; m = ring.peek()) {
        if (m.meta[OBS.kind] === KIND_END) {
          if (!this.#finish(a, m)) break;
        } else if (m.meta[OBS.kind] === KIND_FRAME) {
          this.#keepFrame(this.#track(a, m), m.meta[OBS.length], m);
        } else {
          this.#addRow(a, m);
        }
        ring.release();
        worked = true;
      }
    }
    this.#next = (this.#next + 1) % n;
    if (this.#rows.length > 0) timed(this.#stats, 'inferMs', this.spans, () => this.#infer());
    return worked;
  }

  async run(): Promise<void> {
    const bell = this.#obs[0].bell;
    while (!this.#stopped && !this.#episodes.closed) {
      const seen = bell.read();
      if (this.tick()) continue;
      if (this.#recordsFull) {
        await this.#episodes.waitSpace(200);
        continue;
      }
      const t0 = performance.now();
      await bell.wait(seen, 200);
      const dur = performance.now() - t0;
      this.#stats.slotWaitMs += dur;
      this.spans?.push({ name: 'slotWaitMs', start: performance.timeOrigin + t0, dur });
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#obs[0]?.bell.ring();
  }

  #track(actor: number, m: SlotView<ObsSpec>): Track {
    const id = m.meta[OBS.episode];
    let t = this.#tracks.get(id);
    if (!t) {
      const task = m.meta[OBS.task];
      const steps = this.#setup.maxSteps[task];
      const frames = maxFrames(this.settings, steps);
      t = {
        actor,
        task,
        seed: m.meta[OBS.seed],
        chunks: 0,
        frames: 0,
        actions: new Float32Array(maxChunks(this.settings, steps) * this.settings.executeSteps * ACTION_DIM),
        states: new Float32Array(frames * STATE_DIM),
        images: new Uint8Array(frames * imageBytes(this.settings)),
      };
      this.#tracks.set(id, t);
    }
    return t;
  }

  #addRow(actor: number, m: SlotView<ObsSpec>): void {
    const t = this.#track(actor, m);
    const c = m.meta[OBS.chunk];
    this.#keepFrame(t, c * this.settings.executeSteps, m);
    t.chunks = c + 1;
    this.#inputs.setRow(this.#rows.length, t.task, m.state, m.images);
    this.#rows.push({ actor, env: m.meta[OBS.env], episode: m.meta[OBS.episode], chunk: c, seed: t.seed });
  }

  /** Stores the observation at `step` as a frame of the episode record. */
  #keepFrame(t: Track, step: number, m: SlotView<ObsSpec>): void {
    const f = step / frameStride(this.settings);
    t.states.set(m.state, f * STATE_DIM);
    t.images.set(m.images, f * m.images.length);
    t.frames = Math.max(t.frames, f + 1);
  }

  #infer(): void {
    const { action_horizon: H, action_dim: A } = this.policy.config;
    const B = this.#rows.length;
    const noise = new Float32Array(B * H * A);
    this.#rows.forEach((r, b) => {
      const rng = new Rng((r.seed ^ Math.imul(r.chunk + 1, 0x9e3779b1)) >>> 0);
      for (let i = 0; i < H * A; i++) noise[b * H * A + i] = rng.normal();
    });
    const sampled = this.policy.sampleActions(this.#inputs.sampleBatch(B, noise, this.settings.policy.flowSteps, this.#cfgScale));
    const E = this.settings.executeSteps;
    this.#rows.forEach((r, b) => {
      const slot = this.#actions[r.actor].claim();
      if (!slot) throw new Error(`rollout: action ring of env actor ${r.actor} is full; it must hold one chunk per env`);
      this.#inputs.toActions(sampled, b, E, slot.actions);
      slot.meta[ACT.env] = r.env;
      slot.meta[ACT.episode] = r.episode;
      slot.meta[ACT.chunk] = r.chunk;
      this.#tracks.get(r.episode)!.actions.set(slot.actions, r.chunk * E * ACTION_DIM);
      if (this.settings.trace) this.sent.push({ episode: r.episode, chunk: r.chunk, actions: slot.actions.slice() });
    });
    for (const ring of this.#actions) ring.publish();
    this.#stats.batches++;
    this.#stats.rows += B;
  }

  /** Writes the record of the episode that m ends; false when the record ring is full (try again later). */
  #finish(actor: number, m: SlotView<ObsSpec>): boolean {
    const id = m.meta[OBS.episode];
    const t = this.#tracks.get(id);
    if (!t) return true;
    const rec = this.#episodes.claim();
    if (!rec) {
      this.#recordsFull = true;
      return false;
    }
    const steps = this.#setup.maxSteps[t.task];
    rec.meta.fill(0);
    rec.meta[EP.episode] = id;
    rec.meta[EP.task] = t.task;
    rec.meta[EP.seed] = t.seed;
    rec.meta[EP.success] = m.meta[OBS.success];
    rec.meta[EP.length] = m.meta[OBS.length];
    rec.meta[EP.chunks] = t.chunks;
    rec.meta[EP.frames] = t.frames;
    rec.meta[EP.actor] = actor;
    rec.actions.set(t.actions.subarray(0, Math.min(t.actions.length, steps * ACTION_DIM)));
    rec.states.set(t.states.subarray(0, t.frames * STATE_DIM));
    rec.images.set(t.images.subarray(0, t.frames * imageBytes(this.settings)));
    this.#episodes.publish();
    this.#tracks.delete(id);
    return true;
  }
}
