// Finite-difference gradient checks in double (reference path) for every layer type and for the whole model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { pi0SelfTest, presetJson } from './fixtures.ts';

const selfTest = pi0SelfTest();

// Central differences with h = 1e-5 in double leave ~1e-9 relative error on smooth layers; 1e-5 catches any
// wrong term while tolerating difference noise.
const TOL = 1e-5;

const layers = [
  'linear', 'layernorm', 'rmsnorm', 'gelu_mlp', 'geglu', 'embedding', 'rope', 'vit_attention',
  'masked_mqa_attention', 'patch_embed', 'vit_block', 'joint_attention', 'prefix_stack', 'time_fusion', 'model',
];

test('every layer type has a gradient check', () => {
  assert.equal([...selfTest.gradCheckNames].sort(), [...layers].sort());
});

for (const name of layers) {
  test(`gradient check: ${name}`, () => {
    for (const seed of [1, 2]) {
      const err = selfTest.gradCheck(name, seed);
      assert.ok(err < TOL, `${name} seed ${seed}: max relative error ${err} >= ${TOL}`);
    }
  });
}

test('gradient check: the whole tiny preset (CFG branches, masks, weights)', () => {
  const err = selfTest.gradCheck('model', 7, presetJson('tiny'));
  assert.ok(err < TOL, `tiny model: max relative error ${err}`);
});

test('an unknown layer name throws', () => {
  assert.throws(() => selfTest.gradCheck('nope', 1), /unknown layer 'nope'/);
});

test.run();
