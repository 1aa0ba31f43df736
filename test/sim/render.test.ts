// Offscreen rendering: RGB HWC images of the asked size, raw OpenGL row order (robosuite) or rotated 180 degrees.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { VecEnv } from '../../src/sim/vec-env.ts';
import { tabletopScene } from '../../src/sim/mjcf/scene.ts';

const W = 96;
const H = 80; // not square, so a transposed or mis-strided image cannot pass

function distinctColours(img: Uint8Array): number {
  const seen = new Set<number>();
  for (let i = 0; i < img.length; i += 3) seen.add((img[i] << 16) | (img[i + 1] << 8) | img[i + 2]);
  return seen.size;
}

// The table is brown (rgba 0.55 0.36 0.2): red clearly above blue.
function tableFraction(img: Uint8Array, row0: number, row1: number): number {
  let n = 0;
  for (let y = row0; y < row1; y++) {
    for (let x = 0; x < W; x++) {
      const i = 3 * (y * W + x);
      if (img[i] > img[i + 2] + 40 && img[i] > img[i + 1] + 15) n++;
    }
  }
  return n / ((row1 - row0) * W);
}

const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 2, render: { width: W, height: H } });

test('renders non-trivial agentview and eye-in-hand images of the requested size', () => {
  for (const cam of ['agentview', 'robot0_eye_in_hand']) {
    const img = new Uint8Array(W * H * 3);
    env.render(0, cam, img);
    assert.ok(distinctColours(img) >= 5, `${cam}: only ${distinctColours(img)} colours`);
  }
  assert.throws(() => env.render(0, 'agentview', new Uint8Array(W * W * 3)), /expected 23040 elements/);
  assert.equal(env.renderSize(), { width: W, height: H });
});

test('flip180 is the raw image rotated by 180 degrees, pixel for pixel', () => {
  const raw = new Uint8Array(W * H * 3);
  const flipped = new Uint8Array(W * H * 3);
  env.render(1, 'agentview', raw);
  env.render(1, 'agentview', flipped, { flip180: true });
  const n = W * H;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      if (flipped[3 * i + c] !== raw[3 * (n - 1 - i) + c]) assert.unreachable(`pixel ${i} channel ${c} differs`);
    }
  }
});

test('raw agentview is in OpenGL row order: the table (bottom of the view) fills the first rows', () => {
  const raw = new Uint8Array(W * H * 3);
  env.render(0, 'agentview', raw);
  const first = tableFraction(raw, 0, H / 4);
  const last = tableFraction(raw, (3 * H) / 4, H);
  assert.ok(first > 0.9, `table fraction in the first rows ${first}`);
  assert.ok(last < 0.5, `table fraction in the last rows ${last}`);
});

test('rendering follows the sim state of the chosen env', () => {
  const before = new Uint8Array(W * H * 3);
  const after = new Uint8Array(W * H * 3);
  env.render(0, 'agentview', before);
  const a = new Float32Array(14);
  a.set([0, 0.8, -1, 0, 0, 0, 1], 0);
  for (let t = 0; t < 8; t++) env.step(a, new Uint8Array([1, 0]));
  env.render(0, 'agentview', after);
  let diff = 0;
  for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) diff++;
  assert.ok(diff > 100, `moving the arm changed only ${diff} bytes`);
  const other = new Uint8Array(W * H * 3);
  env.render(1, 'agentview', other);
  assert.equal(Array.from(other), Array.from(before));
});

test('unknown cameras and missing render contexts give clear errors', () => {
  assert.throws(() => env.render(0, 'frontview', new Uint8Array(W * H * 3)), /no camera named 'frontview'.*agentview/);
  const noGl = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  assert.throws(() => noGl.render(0, 'agentview', new Uint8Array(3)), /render context/);
  noGl.close();
});

test.after(() => env.close());
test.run();
