// RECAP's advantage files: V and A for every frame of every dataset, keyed by demo key, written next to an index
// with epsilon and the percentiles; read back as positive flags (A > epsilon) for the policy fine-tune, refusing a
// dataset the files do not cover; a value head that outputs a constant is warned about.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { computeAdvantages, positiveFlags, readAdvantageIndex, type AdvantageFile } from '../../src/algo/recap/advantage.ts';
import { episodeAdvantages, percentile } from '../../src/algo/recap/returns.ts';
import { VALUE_STATE_FORMAT } from '../../src/algo/recap/value.ts';
import { returnSpec } from '../../src/config/recap-config.ts';
import { DemoDataset } from '../../src/data/dataset.ts';
import { ValueModel } from '../../src/model/value.ts';
import { Rng } from '../../src/rng.ts';
import { expertDemo, mixedRollouts, tempDir, tinyContext } from './recap-fixtures.ts';

const dir = tempDir('advantage');
const demo = await expertDemo(dir);
const mixed = await mixedRollouts(dir, demo);
const ctx = tinyContext(dir, demo, null, ['advantage.look_ahead=10', 'advantage.batch_size=16']);
// A fresh value model's zero-initialised head gives the same V on every frame; noise on every weight makes V vary.
const fresh = ValueModel.create({ preset: 'tiny', seed: 0 });
fresh.save(path.join(dir, 'collapsed'));
const rng = new Rng(3);
const p = fresh.params();
for (let i = 0; i < p.length; i++) p[i] += 0.3 * rng.normal();
fresh.save(path.join(dir, 'value'));
const out = path.join(dir, 'advantages');
const index = await computeAdvantages(ctx, { value: path.join(dir, 'value'), data: [demo, path.dirname(mixed)], out });

test('advantages: one file per dataset, keyed by demo key, with V and A per usable frame and their provenance', async () => {
  assert.equal(index.datasets.map((d) => d.dataset), [demo, mixed]);
  assert.equal(index.spec, { c_neg: -1000, normalizer: 1600, bins: 201, look_ahead: 10 });
  const files = index.datasets.map((d) => JSON.parse(readFileSync(path.join(out, d.file), 'utf8')) as AdvantageFile);
  assert.equal(files.map((f) => Object.keys(f.demos)), [['demo_0'], ['demo_0', 'demo_1']]);
  assert.equal(files[1].demos.demo_1.success, false);
  const data = await DemoDataset.open([demo, mixed], { horizon: 1 });
  try {
    const all: number[] = [];
    data.demos.forEach((d, i) => {
      const e = [files[0].demos.demo_0, files[1].demos.demo_0, files[1].demos.demo_1][i];
      assert.is(e.values.length, d.steps);
      assert.equal(e.advantages, Array.from(episodeAdvantages(e.values, d.success, 10, returnSpec(ctx.config))));
      all.push(...e.advantages);
    });
    assert.is(index.frames, all.length);
    assert.is(index.threshold, percentile(Float64Array.from(all).sort(), 70));
    assert.equal(index.percentiles.map((r) => r.p), Array.from({ length: 21 }, (_, i) => 5 * i));
    // The round trip: flags are A > epsilon, about 30% of the frames.
    const flags = positiveFlags(out, readAdvantageIndex(out), data);
    assert.equal(flags.map((f) => Array.from(f)), data.demos.map((_, i) => [files[0].demos.demo_0, files[1].demos.demo_0, files[1].demos.demo_1][i].advantages.map((a) => (a > index.threshold ? 1 : 0))));
    const share = flags.reduce((n, f) => n + f.reduce((a, b) => a + b, 0), 0) / all.length;
    assert.ok(Math.abs(share - 0.3) < 0.02 && share === index.positive_share, `${share}`);
  } finally {
    data.close();
  }
});

test('advantages: the log prints the percentiles and epsilon, and warns about a V that does not vary', async () => {
  const log = ctx.lines.join('\n');
  assert.match(log, /percentile\s+0\s+5\s+10 .* 95\s+100/);
  assert.match(log, /epsilon = -?\d\.\d{4} \(the 70th percentile\)/);
  assert.ok(index.value_std > 0.005 && !log.includes('warning'), `V std ${index.value_std}`);
  const flat = await computeAdvantages(ctx, { value: path.join(dir, 'collapsed'), data: [demo], out: path.join(dir, 'flat') });
  assert.ok(flat.value_std < 1e-3, `${flat.value_std}`);
  assert.match(ctx.lines.at(-1)!, /warning: V barely varies .* advantage.min_value_std 0.005/);
});

test('advantages: a dataset without advantages, or changed since, is refused naming the file', async () => {
  const data = await DemoDataset.open([demo, mixed], { horizon: 1 });
  try {
    const only = { ...index, datasets: index.datasets.slice(1) };
    assert.throws(() => positiveFlags(out, only, data), new RegExp(`advantages.json: has no advantages for ${demo}`));
    const file = path.join(out, index.datasets[1].file);
    const f = JSON.parse(readFileSync(file, 'utf8')) as AdvantageFile;
    f.demos.demo_1.advantages.pop();
    writeFileSync(file, JSON.stringify(f));
    assert.throws(() => positiveFlags(out, index, data), /data\/demo_1 has 19 advantages but 20 usable steps .* the dataset changed since/);
  } finally {
    data.close();
  }
});

test('advantages: a value checkpoint trained in other return units is refused naming the keys to set', async () => {
  const other = path.join(dir, 'other-units');
  fresh.save(other, { trainerState: { format: VALUE_STATE_FORMAT, spec: { cNeg: -1000, normalizer: 3200, bins: 201 } } });
  await computeAdvantages(ctx, { value: other, data: [demo], out: path.join(dir, 'never') }).then(
    () => assert.unreachable('V and the rewards would be in different units'),
    (e: Error) => assert.match(e.message, /recap.yaml: value.c_neg -1000 and value.normalizer 1600 differ .* \(-1000, 3200\).* set value.c_neg=-1000 value.normalizer=3200/),
  );
});

test.run();
