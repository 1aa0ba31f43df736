// RECAP's loop (`riptide recap run`): a value pretrain on the demos and an evaluation of the SFT start, then per
// round k: collect rollouts with the current policy -> value fine-tune (from the pretrained model, on the demos and
// every rollout set so far) -> advantages -> policy fine-tune (from the SFT checkpoint) -> evaluation at every cfg
// scale. Each finished sub-stage is appended to <output_dir>/recap_state.json (atomically), so --resume skips it;
// an unfinished one's folder is removed and the stage runs again. Layout under output_dir:
//   value_pretrain/   round_<k>/{rollouts,value,advantages,policy}/   recap_state.json
//   metrics.json (every evaluation, step = round; round 0 = the SFT start), recap.html and recap_success.png
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { checkRecapConfig, policyHorizon, type RecapConfig } from '../../config/recap-config.ts';
import { RiptideError } from '../../errors.ts';
import { writeFileAtomic } from '../../fs-atomic.ts';
import { writeMetrics } from '../../report/metrics.ts';
import { chartPng, chartSvg, escapeXml, type Chart } from '../../report/plot.ts';
import type { PolicySettings } from '../../runtime/layouts.ts';
import { evalLine, type EvalResult } from '../ript-trainer.ts';
import { evaluatePolicy } from '../sft-trainer.ts';
import { computeAdvantages } from './advantage.ts';
import { collectRollouts } from './collect.ts';
import { demoImageSize, newestCheckpoint, type RecapContext } from './context.ts';
import { finetunePolicy } from './finetune.ts';
import { trainValue } from './value.ts';

export const RECAP_STATE_FILE = 'recap_state.json';
export const RECAP_STATE_FORMAT = 'riptide.recap.v1';
const ROUND_STAGES = ['collect', 'value', 'advantage', 'policy', 'eval'] as const;

/** The sub-stages of a run of `rounds` rounds, in order. */
export function recapStages(rounds: number): string[] {
  return ['value_pretrain', 'round_0/eval', ...Array.from({ length: rounds }, (_, i) => ROUND_STAGES.map((s) => `round_${i + 1}/${s}`)).flat()];
}

export interface StageRecord {
  stage: string;
  seconds: number;
  finished: string;
  result: unknown;
}

export interface RecapState {
  format: typeof RECAP_STATE_FORMAT;
  stages: StageRecord[];
}

export interface RecapRunOptions {
  /** Continue the run in output_dir: finished sub-stages are skipped. */
  resume?: boolean;
  /** Stop once this sub-stage has finished (a later --resume goes on from there). */
  stopAfter?: string;
}

/** The folders of a run in `dir`. */
export function recapLayout(dir: string) {
  const round = (k: number, what: string) => path.join(dir, `round_${k}`, what);
  return {
    valuePretrain: path.join(dir, 'value_pretrain'),
    rollouts: (k: number) => round(k, 'rollouts'),
    value: (k: number) => round(k, 'value'),
    advantages: (k: number) => round(k, 'advantages'),
    policy: (k: number) => round(k, 'policy'),
  };
}

type Layout = ReturnType<typeof recapLayout>;

/** 'round_2/value' -> [2, 'value']. */
function roundStage(stage: string): [number, string] {
  const [, k, part] = /^round_(\d+)\/(\w+)$/.exec(stage)!;
  return [Number(k), part];
}

/** The folder a sub-stage writes (null: it writes only the state). */
function stageFolder(L: Layout, stage: string): string | null {
  if (stage === 'value_pretrain') return L.valuePretrain;
  const [round, part] = roundStage(stage);
  const folders: Record<string, (k: number) => string> = { collect: L.rollouts, value: L.value, advantage: L.advantages, policy: L.policy };
  return folders[part]?.(round) ?? null;
}

export function readRecapState(dir: string): RecapState {
  const file = path.join(dir, RECAP_STATE_FILE);
  let state: RecapState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as RecapState;
  } catch (e) {
    throw new RiptideError(`${file}: cannot read the run state (${(e as Error).message}); the loop writes it atomically, so restore it or start a new output_dir`);
  }
  if (state.format !== RECAP_STATE_FORMAT || !Array.isArray(state.stages)) {
    throw new RiptideError(`${file}: format '${String(state.format)}' is not '${RECAP_STATE_FORMAT}' with a stages list; start a new output_dir`);
  }
  return state;
}

