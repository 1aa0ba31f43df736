// Fixed-slot SPSC rings over SharedArrayBuffer: the actors' data plane (DESIGN.md decision 2).
// A ring is `capacity` slots of one typed layout plus an Int32 header [head, tail, closed]: head counts published
// slots, tail counts released ones. The producer writes a slot in place and publishes it; the consumer reads it in
// place and releases it. Nothing is copied and nothing spins: a consumer that reads several rings waits on one
// Doorbell that every producer rings after publishing (no lost wake-ups: it reads the bell before draining).
// Rings and bells cross to workers as plain descriptors (a SAB in a message is shared, never copied).

export type FieldType = 'u8' | 'i32' | 'f32';
export type LayoutSpec = Record<string, readonly [FieldType, number]>;
type ArrayOf<T extends FieldType> = T extends 'u8' ? Uint8Array : T extends 'i32' ? Int32Array : Float32Array;
export type SlotView<S extends LayoutSpec> = { [K in keyof S]: ArrayOf<S[K][0]> };

const CTOR = { u8: Uint8Array, i32: Int32Array, f32: Float32Array } as const;
const HEAD = 0;
const TAIL = 1;
const CLOSED = 2;
const HEADER_BYTES = 64; // one cache line, so the header never shares a line with slot data

/** Byte offsets of each field in a slot (fields 8-byte aligned) and the slot's size. */
export function slotBytes(spec: LayoutSpec): { offsets: Record<string, number>; bytes: number } {
  const offsets: Record<string, number> = {};
  let at = 0;
  for (const [name, [type, n]] of Object.entries(spec)) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`slot field ${name}: length must be a non-negative integer, got ${n}`);
    offsets[name] = at;
    at += Math.ceil((n * CTOR[type].BYTES_PER_ELEMENT) / 8) * 8;
  }
  return { offsets, bytes: at };
}

/** Everything a thread needs to attach to a ring another thread created. */
export interface RingDescriptor<S extends LayoutSpec = LayoutSpec> {
  name: string;
  spec: S;
  capacity: number;
  sab: SharedArrayBuffer;
  bell: BellDescriptor;
}

export interface BellDescriptor {
  sab: SharedArrayBuffer;
}

/** A wake-up counter one consumer waits on and any number of producers ring. */
export class Doorbell {
  readonly word: Int32Array;
  constructor(d: BellDescriptor = { sab: new SharedArrayBuffer(4) }) {
    this.word = new Int32Array(d.sab);
  }
  get descriptor(): BellDescriptor {
    return { sab: this.word.buffer as SharedArrayBuffer };
  }
  /** The current count: read it before draining, then wait(count) sleeps only if nothing rang since. */
  read(): number {
    return Atomics.load(this.word, 0);
  }
  ring(): void {
    Atomics.add(this.word, 0, 1);
    Atomics.notify(this.word, 0);
  }
  /** Resolves when the bell rings after `seen` was read, or after timeoutMs; keeps the event loop free meanwhile. */
  async wait(seen: number, timeoutMs = 1000): Promise<void> {
    const w = Atomics.waitAsync(this.word, 0, seen, timeoutMs);
    if (w.async) await w.value;
  }
}

export class RingClosedError extends Error {
  override name = 'RingClosedError';
}

export class SlotRing<S extends LayoutSpec> {
  readonly name: string;
  readonly capacity: number;
  readonly spec: S;
  readonly bell: Doorbell;
  readonly #sab: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly #slots: SlotView<S>[];
  #claimed = 0;

  private constructor(d: RingDescriptor<S>) {
    this.name = d.name;
    this.capacity = d.capacity;
    this.spec = d.spec;
    this.#sab = d.sab;
    this.bell = new Doorbell(d.bell);
    this.#header = new Int32Array(d.sab, 0, 3);
    const { offsets, bytes } = slotBytes(d.spec);
    this.#slots = Array.from({ length: d.capacity }, (_, i) => {
      const view: Record<string, unknown> = {};
      for (const [f, [type, n]] of Object.entries(d.spec)) view[f] = new CTOR[type](d.sab as unknown as ArrayBuffer, HEADER_BYTES + i * bytes + offsets[f], n);
      return view as SlotView<S>;
    });
  }

  /** A new ring of `capacity` slots; `bell` is the consumer's doorbell (a new one when omitted). */
  static create<S extends LayoutSpec>(name: string, spec: S, capacity: number, bell?: Doorbell): SlotRing<S> {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring ${name}: capacity must be a positive integer, got ${capacity}`);
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity * slotBytes(spec).bytes);
    return new SlotRing({ name, spec, capacity, sab, bell: (bell ?? new Doorbell()).descriptor });
  }

  static attach<S extends LayoutSpec>(d: RingDescriptor<S>): SlotRing<S> {
    return new SlotRing(d);
  }

  get descriptor(): RingDescriptor<S> {
    return { name: this.name, spec: this.spec, capacity: this.capacity, sab: this.#sab, bell: this.bell.descriptor };
  }

  /** Published slots not yet released. */
  get size(): number {
    return (Atomics.load(this.#header, HEAD) - Atomics.load(this.#header, TAIL)) | 0;
  }

  get closed(): boolean {
    return Atomics.load(this.#header, CLOSED) !== 0;
  }

  // ---- producer side

  /**
   * The next free slot to fill in place, or null when the ring is full. Claimed slots stay invisible to the consumer
   * until publish(), which makes all of them visible at once (a round of observations arrives as one batch).
   */
  claim(): SlotView<S> | null {
    if (this.closed) throw new RingClosedError(`ring ${this.name} is closed`);
    if (this.size + this.#claimed >= this.capacity) return null;
    return this.#slots[(Atomics.load(this.#header, HEAD) + this.#claimed++) % this.capacity];
  }

  /** Makes every claimed slot visible to the consumer and rings its bell. */
  publish(): void {
    if (this.#claimed === 0) return;
    Atomics.add(this.#header, HEAD, this.#claimed);
    this.#claimed = 0;
    this.bell.ring();
  }

  /** Waits (without spinning) until a slot is free or timeoutMs passed. */
  async waitSpace(timeoutMs = 1000): Promise<void> {
    const tail = Atomics.load(this.#header, TAIL);
    if (this.size < this.capacity || this.closed) return;
    const w = Atomics.waitAsync(this.#header, TAIL, tail, timeoutMs);
    if (w.async) await w.value;
  }

  // ---- consumer side

  /** The oldest published slot, read in place, or null when empty. */
  peek(): SlotView<S> | null {
    if (this.size <= 0) return null;
    return this.#slots[Atomics.load(this.#header, TAIL) % this.capacity];
  }

  /** Frees the slot peek() returned; wakes a producer waiting for space. */
  release(): void {
    Atomics.add(this.#header, TAIL, 1);
    Atomics.notify(this.#header, TAIL);
  }

  /** No more claims; wakes everyone waiting so they can see it. */
  close(): void {
    Atomics.store(this.#header, CLOSED, 1);
    Atomics.notify(this.#header, TAIL);
    this.bell.ring();
  }
}
