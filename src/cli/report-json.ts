// Shared by the `riptide bench ...` commands: which machine and commit a figure came from, an aligned text table
// for the terminal, and an atomic JSON write (a crash never leaves half a report).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeFileAtomic } from '../fs-atomic.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface MachineInfo {
  cores: number; // logical CPUs this process may use
  cpu_model: string; // /proc/cpuinfo "model name"
  platform: string;
  arch: string;
  node_version: string;
  memory_gib: number;
}

export function machineInfo(): MachineInfo {
  let cpu = '';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    /* not Linux */
  }
  return {
    cores: os.availableParallelism(),
    cpu_model: cpu || os.cpus()[0]?.model || 'unknown',
    platform: os.platform(),
    arch: os.arch(),
    node_version: process.version,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** `git rev-parse HEAD` of the riptide checkout, or 'unknown' (not a repo, no commits, no git). */
export function gitCommit(cwd: string = repoRoot): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Pretty JSON written through a temp file + rename; creates the folder. */
export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

export type TableRow = Record<string, string | number | null | undefined>;

function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** Columns are the union of row keys in first-seen order; numbers right-aligned. */
export function formatTable(rows: readonly TableRow[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const text = rows.map((r) => cols.map((c) => cell(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...text.map((t) => t[i].length)));
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] !== 'string'));
  const line = (cells: string[]) =>
    cells.map((s, i) => (numeric[i] ? s.padStart(width[i]) : s.padEnd(width[i]))).join('  ').trimEnd();
  return [line(cols), width.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

export function printTable(rows: readonly TableRow[], out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${formatTable(rows)}\n`);
}
