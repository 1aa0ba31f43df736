// Supervision: an env actor killed mid-rollout is restarted, its unfinished episodes run again, and the rollout
// returns every episode exactly once; `riptide rollout` stops cleanly on SIGINT.
import { spawn } from 'node:child_process';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Runtime } from '../../src/runtime/runtime.ts';

test('killing an env actor mid-rollout restarts it and the run completes with every episode once', async () => {
  const rt = await Runtime.start({
    tasks: ['libero_spatial/0'],
    numParallelEnvs: 2,
    executeSteps: 8,
    maxEpisodeLength: 40,
    image: { width: 32, height: 32 },
    policy: { preset: 'tiny' },
  });
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  try {
    const jobs = Array.from({ length: 6 }, (_, i) => ({ task: 0, init: i, seed: i }));
    let killed: Promise<void> | undefined;
    const episodes = await rt.rollout(jobs, () => {
      killed ??= rt.killEnvActor(0);
    });
    await killed;
    assert.is(episodes.length, 6);
    assert.equal(episodes.map((e) => e.init), [0, 1, 2, 3, 4, 5]);
    assert.is(new Set(episodes.map((e) => e.episode)).size, 6);
    for (const e of episodes) assert.ok(e.success || e.length === 40, `episode ${e.episode} is complete (length ${e.length})`);
    assert.equal((await rt.stats()).restarts, [1]);
    assert.ok(warnings.some((w) => /env actor 0 died .*restarting it/.test(w)), warnings.join('\n'));
    // The restarted actor serves the next rollout too.
    const more = await rt.rollout([{ task: 0, init: 7, seed: 7 }]);
    assert.is(more.length, 1);
  } finally {
    console.warn = warn;
    await rt.stop();
  }
});

test('riptide rollout stops cleanly on SIGINT: exit code 130 and a message, no hang', async () => {
  const child = spawn(process.execPath, ['bin/riptide.mjs', 'rollout', 'libero_spatial/0', '--preset', 'tiny', '--image', '32', '--inits', '40', '--max-steps', '200'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait until episodes are running (the first progress line), then interrupt.
  const deadline = Date.now() + 60_000;
  while (!/rollout \d+\/40/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(stderr, /rollout \d+\/40/, 'the rollout started');
  child.kill('SIGINT');
  const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000).unref());
  const code = await Promise.race([exited, timeout]);
  if (code === 'timeout') child.kill('SIGKILL');
  assert.is(code, 130, stderr);
  assert.match(stderr, /interrupted after \d+ of 40 episodes; stopping the actors/);
});

test.run();
