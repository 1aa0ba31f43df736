// Double-buffered weights in shared memory: the learner publishes a new version into the buffer nobody reads, then
// flips `active`; the rollout actor copies the active buffer into its model between chunks. One writer, one reader,
// no serialisation. Header: [active, reading (-1 none), version of buffer 0, version of buffer 1].
const ACTIVE = 0;
const READING = 1;
const VERSION = 2;
const HEADER_BYTES = 64;

export interface BoardDescriptor {
  sab: SharedArrayBuffer;
  params: number;
}

export class WeightsBoard {
  readonly params: number;
  readonly #sab: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #bufs: [Float32Array, Float32Array];

  private constructor(d: BoardDescriptor) {
    this.params = d.params;
    this.#sab = d.sab;
    this.#h = new Int32Array(d.sab, 0, 4);
    this.#bufs = [0, 1].map((i) => new Float32Array(d.sab, HEADER_BYTES + i * d.params * 4, d.params)) as [Float32Array, Float32Array];
  }

  static create(params: number): WeightsBoard {
    const b = new WeightsBoard({ sab: new SharedArrayBuffer(HEADER_BYTES + 2 * params * 4), params });
    Atomics.store(b.#h, READING, -1);
    return b;
  }

  static attach(d: BoardDescriptor): WeightsBoard {
    return new WeightsBoard(d);
  }

  get descriptor(): BoardDescriptor {
    return { sab: this.#sab, params: this.params };
  }

  /** The newest published version (0: nothing published yet). */
  get version(): number {
    return Atomics.load(this.#h, VERSION + Atomics.load(this.#h, ACTIVE));
  }

  /** Copies `weights` into the idle buffer (waiting while the reader still copies from it) and makes it active. */
  async publish(weights: Float32Array): Promise<number> {
    if (weights.length !== this.params) throw new RangeError(`publish: ${weights.length} weights for a board of ${this.params}`);
    const target = 1 - Atomics.load(this.#h, ACTIVE);
    while (Atomics.load(this.#h, READING) === target) {
      const w = Atomics.waitAsync(this.#h, READING, target, 1000);
      if (w.async) await w.value;
    }
    const version = this.version + 1;
    this.#bufs[target].set(weights);
    Atomics.store(this.#h, VERSION + target, version);
    Atomics.store(this.#h, ACTIVE, target);
    return version;
  }

  /** Copies the active weights into `out` when they are newer than `have`; returns their version, or null. */
  readInto(out: Float32Array, have: number): number | null {
    let b: number;
    do {
      b = Atomics.load(this.#h, ACTIVE);
      Atomics.store(this.#h, READING, b);
    } while (Atomics.load(this.#h, ACTIVE) !== b);
    try {
      const version = Atomics.load(this.#h, VERSION + b);
      if (version <= have) return null;
      out.set(this.#bufs[b]);
      return version;
    } finally {
      Atomics.store(this.#h, READING, -1);
      Atomics.notify(this.#h, READING);
    }
  }
}
