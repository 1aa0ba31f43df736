// The recap config: configs/recap.yaml validates, `riptide recap --help` lists every key, and bad values fail naming
// the key (schema errors, and the checks that need the tasks and the model: the return spec, execute_steps).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ConfigError } from '../../src/config/load.ts';
import { checkRecapConfig, loadRecapConfig, recapConfigHelp } from '../../src/config/recap-config.ts';

const CONFIGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs');

function fails(overrides: string[], ...needles: string[]): void {
  try {
    loadRecapConfig(undefined, overrides);
  } catch (e) {
    assert.instance(e, ConfigError);
    for (const n of needles) assert.ok((e as Error).message.includes(n), `expected ${JSON.stringify(n)} in:\n${(e as Error).message}`);
    return;
  }
  assert.unreachable(`expected a ConfigError for ${overrides.join(' ')}`);
}

test('configs/recap.yaml: the quickstart tasks from the SFT checkpoint, replanning every 10 steps', () => {
  const c = loadRecapConfig(path.join(CONFIGS, 'recap.yaml'));
  assert.equal(c.tasks, ['libero_goal/0', 'libero_goal/7', 'libero_goal/1']);
  assert.is(c.policy.checkpoint, 'checkpoints/quickstart-sft');
  assert.equal(c.data.demos, ['demos/quickstart']);
  assert.is(c.rollout.execute_steps, 10);
  assert.equal(c.eval.cfg_scales, [1, 2]);
  assert.is(c.finetune.indicator_dropout, 0.3);
  assert.is(c.value.normalizer, 1600);
});

test('help: every key with its default', () => {
  const help = recapConfigHelp();
  for (const key of ['rounds (1)', 'value.normalizer (1600)', 'value.c_neg (-1000)', 'advantage.percentile (70)', 'finetune.indicator_dropout (0.3)', 'eval.cfg_scales ([1,2])', 'finetune.steps (600)']) {
    assert.ok(help.includes(key), key);
  }
});

test('bad values name the key', () => {
  fails(['rounds=4'], 'rounds: must be <= 3');
  fails(['eval.cfg_scales=[1, -2]'], 'eval.cfg_scales[1]: must be >= 0');
  fails(['eval.cfg_scales=[]'], 'eval.cfg_scales: must list at least one scale');
  fails(['advantage.percentile=120'], 'advantage.percentile: must be in 0..100');
  fails(['value.c_neg=5'], 'value.c_neg: must be <= 0');
  fails(['finetune.indicator_dropout=2'], 'finetune.indicator_dropout');
  fails(['tasks=[]'], 'tasks: must name at least one task');
  fails(['value.normaliser=1600'], "value.normaliser: unknown key 'normaliser' (did you mean 'normalizer'?)");
});

test('checks against the tasks and the model name the key and the fix', () => {
  const base = ['tasks=[libero_goal/0]', 'policy.preset=tiny'];
  assert.throws(() => checkRecapConfig(loadRecapConfig(undefined, [...base, 'value.normalizer=1000']), 'recap.yaml'), /recap.yaml \(episodes of up to 300 steps\): value.normalizer 1000 .* set it to at least 1299/);
  checkRecapConfig(loadRecapConfig(undefined, [...base, 'value.normalizer=1000', 'rollout.max_episode_length=1']), 'recap.yaml');
  assert.throws(() => checkRecapConfig(loadRecapConfig(undefined, [...base, 'rollout.execute_steps=10']), 'recap.yaml'), /recap.yaml: rollout.execute_steps \(10\) is longer than the policy's action horizon \(8\)/);
  assert.throws(() => checkRecapConfig(loadRecapConfig(undefined, [...base, 'policy.checkpoint=no/such/sft']), 'recap.yaml'), /recap.yaml: policy.checkpoint no\/such\/sft: no such folder; train the SFT policy first/);
});

test.run();
