// `riptide recap run` with the tiny model: stopped after every sub-stage in turn and resumed, each invocation runs
// exactly the next sub-stage, the state lists every sub-stage once in order, an unfinished stage folder is cleared,
// and the evaluations (SFT start and round 1, at cfg_scale 1 and 2) land in metrics.json and the report.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readAdvantageIndex } from '../../src/algo/recap/advantage.ts';
import { readRecapState, recapStages, runRecap } from '../../src/algo/recap/loop.ts';
import { expertDemo, tempDir, tinyContext, tinyPolicy } from './recap-fixtures.ts';

const dir = tempDir('loop');
const demo = await expertDemo(dir);
const sft = tinyPolicy(dir);
const run = path.join(dir, 'run');
const context = () => tinyContext(dir, demo, sft);

test('loop: stop after each sub-stage, resume runs only the next one; the state holds every stage once', async () => {
  const stages = recapStages(1);
  assert.equal(stages, ['value_pretrain', 'round_0/eval', 'round_1/collect', 'round_1/value', 'round_1/advantage', 'round_1/policy', 'round_1/eval']);
  for (const [i, stop] of stages.entries()) {
    if (stop === 'round_1/value') {
      // A crash inside this stage left its folder behind: the resume clears it before running the stage.
      mkdirSync(path.join(run, 'round_1', 'value'), { recursive: true });
      writeFileSync(path.join(run, 'round_1', 'value', 'partial'), '');
    }
    const ctx = context();
    const state = await runRecap(ctx, { resume: i > 0, stopAfter: stop });
    const ran = ctx.lines.filter((l) => l.startsWith('== ')).map((l) => l.slice(3));
    assert.equal(ran, [stop], `invocation ${i} ran ${ran.join(', ')}`);
    assert.equal(state.stages.map((s) => s.stage), stages.slice(0, i + 1));
    if (stop === 'round_1/value') assert.ok(ctx.lines.some((l) => l.includes('removing') && l.includes('left unfinished')));
  }
  assert.not.ok(existsSync(path.join(run, 'round_1', 'value', 'partial')));
  const ctx = context();
  await runRecap(ctx, { resume: true });
  assert.not.ok(ctx.lines.some((l) => l.startsWith('== ')), 'a finished run has nothing left to do');
  assert.equal(readRecapState(run).stages.map((s) => s.stage), stages);
});

test('loop: outputs of each stage; evaluations per round and cfg scale in metrics.json and the report', () => {
  const state = readRecapState(run);
  const result = (s: string) => state.stages.find((x) => x.stage === s)!.result as Record<string, unknown>;
  assert.equal(result('round_1/collect').episodes, 2);
  assert.ok(existsSync(String(result('round_1/value').checkpoint)));
  assert.ok(String(result('round_1/policy').checkpoint).startsWith(path.join(run, 'round_1', 'policy', 'checkpoints')));
  const index = readAdvantageIndex(path.join(run, 'round_1', 'advantages'));
  assert.equal(index.datasets.length, 2, 'the demos and the round-1 rollouts');
  assert.is(index.value_checkpoint, result('round_1/value').checkpoint);
  const m = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
  assert.equal(m.eval.map((e: { step: number; cfg_scale: number }) => [e.step, e.cfg_scale]), [[0, 1], [0, 2], [1, 1], [1, 2]]);
  for (const f of ['recap.html', 'recap_success.png']) assert.ok(existsSync(path.join(run, f)), f);
});

test('loop: a fresh run refuses a non-empty output_dir; --stop-after must name a stage', async () => {
  await runRecap(context()).then(
    () => assert.unreachable('a fresh run must not reuse a folder'),
    (e: Error) => assert.match(e.message, /run is not empty; set output_dir to a new folder, or pass --resume/),
  );
  await runRecap(context(), { resume: true, stopAfter: 'round_2/collect' }).then(
    () => assert.unreachable('unknown stage'),
    (e: Error) => assert.match(e.message, /--stop-after round_2\/collect: not a sub-stage of a 1-round run; use one of value_pretrain, round_0\/eval/),
  );
});

test.run();
