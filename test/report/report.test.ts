// riptide report: metrics.json -> report.html (inline SVG charts, summary table, videos), success.png/loss.png,
// the terminal summary, and the errors a user sees for a missing or malformed metrics file.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RiptideError } from '../../src/errors.ts';
import { appendMetrics, readMetrics, type Metrics } from '../../src/report/metrics.ts';
import { formatTick, niceAxis } from '../../src/report/plot.ts';
import { summarize, writeReport } from '../../src/report/report.ts';

const TASKS = ['libero_goal/0', 'libero_goal/1'];

function sampleMetrics(): Metrics {
  return {
    run: { command: 'train', config: { lr: 1e-5, group_size: 4 }, tasks: TASKS },
    eval: [
      { step: 0, overall_success_rate: 0.4, per_task: { [TASKS[0]]: 0.6, [TASKS[1]]: 0.2 }, mean_episode_length: 231.5, cfg_scale: 1, episodes: 10 },
      { step: 10, overall_success_rate: 0.55, per_task: { [TASKS[0]]: 0.8, [TASKS[1]]: 0.3 }, mean_episode_length: 210, cfg_scale: 1, episodes: 10 },
      { step: 20, overall_success_rate: 0.5, per_task: { [TASKS[0]]: 0.7, [TASKS[1]]: 0.3 }, mean_episode_length: 220, cfg_scale: 1, episodes: 10 },
    ],
    train: [1, 2, 3, 4, 5].map((step) => ({
      step,
      fm_loss: 0.9 - step * 0.1,
      mean_success: 0.4 + step * 0.02,
      groups_kept: 2,
      groups_dropped: 1,
      groups_skipped: 0,
      adv_mean: 0,
      adv_std: 0.4,
      lr: 1e-5,
      grad_norm: 0.9,
      windows: 40,
      env_steps: 2000 * step,
      steps_per_s: 95.2,
      wall_s: 30 * step,
    })),
  };
}

function tempRun(m: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'riptide-report-'));
  writeFileSync(path.join(dir, 'metrics.json'), typeof m === 'string' ? m : JSON.stringify(m));
  return dir;
}

