// The data plane: slot rings hand typed slots from a producer to a consumer in order, in place, across threads,
// refuse to overfill, and wake a waiting consumer; the weights board never lets a reader see a half-written version.
import { Worker } from 'node:worker_threads';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Doorbell, RingClosedError, SlotRing, slotBytes } from '../../src/runtime/slot-ring.ts';
import { WeightsBoard } from '../../src/runtime/weights-board.ts';

const SPEC = { meta: ['i32', 3], data: ['f32', 5], bytes: ['u8', 7] } as const;

test('slot fields are 8-byte aligned views of one slot', () => {
  const { offsets, bytes } = slotBytes(SPEC);
  assert.equal(offsets, { meta: 0, data: 16, bytes: 40 });
  assert.is(bytes, 48);
});

test('a ring delivers slots in order through many wrap-arounds and refuses a claim when full', () => {
  const ring = SlotRing.create('t', SPEC, 3);
  let sent = 0;
  let got = 0;
  for (let round = 0; round < 50; round++) {
    for (let s = ring.claim(); s; s = ring.claim()) {
      s.meta[0] = sent;
      s.data.fill(sent * 0.5);
      ring.publish();
      sent++;
    }
    assert.is(ring.size, 3, 'full after claims return null');
    const n = 1 + (round % 3);
    for (let i = 0; i < n; i++) {
      const m = ring.peek()!;
      assert.is(m.meta[0], got);
      assert.is(m.data[4], got * 0.5);
      ring.release();
      got++;
    }
  }
  assert.ok(got > 60);
});

test('a closed ring refuses claims', () => {
  const ring = SlotRing.create('t', SPEC, 2);
  ring.close();
  assert.ok(ring.closed);
  assert.throws(() => ring.claim(), (e: unknown) => e instanceof RingClosedError);
});

test('a worker producer fills slots in place and its bell wakes the waiting consumer', async () => {
  const bell = new Doorbell();
  const ring = SlotRing.create('x', SPEC, 4, bell);
  const N = 200;
  const src = `
    const { workerData } = require('node:worker_threads');
    const { sab, capacity, bell } = workerData;
    const h = new Int32Array(sab, 0, 3), b = new Int32Array(bell.sab);
    const slotBytes = 48;
    for (let i = 0; i < ${N}; i++) {
      while (h[0] - Atomics.load(h, 1) >= capacity) Atomics.wait(h, 1, Atomics.load(h, 1), 50);
      const at = 64 + (h[0] % capacity) * slotBytes;
      new Int32Array(sab, at, 3)[0] = i;
      new Float32Array(sab, at + 16, 5)[2] = i * 2;
      Atomics.add(h, 0, 1);
      Atomics.add(b, 0, 1); Atomics.notify(b, 0);
    }`;
  const w = new Worker(src, { eval: true, workerData: { sab: ring.descriptor.sab, capacity: 4, bell: bell.descriptor } });
  let next = 0;
  while (next < N) {
    const seen = bell.read();
    for (let m = ring.peek(); m; m = ring.peek()) {
      assert.is(m.meta[0], next);
      assert.is(m.data[2], next * 2);
      ring.release();
      next++;
    }
    if (next < N) await bell.wait(seen, 1000);
  }
  await w.terminate();
});

test('weights board: a reader gets each published version whole, and only when it is newer', async () => {
  const board = WeightsBoard.create(1000);
  const out = new Float32Array(1000);
  assert.is(board.readInto(out, 0), null, 'nothing published yet');
  for (let v = 1; v <= 5; v++) {
    assert.is(await board.publish(new Float32Array(1000).fill(v)), v);
    assert.is(board.readInto(out, v - 1), v);
    assert.ok(out.every((x) => x === v));
    assert.is(board.readInto(out, v), null);
  }
});

test.run();
