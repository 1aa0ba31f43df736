// Image preprocessing: [-1, 1] mapping, resize-with-pad geometry and pad value, 180° rotation, writing into a slice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ImageResizer, preprocessImage, resizeWithPadPlan } from '../../src/model/image.ts';

const v = (u8: number) => Math.fround((u8 / 255) * 2 - 1);

/** A 1-channel view of an HWC float image, for readable asserts. */
function channel(out: Float32Array, size: number, c: number, offset = 0): number[][] {
  return Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => out[offset + (y * size + x) * 3 + c]));
}

test('same size: exact [-1, 1] mapping, no padding', () => {
  const src = new Uint8Array([0, 255, 128, 10, 20, 30, 40, 50, 60, 70, 80, 90]); // 2x2x3
  const out = new Float32Array(12);
  preprocessImage(src, 2, 2, 2, out);
  assert.equal(Array.from(out), Array.from(src, v));
});

test('wide input: resized rows keep the data, pad rows are -1 (floor half on top)', () => {
  // 2x4 -> S = 4: scale = max(4/4, 2/4) = 1 -> resized 2x4, pad 1 row on top and 1 at the bottom.
  assert.equal(resizeWithPadPlan(2, 4, 4), { scale: 1, resizedH: 2, resizedW: 4, padTop: 1, padLeft: 0 });
  const src = new Uint8Array(2 * 4 * 3).map((_, i) => i * 10);
  const out = new Float32Array(4 * 4 * 3);
  preprocessImage(src, 2, 4, 4, out);
  const r = channel(out, 4, 0);
  assert.equal(r[0], [-1, -1, -1, -1]);
  assert.equal(r[3], [-1, -1, -1, -1]);
  assert.equal(r[1], [0, 30, 60, 90].map(v));
  assert.equal(r[2], [120, 150, 180, 210].map(v));
});

test('downscale with odd padding: 3x4 -> 2x2 is bilinear 1x2 on top, one pad row below', () => {
  // scale = max(4/2, 3/2) = 2 -> resized (int(1.5), int(2)) = (1, 2); pad_top = floor(1/2) = 0, pad_bottom = 1.
  assert.equal(resizeWithPadPlan(3, 4, 2), { scale: 2, resizedH: 1, resizedW: 2, padTop: 0, padLeft: 0 });
  const gray = [
    [0, 10, 20, 30],
    [40, 50, 60, 70],
    [80, 90, 100, 110],
  ];
  const src = new Uint8Array(gray.flat().flatMap((g) => [g, g, g]));
  const out = new Float32Array(2 * 2 * 3);
  preprocessImage(src, 3, 4, 2, out);
  // Half-pixel centres: output row 0 samples source row 1.0 exactly; columns 0.5 and 2.5.
  assert.equal(channel(out, 2, 1), [[v(45), v(65)], [-1, -1]]);
});

test('tall input pads columns left/right with the floor half on the left', () => {
  assert.equal(resizeWithPadPlan(8, 3, 8), { scale: 1, resizedH: 8, resizedW: 3, padTop: 0, padLeft: 2 });
  const out = new Float32Array(8 * 8 * 3);
  preprocessImage(new Uint8Array(8 * 3 * 3).fill(255), 8, 3, 8, out);
  for (const row of channel(out, 8, 2)) assert.equal(row, [-1, -1, 1, 1, 1, -1, -1, -1]);
});

test('rotate180 turns a raw OpenGL frame upright-rotated (img[::-1, ::-1]) and writes into a batch slice', () => {
  const px = [
    [1, 2, 3],
    [4, 5, 6],
  ]; // 2x3, one value per pixel in all channels
  const src = new Uint8Array(px.flat().flatMap((g) => [g, g, g]));
  const out = new Float32Array(5 + 3 * 3 * 3).fill(7);
  const r = new ImageResizer(2, 3, 3, { rotate180: true });
  r.run(src, out, 5);
  assert.equal(Array.from(out.subarray(0, 5)), [7, 7, 7, 7, 7]); // nothing written before the slice
  // 2x3 -> S = 3: pad one row (top 0, bottom 1); rotated rows are [6 5 4], [3 2 1].
  assert.equal(channel(out, 3, 0, 5), [[6, 5, 4].map(v), [3, 2, 1].map(v), [-1, -1, -1]]);
});

test('size checks name the sizes', () => {
  const r = new ImageResizer(2, 2, 2);
  assert.throws(() => r.run(new Uint8Array(11), new Float32Array(12)), /12/);
  assert.throws(() => r.run(new Uint8Array(12), new Float32Array(12), 1), /outside/);
});

test.run();
