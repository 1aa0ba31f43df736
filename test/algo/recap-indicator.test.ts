// RECAP's indicator through LearnerActor.trainRows: a window whose advantage is not above epsilon (positive flag 0)
// is never trained conditional; indicator dropout trains about that share of the positive ones unconditional; and
// without flags (plain SFT) the cfg indices are exactly those of all-positive flags.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { LossBatch } from '../../src/model/native-types.ts';
import { DEFAULT_SETTINGS, imageBytes, STATE_DIM, ACTION_DIM } from '../../src/runtime/layouts.ts';
import { LearnerActor } from '../../src/runtime/learner-actor.ts';

const N = 2000; // windows
const H = 8; // tiny's action horizon
const settings = { ...DEFAULT_SETTINGS, tasks: [], image: { width: 8, height: 8 }, policy: { ...DEFAULT_SETTINGS.policy, preset: 'tiny', threads: 1 } };

/** The learner with its optimizer step replaced by a recorder of the cfg index (isPositive) each window trained on. */
function recordingLearner(): { learner: LearnerActor; seen: number[] } {
  const learner = new LearnerActor({ settings, learner: { lr: 1e-4, microBatch: 250, seed: 0, clipNorm: 1 }, board: null, languages: ['open the drawer'] });
  const seen: number[] = [];
  learner.policy.trainStep = (batches: readonly LossBatch[], _adamw, onLoss) => {
    for (const b of batches) {
      seen.push(...b.isPositive!);
      onLoss?.({ loss: 0, lossCond: new Float32Array(b.batch), lossUncond: null });
    }
    return { loss: 0, losses: [], gradNorm: 0, step: 0 };
  };
  return { learner, seen };
}

async function train(dropout: number, positive?: Uint8Array): Promise<number[]> {
  const { learner, seen } = recordingLearner();
  const batch = {
    size: N,
    horizon: H,
    task: new Int32Array(N),
    state: new Float32Array(N * STATE_DIM),
    images: new Uint8Array(N * imageBytes(settings)),
    actions: new Float32Array(N * H * ACTION_DIM),
    actionIsPad: new Uint8Array(N * H),
    positive,
  };
  await learner.trainRows(batch, { indicatorDropout: dropout, seed: 42 });
  assert.is(seen.length, N);
  return seen;
}

const alternate = Uint8Array.from({ length: N }, (_, i) => i % 3 === 0 ? 1 : 0);

test('indicator: non-positive windows are never conditional; positive ones are, but for the dropout share', async () => {
  for (const dropout of [0, 0.3]) {
    const seen = await train(dropout, alternate);
    const pos = seen.filter((_, i) => alternate[i]);
    assert.ok(seen.every((c, i) => alternate[i] || c === 0), 'a non-positive window trained conditional');
    const share = pos.reduce((a, b) => a + b, 0) / pos.length;
    // ~667 positive windows: the binomial's std is about 0.018 at p = 0.7.
    assert.ok(Math.abs(share - (1 - dropout)) < 0.06, `dropout ${dropout}: ${share.toFixed(3)} of positive windows conditional`);
  }
});

test('indicator: no flags (SFT) trains exactly as all-positive flags', async () => {
  const none = await train(0.3);
  assert.equal(none, await train(0.3, new Uint8Array(N).fill(1)));
  assert.ok(Math.abs(none.reduce((a, b) => a + b, 0) / N - 0.7) < 0.04);
  assert.ok((await train(0)).every((c) => c === 1), 'no dropout: every window conditional');
});

test.run();