function writeState(dir: string, state: RecapState): void {
  writeFileAtomic(path.join(dir, RECAP_STATE_FILE), `${JSON.stringify(state, null, 1)}\n`);
}

/** A fresh run refuses a non-empty folder; --resume needs this loop's state there (or an empty folder). */
function openState(dir: string, resume: boolean): RecapState {
  const empty = !existsSync(dir) || readdirSync(dir).length === 0;
  if (resume && existsSync(path.join(dir, RECAP_STATE_FILE))) return readRecapState(dir);
  if (!empty) {
    throw new RiptideError(
      resume
        ? `${dir} has no ${RECAP_STATE_FILE}, so it is not a RECAP run to resume; set output_dir to a new folder`
        : `${dir} is not empty; set output_dir to a new folder, or pass --resume to continue the run there`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const state: RecapState = { format: RECAP_STATE_FORMAT, stages: [] };
  writeState(dir, state);
  return state;
}

/** The policy the run starts from: the SFT checkpoint (or, in tests, a fresh preset). */
export function startPolicy(c: RecapConfig): Partial<PolicySettings> {
  return c.policy.checkpoint ? { checkpoint: c.policy.checkpoint } : { preset: c.policy.preset, seed: c.seed };
}

async function evaluateRound(ctx: RecapContext, policy: Partial<PolicySettings>, round: number): Promise<EvalResult[]> {
  const c = ctx.config;
  const size = await demoImageSize(c.data.demos);
  const results = await evaluatePolicy(
    {
      policy: { ...policy, threads: c.runtime.threads ?? undefined, device: c.runtime.device },
      tasks: c.tasks,
      image: { width: size, height: size },
      executeSteps: Math.min(c.rollout.execute_steps ?? 50, policyHorizon(c)),
      maxEpisodeLength: c.rollout.max_episode_length ?? undefined,
      cfgScales: c.eval.cfg_scales,
      initStates: c.eval.init_states,
      numParallelEnvs: c.rollout.num_parallel_envs,
      envActors: c.rollout.env_actors,
      seed: c.seed,
      step: round,
    },
    (scale, done, total) => ctx.hooks.progress?.(`eval round ${round} at cfg_scale ${scale}`, done, total),
  );
  for (const r of results) ctx.hooks.log(`${evalLine(r).replace(/^eval step/, 'eval round')}, cfg_scale ${r.cfg_scale}`);
  return results;
}

async function runStage(ctx: RecapContext, L: Layout, stage: string): Promise<unknown> {
  const c = ctx.config;
  if (stage === 'value_pretrain') return { checkpoint: await trainValue(ctx, { stage: 'pretrain', data: c.data.demos, out: L.valuePretrain }) };
  const [round, part] = roundStage(stage);
  const policy = (r: number) => (r === 0 ? startPolicy(c) : { checkpoint: newestCheckpoint(L.policy(r), `round ${r} policy`) });
  const data = [...c.data.demos, ...Array.from({ length: round }, (_, i) => L.rollouts(i + 1))];
  switch (part) {
    case 'collect':
      return collectRollouts(ctx, { policy: policy(round - 1), out: L.rollouts(round), round });
    case 'value':
      return { checkpoint: await trainValue(ctx, { stage: 'finetune', data, out: L.value(round), from: newestCheckpoint(L.valuePretrain, 'pretrained value') }) };
    case 'advantage': {
      const index = await computeAdvantages(ctx, { value: newestCheckpoint(L.value(round), `round ${round} value`), data, out: L.advantages(round) });
      return { threshold: index.threshold, positive_share: index.positive_share, value_std: index.value_std, frames: index.frames };
    }
    case 'policy':
      return { checkpoint: await finetunePolicy(ctx, { advantages: L.advantages(round), out: L.policy(round) }) };
    default:
      return { results: await evaluateRound(ctx, policy(round), round) };
  }
}

/** Every evaluation a state holds, in run order. */
export function stateEvals(state: RecapState): EvalResult[] {
  return state.stages.flatMap((s) => (s.stage.endsWith('/eval') ? (s.result as { results: EvalResult[] }).results : []));
}

/** Success per round at each cfg scale, as a text table (rows: rounds; columns: scales). */
export function recapSummary(evals: readonly EvalResult[]): string {
  const scales = [...new Set(evals.map((e) => e.cfg_scale))];
  const rounds = [...new Set(evals.map((e) => e.step))];
  const cell = (r: number, s: number) => {
    const e = evals.find((x) => x.step === r && x.cfg_scale === s);
    return (e ? `${(100 * e.overall_success_rate).toFixed(1)}%` : '-').padStart(12);
  };
  const rows = rounds.map((r) => `${String(r).padEnd(6)}${scales.map((s) => cell(r, s)).join('')}`);
  return [`round ${scales.map((s) => `cfg_scale ${s}`.padStart(12)).join('')}`, ...rows].join('\n');
}

/** metrics.json (every evaluation, step = round), recap_success.png and recap.html from the state. */
export function writeRecapReport(dir: string, c: RecapConfig, state: RecapState): { html: string; png: string } {
  const evals = stateEvals(state);
  writeMetrics(dir, { run: { command: 'recap run', config: c, tasks: c.tasks }, eval: evals, train: [] });
  const chart: Chart = {
    title: 'RECAP: evaluation success per round',
    xLabel: 'round (0 = the SFT start)',
    yLabel: 'success rate',
    yRange: [0, 1],
    series: [...new Set(evals.map((e) => e.cfg_scale))].map((s) => ({
      name: `cfg_scale ${s}`,
      points: evals.filter((e) => e.cfg_scale === s).map((e) => [e.step, e.overall_success_rate] as const),
    })),
  };
  const png = path.join(dir, 'recap_success.png');
  writeFileAtomic(png, chartPng(chart));
  const html = path.join(dir, 'recap.html');
  const title = `riptide recap: ${path.basename(dir)}`;
  writeFileAtomic(
    html,
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title></head>\n<body style="font-family:sans-serif">` +
      `<h1>${escapeXml(title)}</h1>\n${chartSvg(chart)}\n<pre>${escapeXml(recapSummary(evals))}</pre>\n` +
      `<p>Per-task rates: metrics.json; stages: ${RECAP_STATE_FILE}.</p></body></html>\n`,
  );
  return { html, png };
}

/** Runs (or resumes) the loop; returns the state once every sub-stage, or --stop-after's, has finished. */
export async function runRecap(ctx: RecapContext, o: RecapRunOptions = {}): Promise<RecapState> {
  const c = ctx.config;
  const dir = path.resolve(c.output_dir);
  const stages = recapStages(c.rounds);
  if (o.stopAfter !== undefined && !stages.includes(o.stopAfter)) {
    throw new RiptideError(`--stop-after ${o.stopAfter}: not a sub-stage of a ${c.rounds}-round run; use one of ${stages.join(', ')}`);
  }
  checkRecapConfig(c, ctx.where);
  const state = openState(dir, o.resume === true);
  const L = recapLayout(dir);
  const done = new Set(state.stages.map((s) => s.stage));
  for (const stage of stages) {
    if (done.has(stage)) {
      ctx.hooks.log(`${stage}: finished earlier, skipped`);
    } else {
      const folder = stageFolder(L, stage);
      if (folder && existsSync(folder)) {
        ctx.hooks.log(`${stage}: removing ${folder}, left unfinished by an earlier run`);
        rmSync(folder, { recursive: true, force: true });
      }
      ctx.hooks.log(`== ${stage}`);
      const t0 = performance.now();
      const result = await runStage(ctx, L, stage);
      state.stages.push({ stage, seconds: (performance.now() - t0) / 1000, finished: new Date().toISOString(), result });
      writeState(dir, state);
      if (stage.endsWith('/eval')) writeRecapReport(dir, c, state);
    }
    if (stage === o.stopAfter) {
      ctx.hooks.log(`stopped after ${stage} (--stop-after); continue with --resume`);
      break;
    }
  }
  return state;
}
