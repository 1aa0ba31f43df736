// `riptide report <output_dir>`: a run's metrics.json as a self-contained HTML page (inline SVG charts, a summary
// table, the rollout videos under videos/), PNG copies of the success and loss charts, and a plain-text summary
// for the terminal. Every file is written atomically, so a report open in a browser is never half-written.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { writeFileAtomic } from '../fs-atomic.ts';
import { readMetrics, type EvalRecord, type Metrics, type TrainRecord } from './metrics.ts';
import { chartPng, chartSvg, escapeXml, type Chart, type Series } from './plot.ts';

const OVERALL = 'overall';

/** Task refs in the order the run listed them, then any others the evals name, in order of appearance. */
export function taskNames(m: Metrics): string[] {
  const names = new Set<string>(m.run?.tasks ?? []);
  for (const e of m.eval) for (const t of Object.keys(e.per_task)) names.add(t);
  return [...names];
}

interface RatePoint {
  step: number;
  rate: number;
}

export interface SuccessRow {
  name: string;
  first: RatePoint | null;
  last: RatePoint | null;
  /** The highest rate; the earliest step on ties. */
  best: RatePoint | null;
}

/** First, last and best success rate of the overall evaluation and of each task. */
export function successRows(m: Metrics): SuccessRow[] {
  const row = (name: string, rate: (e: EvalRecord) => number | undefined): SuccessRow => {
    const pts = m.eval.flatMap((e) => {
      const r = rate(e);
      return r === undefined || !Number.isFinite(r) ? [] : [{ step: e.step, rate: r }];
    });
    const best = pts.reduce<RatePoint | null>((b, p) => (b === null || p.rate > b.rate ? p : b), null);
    return { name, first: pts[0] ?? null, last: pts.at(-1) ?? null, best };
  };
  return [row(OVERALL, (e) => e.overall_success_rate), ...taskNames(m).map((t) => row(t, (e) => e.per_task[t]))];
}

const pct = (p: RatePoint | null) => (p ? `${(p.rate * 100).toFixed(1)}%` : '-');
const at = (p: RatePoint | null) => (p ? `${pct(p)} @ ${p.step}` : '-');

