// Fully masked attention rows (a missing camera, language padding) must stay finite: the mask value is the finite
// -2.3819763e38, so such a row softmaxes to uniform and no NaN reaches K/V of later layers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import { allFinite, lossBatch, preset, presetJson, sampleBatch } from './fixtures.ts';

const { Pi0Model } = native().pi0;

for (const path of ['fast', 'reference'] as const) {
  test(`masked camera and padded tokens keep loss, grads and samples finite (${path})`, () => {
    const cfg = preset('tiny');
    const m = new Pi0Model(presetJson('tiny'), 4, { path });
    const b = { ...lossBatch(cfg, 2, 1), uncondWeight: 1 };
    b.imageMask.set([1, 0, 0, 0]); // sample 1 has no camera at all
    b.tokenMask.fill(0, 2, cfg.max_token_len); // sample 0: 2 valid tokens, the rest padding
    b.tokenMask.fill(0, cfg.max_token_len, 2 * cfg.max_token_len); // sample 1: the whole prompt is padding
    m.zeroGrad();
    const r = m.loss(b);
    assert.ok(Number.isFinite(r.loss) && allFinite(r.lossCond) && allFinite(r.lossUncond!));
    assert.ok(allFinite(m.grads()));
    const s = sampleBatch(cfg, 2, 1);
    s.imageMask.set(b.imageMask);
    s.tokenMask.set(b.tokenMask);
    assert.ok(allFinite(m.sample({ ...s, cfgScale: 2 })));
  });
}

test('masked prefix tokens do not influence the prediction', () => {
  // a masked camera's pixels and padded token ids are invisible to every valid query
  const cfg = preset('tiny');
  const m = new Pi0Model(presetJson('tiny'), 4);
  const b = { ...lossBatch(cfg, 1, 2), backward: false };
  b.imageMask[1] = 0;
  b.tokenMask.fill(0, 3);
  const before = m.loss(b).loss;
  const S = cfg.image_size;
  b.images.fill(0.7, S * S * 3); // camera 1
  b.tokens.fill(5, 3);
  assert.is(m.loss(b).loss, before);
});

test.run();