function svgs(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

test('report.html: one SVG path per series, task names, summary rates, relative video links', () => {
  const dir = tempRun(sampleMetrics());
  try {
    mkdirSync(path.join(dir, 'videos'));
    writeFileSync(path.join(dir, 'videos', 'step 20 libero_goal-0.mp4'), '');
    const { html, pngs } = writeReport(dir);
    assert.is(html, path.join(dir, 'report.html'));
    assert.equal(pngs, [path.join(dir, 'success.png'), path.join(dir, 'loss.png')]);
    const page = readFileSync(html, 'utf8');
    const charts = svgs(page);
    // success, loss, rollout success, groups (kept/dropped/skipped)
    assert.is(charts.length, 4);
    const paths = (svg: string) => (svg.match(/<path /g) ?? []).length;
    assert.is(paths(charts[0]), 1 + TASKS.length, 'success chart: overall + one per task');
    assert.is(paths(charts[1]), 1, 'loss chart: fm_loss');
    assert.is(paths(charts[3]), 3, 'groups chart: kept, dropped, skipped');
    for (const t of ['overall', ...TASKS]) assert.ok(charts[0].includes(`data-series="${t}"`), `series ${t}`);
    for (const t of TASKS) assert.ok(page.includes(`<td>${t}</td>`), `summary row ${t}`);
    // Overall first 40% at step 0, last 50% at step 20, best 55% at step 10.
    assert.match(page, /<td>overall<\/td><td>40\.0% @ 0<\/td><td>50\.0% @ 20<\/td><td>55\.0% @ 10<\/td>/);
    assert.ok(page.includes('<video src="videos/step%2020%20libero_goal-0.mp4"'), 'relative, URL-encoded video src');
    assert.not.match(page, /NaN|undefined/);
    // No temp files left behind by the atomic writes.
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('.')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('success.png is a PNG of the chart size', () => {
  const dir = tempRun(sampleMetrics());
  try {
    writeReport(dir);
    const png = readFileSync(path.join(dir, 'success.png'));
    assert.equal([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.is(png.toString('ascii', 12, 16), 'IHDR');
    const svg = svgs(readFileSync(path.join(dir, 'report.html'), 'utf8'))[0];
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    assert.is(png.readUInt32BE(16), Number(w));
    assert.is(png.readUInt32BE(20), Number(h));
    assert.ok(Number(w) >= 320 && Number(h) >= 200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('summary: first, last and best success per task', () => {
  const text = summarize(sampleMetrics());
  const line = (name: string) => text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(line('overall'), /40\.0% @ 0\s+50\.0% @ 20\s+55\.0% @ 10\s+\+10\.0/);
  assert.match(line(TASKS[0]), /60\.0% @ 0\s+70\.0% @ 20\s+80\.0% @ 10\s+\+10\.0/);
  assert.match(line(TASKS[1]), /20\.0% @ 0\s+30\.0% @ 20\s+30\.0% @ 10\s+\+10\.0/);
  assert.match(summarize({ eval: [], train: [] }), /no evaluation yet/);
});

test('a missing metrics.json names the file and what to pass', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'riptide-report-'));
  try {
    const file = path.join(dir, 'metrics.json');
    assert.throws(() => writeReport(dir), (e: unknown) => e instanceof RiptideError && e.message.includes(`${file} not found`) && /output folder of a training run/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a malformed metrics.json names the file and the field; nothing is written', () => {
  for (const [content, field] of [
    [{ eval: { step: 0 }, train: [] }, /'eval' must be a list of eval records/],
    [{ eval: [{ step: 0, per_task: {} }], train: [] }, /'eval\[0\]\.overall_success_rate' is missing/],
    [{ eval: [], train: [{ step: 'one' }] }, /'train\[0\]\.step' must be a number/],
    ['{"eval": [', /is not valid JSON/],
  ] as const) {
    const dir = tempRun(content);
    try {
      const file = path.join(dir, 'metrics.json');
      assert.throws(
        () => writeReport(dir),
        (e: unknown) => e instanceof RiptideError && e.message.startsWith(file) && field.test(e.message),
        JSON.stringify(content),
      );
      assert.equal(readdirSync(dir), ['metrics.json']);
      // appendMetrics refuses too: the records in a broken file are not dropped.
      assert.throws(() => appendMetrics(dir, 'train', { step: 1, fm_loss: 0.5 }), (e: unknown) => e instanceof RiptideError);
      assert.is(readFileSync(file, 'utf8'), typeof content === 'string' ? content : JSON.stringify(content));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('appendMetrics keeps earlier records, tolerates extra fields, stores a NaN loss as a gap', () => {
  const dir = tempRun({ ...sampleMetrics(), future_section: { x: 1 } });
  try {
    appendMetrics(dir, 'eval', { step: 30, overall_success_rate: 0.6, per_task: { [TASKS[0]]: 0.8, [TASKS[1]]: 0.4 } });
    appendMetrics(dir, 'train', { step: 6, fm_loss: Number.NaN, lr: 1e-5 });
    appendMetrics(dir, 'train', { step: 7, fm_loss: 0.25, lr: 1e-5, kl: 0.01 } as { step: number; fm_loss: number; lr: number });
    const m = readMetrics(dir);
    assert.is(m.eval.length, 4);
    assert.equal(m.eval.map((e) => e.step), [0, 10, 20, 30]);
    assert.equal(m.train.map((t) => t.step), [1, 2, 3, 4, 5, 6, 7]);
    assert.is(m.train[5].fm_loss, null);
    assert.is((m.train[6] as unknown as { kl: number }).kl, 0.01);
    assert.equal(m.run, sampleMetrics().run);
    assert.equal((JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as { future_section: unknown }).future_section, { x: 1 });
    // An SFT run: train records with step/fm_loss/lr only, no evaluation; the report still renders.
    const sft = mkdtempSync(path.join(tmpdir(), 'riptide-report-'));
    try {
      for (let step = 1; step <= 3; step++) appendMetrics(sft, 'train', { step, fm_loss: 1 / step, lr: 1e-4 });
      const { pngs } = writeReport(sft);
      assert.equal(pngs, [path.join(sft, 'loss.png')]);
      assert.is(svgs(readFileSync(path.join(sft, 'report.html'), 'utf8')).length, 1);
    } finally {
      rmSync(sft, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('axis ticks are round numbers covering the data', () => {
  const r = niceAxis(0, 1, 5);
  assert.equal(r.ticks.map((t) => formatTick(t, r.step)), ['0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  const a = niceAxis(3, 97, 6);
  assert.equal([a.lo, a.hi, a.step], [0, 100, 20]);
  assert.equal(a.ticks.map((t) => formatTick(t, a.step)), ['0', '20', '40', '60', '80', '100']);
  const b = niceAxis(0.0123, 0.0456, 5);
  assert.equal(b.ticks.map((t) => formatTick(t, b.step)), ['0.010', '0.015', '0.020', '0.025', '0.030', '0.035', '0.040', '0.045', '0.050']);
  const c = niceAxis(0, 48000, 6);
  assert.equal(c.ticks.map((t) => formatTick(t, c.step)), ['0', '10k', '20k', '30k', '40k', '50k']);
  const one = niceAxis(5, 5, 6);
  assert.ok(one.lo < 5 && one.hi > 5, 'a single point gets a range around it');
});

test.run();