/** Plain-text table for the terminal: first / last / best success per task. */
export function summarize(m: Metrics): string {
  const lines: string[] = [];
  if (m.run) lines.push(`run: ${m.run.command}${m.run.tasks ? `, ${m.run.tasks.length} task(s)` : ''}`);
  const lastTrain = m.train.at(-1);
  lines.push(
    `eval: ${m.eval.length} evaluation(s)${m.eval.length ? `, steps ${m.eval[0].step}..${m.eval.at(-1)!.step}` : ''}; ` +
      `train: ${m.train.length} step(s)${lastTrain ? `, last step ${lastTrain.step}${lastTrain.fm_loss != null ? `, fm_loss ${fmt(lastTrain.fm_loss)}` : ''}` : ''}`,
  );
  if (m.eval.length === 0) return `${lines.join('\n')}\n(no evaluation yet)`;
  const rows = successRows(m);
  const header = ['task', 'first', 'last', 'best', 'change'];
  const cells = rows.map((r) => [
    r.name,
    at(r.first),
    at(r.last),
    at(r.best),
    r.first && r.last ? `${r.last.rate >= r.first.rate ? '+' : ''}${((r.last.rate - r.first.rate) * 100).toFixed(1)}` : '-',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  lines.push(line(header), ...cells.map(line));
  return lines.join('\n');
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '') : v.toExponential(3);
}

// ---------------------------------------------------------------- charts

function trainSeries(train: TrainRecord[], name: string, key: keyof TrainRecord, extra: Partial<Series> = {}): Series {
  return { name, points: train.map((r) => [r.step, typeof r[key] === 'number' ? (r[key] as number) : null] as const), ...extra };
}

const hasKey = (train: TrainRecord[], key: keyof TrainRecord) => train.some((r) => typeof r[key] === 'number');

export function successChart(m: Metrics): Chart {
  const series: Series[] = [
    { name: OVERALL, points: m.eval.map((e) => [e.step, e.overall_success_rate] as const), color: '#222222', width: 2.5 },
    ...taskNames(m).map((t): Series => ({ name: t, points: m.eval.map((e) => [e.step, e.per_task[t] ?? null] as const) })),
  ];
  return { title: 'Evaluation success rate', xLabel: 'train step', yLabel: 'success rate', series, yRange: [0, 1] };
}

export function lossChart(m: Metrics): Chart {
  return { title: 'Flow-matching loss', xLabel: 'train step', yLabel: 'fm_loss', series: [trainSeries(m.train, 'fm_loss', 'fm_loss')] };
}

/** The charts of the page, in order; the rollout and group charts only when an RL run wrote those fields. */
export function reportCharts(m: Metrics): { file?: string; chart: Chart }[] {
  const charts: { file?: string; chart: Chart }[] = [];
  if (m.eval.length) charts.push({ file: 'success.png', chart: successChart(m) });
  if (hasKey(m.train, 'fm_loss')) charts.push({ file: 'loss.png', chart: lossChart(m) });
  if (hasKey(m.train, 'mean_success')) {
    charts.push({
      chart: {
        title: 'Rollout success (training episodes)',
        xLabel: 'train step',
        yLabel: 'mean success',
        series: [trainSeries(m.train, 'mean_success', 'mean_success')],
        yRange: [0, 1],
      },
    });
  }
  const groupKeys = (['groups_kept', 'groups_dropped', 'groups_skipped'] as const).filter((k) => hasKey(m.train, k));
  if (groupKeys.length) {
    const colors: Record<string, string> = { groups_kept: '#59a14f', groups_dropped: '#e15759', groups_skipped: '#bab0ac' };
    charts.push({
      chart: {
        title: 'RLOO groups per step',
        xLabel: 'train step',
        yLabel: 'groups',
        series: groupKeys.map((k) => trainSeries(m.train, k.replace('groups_', ''), k, { color: colors[k] })),
        yRange: [0, 1],
      },
    });
  }
  return charts;
}

// ---------------------------------------------------------------- page

/** The rollout videos under <dir>/videos, as paths relative to dir, in natural order (ep2 before ep10). */
export function findVideos(dir: string): string[] {
  const vdir = path.join(dir, 'videos');
  if (!existsSync(vdir)) return [];
  return readdirSync(vdir)
    .filter((f) => f.toLowerCase().endsWith('.mp4') && !f.startsWith('.'))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((f) => `videos/${f}`);
}

const CSS = `body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}tr.overall td{font-weight:bold}
.up{color:#2a7d2a}.down{color:#b22}.charts svg{display:block;margin:12px 0}
.videos{display:flex;flex-wrap:wrap;gap:12px}.videos figure{margin:0}.videos figcaption{font-size:12px}
pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}`;

export function reportHtml(m: Metrics, videos: string[], title: string): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', `<title>${escapeXml(title)}</title>`);
  out.push(`<style>${CSS}</style>`, '</head>', '<body>', `<h1>${escapeXml(title)}</h1>`);
  const facts: string[] = [];
  if (m.run) facts.push(`command <b>${escapeXml(m.run.command)}</b>`);
  facts.push(`${m.eval.length} evaluation(s)`, `${m.train.length} train step(s)`);
  const last = m.train.at(-1);
  if (last?.env_steps !== undefined) facts.push(`${last.env_steps} env steps`);
  if (last?.wall_s !== undefined) facts.push(`${last.wall_s.toFixed(0)} s`);
  out.push(`<p>${facts.join(' &middot; ')}</p>`);

  out.push('<h2>Success rate</h2>');
  if (m.eval.length === 0) {
    out.push('<p>No evaluation yet.</p>');
  } else {
    out.push('<table class="summary">', '<tr><th>task</th><th>first</th><th>last</th><th>best</th><th>change (points)</th></tr>');
    for (const r of successRows(m)) {
      const d = r.first && r.last ? (r.last.rate - r.first.rate) * 100 : null;
      const cls = d === null || d === 0 ? '' : d > 0 ? ' class="up"' : ' class="down"';
      out.push(
        `<tr${r.name === OVERALL ? ' class="overall"' : ''}><td>${escapeXml(r.name)}</td><td>${at(r.first)}</td>` +
          `<td>${at(r.last)}</td><td>${at(r.best)}</td><td${cls}>${d === null ? '-' : `${d >= 0 ? '+' : ''}${d.toFixed(1)}`}</td></tr>`,
      );
    }
    out.push('</table>');
  }

  out.push('<h2>Curves</h2>', '<div class="charts">');
  const charts = reportCharts(m);
  if (charts.length === 0) out.push('<p>No records to plot yet.</p>');
  for (const { chart } of charts) out.push(chartSvg(chart));
  out.push('</div>');

  if (videos.length) {
    out.push('<h2>Rollout videos</h2>', '<div class="videos">');
    for (const v of videos) {
      const src = v.split('/').map(encodeURIComponent).join('/');
      out.push(
        `<figure><video src="${escapeXml(src)}" controls muted loop preload="metadata"></video>` +
          `<figcaption>${escapeXml(path.basename(v, '.mp4'))}</figcaption></figure>`,
      );
    }
    out.push('</div>');
  }
  if (m.run?.config) {
    out.push('<h2>Config</h2>', `<details><summary>run config</summary><pre>${escapeXml(JSON.stringify(m.run.config, null, 2))}</pre></details>`);
  }
  out.push('</body>', '</html>', '');
  return out.join('\n');
}

function writeReportOf(dir: string, m: Metrics): { html: string; pngs: string[] } {
  const html = path.join(dir, 'report.html');
  writeFileAtomic(html, reportHtml(m, findVideos(dir), `riptide report: ${path.basename(path.resolve(dir))}`));
  const pngs: string[] = [];
  for (const { file, chart } of reportCharts(m)) {
    if (!file) continue;
    const p = path.join(dir, file);
    writeFileAtomic(p, chartPng(chart));
    pngs.push(p);
  }
  return { html, pngs };
}

/**
 * Writes <dir>/report.html, and <dir>/success.png and <dir>/loss.png when there are evaluations / losses to plot.
 * Returns the paths written.
 */
export function writeReport(dir: string): { html: string; pngs: string[] } {
  return writeReportOf(dir, readMetrics(dir));
}

/** The CLI command: writes the report, prints the summary table and the paths. */
export function reportCommand(dir: string): void {
  const m = readMetrics(dir);
  const { html, pngs } = writeReportOf(dir, m);
  console.log(summarize(m));
  console.log(`\nreport: ${html}`);
  for (const p of pngs) console.log(`chart:  ${p}`);
}
