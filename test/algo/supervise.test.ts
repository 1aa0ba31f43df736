// algo.supervise_steps through LearnerActor.update: with replanning, each window keeps only the actions its own chunk
// decided in the loss (the rest are masked like padding); without it, every action of the window up to the episode's
// end is supervised.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { LossBatch } from '../../src/model/native-types.ts';
import type { Episode } from '../../src/runtime/episode.ts';
import { ACTION_DIM, DEFAULT_SETTINGS, imageBytes, STATE_DIM } from '../../src/runtime/layouts.ts';
import { LearnerActor } from '../../src/runtime/learner-actor.ts';

const settings = { ...DEFAULT_SETTINGS, tasks: [], image: { width: 8, height: 8 }, policy: { ...DEFAULT_SETTINGS.policy, preset: 'tiny', threads: 1 } };

/** Valid (unpadded) actions of every window an update trains on, in window-start order. */
async function validPerWindow(supervise?: number): Promise<number[]> {
  const learner = new LearnerActor({ settings, learner: { lr: 1e-4, microBatch: 64, seed: 0, clipNorm: 1 }, board: null, languages: ['open the drawer'] });
  const { action_horizon: H, action_dim: A } = learner.policy.config;
  const rows: { valid: number; first: number }[] = [];
  learner.policy.trainStep = (batches: readonly LossBatch[], _adamw, onLoss) => {
    for (const b of batches) {
      for (let r = 0; r < b.batch; r++) {
        const pad = b.actionIsPad!.subarray(r * H, (r + 1) * H);
        rows.push({ valid: pad.indexOf(1) === -1 ? H : pad.indexOf(1), first: b.actions[r * H * A] });
      }
      onLoss?.({ loss: 0, lossCond: new Float32Array(b.batch), lossUncond: null });
    }
    return { loss: 0, losses: [], gradNorm: 0, step: 0 };
  };
  // 18 steps replanned every 4: frames at 0, 4, ..., 16; action t holds t / 100 in its first dim
  const length = 18;
  const frames = 5;
  const actions = new Float32Array(length * ACTION_DIM);
  for (let t = 0; t < length; t++) actions[t * ACTION_DIM] = t / 100;
  const episode: Episode = {
    episode: 0, task: 0, init: 0, seed: 0, success: true, length, chunks: frames, executeSteps: 4, frames, frameStride: 4, actor: 0,
    actions, valid: new Uint8Array(length).fill(1), states: new Float32Array(frames * STATE_DIM),
    images: new Uint8Array(frames * imageBytes(settings)), image: settings.image,
  };
  await learner.update([episode], { stride: 4, supervise, seed: 1 });
  // windows are shuffled: order them by their first action (= start / 100 before normalisation, monotone after)
  return rows.sort((a, b) => a.first - b.first).map((r) => r.valid);
}

test('supervise_steps: each window keeps its first k actions; unset, all of them up to the episode end', async () => {
  assert.equal(await validPerWindow(), [8, 8, 8, 6, 2], "tiny's horizon is 8");
  assert.equal(await validPerWindow(4), [4, 4, 4, 4, 2]);
});

test.run();
