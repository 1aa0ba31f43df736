// Rollout stats per init state (RIPT's rollout_stats, done right: persisted, and on by default). Each context is
// keyed by the SHA-256 of its init state's float32 row, so stats survive reordering tasks and stay valid only for
// the same state. A context whose last `threshold` outcomes were all successes is skipped without a rollout.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { RiptideError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export const ROLLOUT_STATS_FORMAT = 'riptide.rollout_stats.v1';

export interface ContextStats {
  task: string;
  init: number;
  /** 1 success, 0 failure, oldest first. */
  outcomes: number[];
  /** Times the context was skipped for being mastered. */
  skips: number;
}

const rows = new Map<string, { data: Buffer; row: number; count: number }>();

/** SHA-256 (hex) of init state `init` in a task's init-state file (RIPT's init_hash, over the stored float32 row). */
export function initStateHash(initFile: string, init: number): string {
  let f = rows.get(initFile);
  if (!f) {
    const json = JSON.parse(readFileSync(initFile, 'utf8')) as { nq: number; nmocap: number; count: number; data: string };
    f = { data: Buffer.from(json.data, 'base64'), row: (json.nq + 7 * json.nmocap) * 4, count: json.count };
    rows.set(initFile, f);
  }
  if (!(init >= 0 && init < f.count)) throw new RiptideError(`${initFile}: init state ${init} does not exist (the file has ${f.count})`);
  return createHash('sha256').update(f.data.subarray(init * f.row, (init + 1) * f.row)).digest('hex');
}

export class RolloutStatsTracker {
  readonly threshold: number;
  readonly stats = new Map<string, ContextStats>();

  constructor(threshold: number) {
    this.threshold = threshold;
  }

  /** True (and counted) when the last `threshold` outcomes of this context were all successes. */
  shouldSkip(hash: string): boolean {
    const s = this.stats.get(hash);
    if (!s || s.outcomes.length < this.threshold) return false;
    if (!s.outcomes.slice(-this.threshold).every((o) => o === 1)) return false;
    s.skips++;
    return true;
  }

  record(hash: string, task: string, init: number, outcomes: readonly number[]): void {
    const s = this.stats.get(hash) ?? { task, init, outcomes: [], skips: 0 };
    s.outcomes.push(...outcomes);
    this.stats.set(hash, s);
  }

  toJSON(): { format: string; threshold: number; contexts: Record<string, ContextStats> } {
    return { format: ROLLOUT_STATS_FORMAT, threshold: this.threshold, contexts: Object.fromEntries(this.stats) };
  }

  /** Replaces the stats with a snapshot (from toJSON). */
  restore(json: unknown, where = 'rollout stats'): void {
    const j = json as { format?: unknown; contexts?: Record<string, ContextStats> };
    if (j?.format !== ROLLOUT_STATS_FORMAT || typeof j.contexts !== 'object' || j.contexts === null) {
      throw new RiptideError(`${where}: not a riptide rollout stats file (format '${String(j?.format)}', expected '${ROLLOUT_STATS_FORMAT}'); delete it or point algo.rollout_stats_path elsewhere`);
    }
    this.stats.clear();
    for (const [hash, s] of Object.entries(j.contexts)) {
      if (!Array.isArray(s?.outcomes) || !s.outcomes.every((o) => o === 0 || o === 1)) {
        throw new RiptideError(`${where}: contexts.${hash}.outcomes must be a list of 0/1; delete the file to start the stats afresh`);
      }
      this.stats.set(hash, { task: String(s.task), init: Number(s.init), outcomes: [...s.outcomes], skips: Number(s.skips) || 0 });
    }
  }

  /** Loads `file` when it exists (merging nothing: the file is the state). */
  load(file: string): boolean {
    if (!existsSync(file)) return false;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new RiptideError(`${file}: not valid JSON (${(e as Error).message}); delete it to start the stats afresh`);
    }
    this.restore(json, file);
    return true;
  }

  save(file: string): void {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(this.toJSON(), null, 1)}\n`);
  }
}
