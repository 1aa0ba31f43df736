// RECAP's value targets (returns and bins), n-step advantages on hand-made episodes, and the percentile threshold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { checkReturnSpec, episodeAdvantages, episodeReturns, percentile, percentileTable } from '../../src/algo/recap/returns.ts';
import { returnToBin as returnBin, valueBinCentre as binValue } from '../../src/model/value.ts';

const spec = { cNeg: -1000, normalizer: 1600, bins: 201 };
const near = (a: number, b: number) => Math.abs(a - b) < 1e-12;

test('returns: -1 per step to the end, 0 on the last frame of a success, c_neg more on a failure', () => {
  const ok = episodeReturns(4, true, spec);
  assert.equal(Array.from(ok, (r) => r * 1600), [-3, -2, -1, 0]);
  const bad = episodeReturns(3, false, spec);
  assert.equal(Array.from(bad, (r) => Math.round(r * 1600)), [-1002, -1001, -1000]);
});

test('bins: every target of a 600-step episode lands inside the 201 bins; bin k is worth -1 + k/200', () => {
  for (const success of [true, false]) {
    for (const r of episodeReturns(600, success, spec)) {
      assert.ok(r >= -1 && r <= 0, `${r}`);
      const k = returnBin(r, 201);
      assert.ok(Number.isInteger(k) && k >= 0 && k <= 200);
      assert.ok(Math.abs(binValue(k, 201) - r) <= 0.5 / 200 + 1e-12, 'a bin is within half a bin width of its target');
    }
  }
  assert.is(returnBin(0, 201), 200);
  assert.is(returnBin(-1, 201), 0);
  assert.is(returnBin(-0.5, 201), 100);
  // Successes and failures fall in separate ranges of bins.
  assert.ok(returnBin(episodeReturns(300, true, spec)[0], 201) > returnBin(episodeReturns(300, false, spec).at(-1)!, 201));
});

test('return spec: a normalizer that pushes failures below -1 is refused with the value to use', () => {
  checkReturnSpec(spec, 600, 'recap.yaml');
  assert.throws(() => checkReturnSpec({ ...spec, normalizer: 400 }, 300, 'recap.yaml'), /recap.yaml: normalizer 400 .* at least 1299/);
  assert.throws(() => checkReturnSpec({ ...spec, cNeg: 5 }, 300, 'x'), /c_neg/);
  assert.throws(() => checkReturnSpec({ ...spec, bins: 1 }, 300, 'x'), /bins/);
});

test('advantages: zero everywhere under the true value of a success; n-step sums, bootstrap and penalty by hand', () => {
  const T = 7;
  const N = 3;
  // With V equal to the true return, every advantage of a success is 0.
  const exact = episodeAdvantages(episodeReturns(T, true, spec), true, N, spec);
  assert.ok(exact.every((a) => near(a, 0)), exact.join(' '));
  // A hand-made failure, normalizer 10, c_neg -5, V = -0.1 t: A_t = max(t - 6, -3)/10 + V(t+3) [0 past the end] - V(t),
  // with -5/10 when the end is inside the look-ahead (t + 3 >= 7).
  const s = { cNeg: -5, normalizer: 10, bins: 11 };
  const V = [0, -0.1, -0.2, -0.3, -0.4, -0.5, -0.6];
  const a = episodeAdvantages(V, false, N, s);
  const want = [
    -0.3 + -0.3 - 0, // t0: three rewards, V(3)
    -0.3 + -0.4 + 0.1, // t1: V(4)
    -0.3 + -0.5 + 0.2, // t2: V(5)
    -0.3 + -0.6 + 0.3, // t3: V(6), the end (t=6) is not inside t+3 = 6 < 7
    -0.2 - 0.5 + 0 + 0.4, // t4: two rewards to the end, penalty, V past end = 0
    -0.1 - 0.5 + 0.5, // t5
    0 - 0.5 + 0.6, // t6: the last frame
  ];
  assert.ok(a.every((x, i) => near(x, want[i])), `${Array.from(a).join(' ')} vs ${want.join(' ')}`);
  // The same episode as a success has no penalty.
  const b = episodeAdvantages(V, true, N, s);
  assert.ok(near(b[4], -0.2 + 0.4) && near(b[3], want[3]));
});

test('percentiles: numpy-style interpolation; the 70th leaves about 30% of values above it', () => {
  const sorted = Float64Array.from([1, 2, 3, 4]);
  assert.is(percentile(sorted, 0), 1);
  assert.is(percentile(sorted, 100), 4);
  assert.ok(near(percentile(sorted, 50), 2.5));
  const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
  const table = percentileTable(values);
  assert.is(table.length, 21);
  assert.equal(table.map((r) => r.p), Array.from({ length: 21 }, (_, i) => 5 * i));
  assert.ok(table.every((r, i) => i === 0 || r.value >= table[i - 1].value), 'non-decreasing');
  const eps = table[14].value;
  const positive = values.filter((v) => v > eps).length / values.length;
  assert.ok(Math.abs(positive - 0.3) < 0.005, `${positive}`);
});

test.run();
