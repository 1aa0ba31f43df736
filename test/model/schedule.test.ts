// warmupCosine = optax.warmup_cosine_decay_schedule as openpi configures it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { warmupCosine } from '../../src/model/schedule.ts';

const o = { warmup: 1000, total: 30000, peak: 2.5e-5, floor: 2.5e-6 };
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-15;

test('openpi values: peak/(warmup+1) at 0, peak at warmup, mid-decay average, floor at and after total', () => {
  assert.ok(close(warmupCosine(0, o), 2.5e-5 / 1001));
  assert.ok(close(warmupCosine(500, o), 2.5e-5 / 1001 + (2.5e-5 - 2.5e-5 / 1001) * 0.5));
  assert.ok(close(warmupCosine(1000, o), 2.5e-5));
  assert.ok(close(warmupCosine(15500, o), (2.5e-5 + 2.5e-6) / 2));
  assert.ok(close(warmupCosine(30000, o), 2.5e-6));
  assert.ok(close(warmupCosine(40000, o), 2.5e-6));
  // a quarter of the way into the decay: floor + (peak - floor) * (1 + cos(pi/4)) / 2
  assert.ok(close(warmupCosine(1000 + 7250, o), 2.5e-6 + 2.25e-5 * 0.5 * (1 + Math.SQRT1_2)));
});

test('monotone up during warmup and down after', () => {
  for (let s = 1; s < 1000; s += 37) assert.ok(warmupCosine(s, o) > warmupCosine(s - 1, o));
  for (let s = 1001; s < 30000; s += 997) assert.ok(warmupCosine(s, o) < warmupCosine(s - 1, o));
});

test('no warmup starts at peak; bad options name the fix', () => {
  assert.is(warmupCosine(0, { ...o, warmup: 0 }), 2.5e-5);
  assert.throws(() => warmupCosine(0, { ...o, total: 10 }), /warmup <= total/);
});

test.run();
