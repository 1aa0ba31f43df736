// The bowl-and-plate scene end to end: LIBERO's On(bowl, plate) rule, the scripted expert, and determinism.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { BowlPlateEpisodes } from '../../src/tasks/bowl-plate-episodes.ts';
import { BOWL, samplePlacement, TABLE_TOP_Z } from '../../src/tasks/bowl-plate.ts';

const runner = BowlPlateEpisodes.create({ numEnvs: 4 });
const idle = new Float32Array(4 * 7).map((_, i) => (i % 7 === 6 ? -1 : 0));

/** Env 0 starts with the bowl at (dx, dy, z) relative to the plate's centre; then settles. */
function bowlRelativeToPlate(dx: number, dy: number, z: number, settleSteps: number): void {
  const state = runner.initState(0);
  const p = samplePlacement(0).plate;
  const bowlAdr = 1 + runner.env.jointQposAddress(`${BOWL}_joint`);
  state.set([p[0] + dx, p[1] + dy, z, 1, 0, 0, 0], bowlAdr);
  runner.env.reset(0, state);
  const active = Uint8Array.of(1, 0, 0, 0);
  for (let i = 0; i < settleSteps; i++) runner.env.step(idle, active);
}

test('On(bowl, plate) holds for a bowl resting centred on the plate', () => {
  bowlRelativeToPlate(0.01, -0.01, TABLE_TOP_Z + 0.03, 20);
  assert.ok(runner.bowlOnPlate(0));
});

test('On(bowl, plate) is false without contact (bowl held in the air above the plate)', () => {
  bowlRelativeToPlate(0, 0, TABLE_TOP_Z + 0.3, 0);
  assert.not.ok(runner.bowlOnPlate(0));
});

test('On(bowl, plate) is false when the bowl rests more than 3 cm off centre', () => {
  bowlRelativeToPlate(0.05, 0, TABLE_TOP_Z + 0.03, 20);
  assert.not.ok(runner.bowlOnPlate(0));
});

test('On(bowl, plate) is false at the start of an episode (objects apart)', () => {
  runner.start([0, 1, 2, 3]);
  for (let k = 0; k < 4; k++) assert.not.ok(runner.bowlOnPlate(k), `env ${k}`);
});

test('the scripted expert puts the bowl on the plate from seeded placements', () => {
  const results = runner.runExpert([0, 1, 2, 3]);
  for (const r of results) assert.ok(r.success, `seed ${r.seed} failed`);
});

test('same seed, same episode: identical success, length and final state', () => {
  const a = runner.runExpert([5, 5]);
  const sa = [runner.env.getState(0), runner.env.getState(1)];
  const b = runner.runExpert([5]);
  const sb = runner.env.getState(0);
  assert.equal(a[0], a[1]);
  assert.equal({ ...a[0] }, { ...b[0] });
  assert.equal(Array.from(sa[0]), Array.from(sa[1]));
  assert.equal(Array.from(sa[0]), Array.from(sb));
});

test('placements are seeded and keep the objects apart', () => {
  assert.equal(samplePlacement(3), samplePlacement(3));
  for (let s = 0; s < 50; s++) {
    const { bowl, plate } = samplePlacement(s);
    assert.ok(Math.hypot(bowl[0] - plate[0], bowl[1] - plate[1]) > 0.2);
  }
});

test.after(() => runner.close());

test.run();
