// The checkpoint `npm start` and configs/recap.yaml start from: it loads as the small preset with the norm stats of
// its demos (8-dim state, 7-dim actions) and no optimizer state, and its model card is there.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Pi0Policy } from '../../src/model/pi0.ts';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../checkpoints/quickstart-sft');

test('checkpoints/quickstart-sft: small preset, demo norm stats, weights only, model card', () => {
  const { policy, checkpoint } = Pi0Policy.fromCheckpoint(DIR, { threads: 1 });
  assert.is(policy.config.name, 'small');
  assert.is(checkpoint.step, null);
  const stats = policy.normStats;
  assert.ok(stats, 'norm stats loaded');
  assert.is(stats!.state.mean.length, 8);
  assert.is(stats!.actions.mean.length, 7);
  assert.ok(stats!.actions.std.every((s) => s > 0 && s <= 1), 'action std within the [-1, 1] action range');
  assert.ok(policy.params().every(Number.isFinite), 'finite weights');
  assert.ok(existsSync(path.join(DIR, 'MODEL_CARD.md')));
});

test.run();
