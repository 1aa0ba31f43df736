// Train config: shipped presets validate, and bad files or overrides fail naming the file, the key and the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError } from '../../src/config/load.ts';
import { loadTrainConfig, trainConfigHelp } from '../../src/config/train-config.ts';

const CONFIGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-train-cfg-'));

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}

/** Runs `fn`, which must throw a ConfigError whose message contains every needle. */
function fails(fn: () => unknown, ...needles: string[]): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError);
    const msg = (e as Error).message;
    for (const n of needles) assert.ok(msg.includes(n), `expected ${JSON.stringify(n)} in:\n${msg}`);
    return msg;
  }
  assert.unreachable('expected a ConfigError');
  return '';
}

test('shipped presets load and validate', () => {
  const q = loadTrainConfig(path.join(CONFIGS, 'quickstart.yaml'));
  assert.equal(q.task.tasks, ['libero_goal/0', 'libero_goal/7']);
  assert.is(q.task.suite, null);
  assert.is(q.policy.checkpoint, 'checkpoints/quickstart-sft');
  assert.ok(existsSync(path.join(CONFIGS, '..', 'checkpoints/quickstart-sft/model.safetensors')), 'the shipped checkpoint is in the repository');
  assert.is(q.algo.demo_batch_size, 4);
  assert.is(q.training.n_steps, 12);
  assert.is(q.eval.init_states, null);
  assert.is(q.output_dir, 'runs/quickstart');

  const l = loadTrainConfig(path.join(CONFIGS, 'ript_libero10.yaml'));
  assert.is(l.task.suite, 'libero_10');
  assert.equal(l.task.tasks, []);
  assert.is(l.algo.enable_dynamic_sampling, true);
  assert.is(l.training.log_freq, 20);
  assert.is(l.output_dir, 'runs/ript_libero10');
});

test('a file with only a task source takes every other default', () => {
  const c = loadTrainConfig(write('min.yaml', 'task:\n  suite: libero_10\n'));
  assert.is(c.seed, 0);
  assert.is(c.algo.rloo_batch_size, 4);
  assert.is(c.algo.tail_windows, 'pad');
  assert.is(c.runtime.mode, 'actors');
  assert.is(c.training.n_steps, 1000);
});

test('an empty file fails asking for task.suite or task.tasks', () => {
  const f = write('empty.yaml', '');
  fails(() => loadTrainConfig(f), f, 'task.suite', 'task.tasks', 'riptide train --help');
});

test('task.suite and task.tasks together fail asking to pick one', () => {
  const f = write('both.yaml', 'task:\n  suite: libero_10\n  tasks: [libero_goal/0]\n');
  fails(() => loadTrainConfig(f), `${f}: task.tasks:`, 'pick one');
});

test('an unknown key fails with the file, the dotted path and a suggestion', () => {
  const f = write('typo.yaml', 'task:\n  suite: libero_10\nalgo:\n  rloo_batchsize: 8\n');
  fails(() => loadTrainConfig(f), `${f}: algo.rloo_batchsize: unknown key 'rloo_batchsize'`, "did you mean 'rloo_batch_size'?");
});

test('wrong values fail naming each field, all in one error', () => {
  const f = write(
    'bad.yaml',
    'task:\n  suite: libero_10\nalgo:\n  rloo_batch_size: 1\n  tail_windows: cut\ntraining:\n  n_steps: -3\n',
  );
  fails(
    () => loadTrainConfig(f),
    `${f}: algo.rloo_batch_size: must be >= 2 (got 1)`,
    `${f}: algo.tail_windows: must be 'pad' or 'skip'`,
    `${f}: training.n_steps: must be >= 1 (got -3)`,
  );
});

test('early_stop_percentage * demo_batch_size below 1 fails giving the minimum', () => {
  const f = write('early.yaml', 'task:\n  suite: libero_10\nalgo:\n  demo_batch_size: 4\n  early_stop_percentage: 0.1\n');
  fails(() => loadTrainConfig(f), 'algo.early_stop_percentage: must be >= 0.25');
});

test('a YAML syntax error names file:line:col', () => {
  const f = write('syntax.yaml', 'task:\n  suite: libero_10\n  tasks: [a, b\nalgo: 3\n');
  fails(() => loadTrainConfig(f), `${f}:4:`, 'invalid YAML');
});

test('a missing file or a non-mapping top level fails naming the file', () => {
  const missing = path.join(tmp, 'nope.yaml');
  fails(() => loadTrainConfig(missing), missing, 'no such config file');
  const list = write('list.yaml', '- a\n- b\n');
  fails(() => loadTrainConfig(list), list, 'must be a mapping');
});

test('overrides are parsed as YAML and beat the file', () => {
  const f = write('ovr.yaml', 'task:\n  suite: null\n  tasks: [libero_goal/0]\nalgo:\n  rloo_batch_size: 4\n');
  const c = loadTrainConfig(f, ['algo.rloo_batch_size=8', 'task.tasks=[a,b]', 'policy.checkpoint=null', 'runtime.pipeline=true']);
  assert.is(c.algo.rloo_batch_size, 8);
  assert.equal(c.task.tasks, ['a', 'b']);
  assert.is(c.policy.checkpoint, null);
  assert.is(c.runtime.pipeline, true);
  // Overrides alone, no file.
  assert.is(loadTrainConfig(undefined, ['task.suite=libero_10']).task.suite, 'libero_10');
});

test('a bad override fails naming the override', () => {
  fails(() => loadTrainConfig(undefined, ['foo']), "override 'foo'", 'key.path=value');
  fails(() => loadTrainConfig(undefined, ['=3']), "override '=3'");
  fails(() => loadTrainConfig(undefined, ['task.suite=x', 'task.suite.a=1']), "override 'task.suite.a=1'", "'task.suite' is a string");
  fails(
    () => loadTrainConfig(undefined, ['task.suite=libero_10', 'algo.rloo_batchsize=8']),
    "override 'algo.rloo_batchsize=8': algo.rloo_batchsize: unknown key",
    "did you mean 'rloo_batch_size'?",
  );
});

test('--help lists every key with its default', () => {
  const help = trainConfigHelp();
  assert.match(help, /^algo\.rloo_batch_size \(4\) +rollouts per context/m);
  assert.match(help, /^task\.suite \(null\) /m);
  assert.match(help, /^runtime\.threads \(null\) /m);
  // One line per leaf of a loaded config, so a key added to the schema cannot miss the help.
  const c = loadTrainConfig(undefined, ['task.suite=libero_10']) as Record<string, unknown>;
  const leaves = Object.entries(c).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v).map((kk) => `${k}.${kk}`) : [k],
  );
  assert.equal(help.split('\n').map((l) => l.split(' ')[0]), leaves);
});

test.run();
