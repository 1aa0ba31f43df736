// Load a YAML config file, apply `a.b.c=value` command-line overrides, and validate with a zod schema.
// Every problem becomes one ConfigError that lists each bad key as `<file>: <dotted.path>: <message>`.
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';

import { RiptideError } from '../errors.ts';

export class ConfigError extends RiptideError {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  file?: string;
  overrides?: string[];
  /** Last line of every validation error: where the user finds the list of keys. */
  hint?: string;
}

type Mapping = Record<string, unknown>;

const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;

export function getPath(obj: unknown, dotted: string): unknown {
  let at = obj;
  for (const k of dotted.split('.')) {
    if (!isMapping(at)) return undefined;
    at = at[k];
  }
  return at;
}

/** Set `dotted` in `obj`, creating missing mappings on the way; throws ConfigError if the path runs through a non-mapping. */
export function setPath(obj: Mapping, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let at = obj;
  keys.forEach((k, i) => {
    if (k === '__proto__') throw new ConfigError(`'${dotted}': '__proto__' is not a config key`);
    if (i === keys.length - 1) {
      at[k] = value;
      return;
    }
    if (at[k] === undefined) at[k] = {};
    const next = at[k];
    if (!isMapping(next)) {
      const prefix = keys.slice(0, i + 1).join('.');
      throw new ConfigError(`cannot set '${dotted}': '${prefix}' is ${kindOf(next)}, not a mapping of keys`);
    }
    at = next;
  });
}

/** Parse `a.b.c=value`; the value is read as YAML (8 -> number, [a,b] -> list, null, true). */
export function parseOverride(text: string): { key: string; value: unknown } {
  const form = `expected the form key.path=value, e.g. algo.rloo_batch_size=8 or task.tasks=[libero_goal/0,libero_goal/1]`;
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || key === '' || key.split('.').some((k) => k === '')) {
    throw new ConfigError(`override '${text}': ${form}`);
  }
  const raw = text.slice(eq + 1).trim();
  if (raw === '') throw new ConfigError(`override '${text}': no value after '=' (write ${key}=null to clear it)`);
  try {
    return { key, value: YAML.parse(raw) };
  } catch (e) {
    throw new ConfigError(`override '${text}': the value is not valid YAML (${firstLine((e as Error).message)})`);
  }
}

const firstLine = (s: string) => s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');

function readYaml(file: string): Mapping {
  if (!existsSync(file)) throw new ConfigError(`${file}: no such config file (check the path)`);
  const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${firstLine(e.message)}`;
    });
    throw new ConfigError(`invalid YAML:\n${lines.join('\n')}\nfix the syntax at the position shown.`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {}; // an empty file means all defaults
  if (!isMapping(value)) {
    throw new ConfigError(`${file}: the top level must be a mapping of keys (key: value lines), not ${kindOf(value)}`);
  }
  return value;
}

function formatPath(p: readonly PropertyKey[]): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.').replace(/\.\[/g, '[');
}

/** The keys of the object schema found at `p` inside `schema` (through defaults, nullable, ...), or []. */
function keysAt(schema: z.ZodType, p: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    const def = t._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    return def.innerType ? unwrap(def.innerType) : def.in ? unwrap(def.in) : t;
  };
  for (const k of p) {
    const o = unwrap(s);
    s = o instanceof z.ZodObject ? (o.shape as Record<string, z.ZodType>)[String(k)] : undefined;
    if (!s) return [];
  }
  const o = unwrap(s);
  return o instanceof z.ZodObject ? Object.keys(o.shape) : [];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The known key a typo most likely meant: within edit distance 2, else the longest shared prefix (>= 4 chars). */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const byDistance = known
    .map((k) => ({ k, d: editDistance(unknown, k) }))
    .filter((x) => x.d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  if (byDistance) return byDistance.k;
  const prefixLen = (k: string) => {
    let n = 0;
    while (n < k.length && n < unknown.length && k[n] === unknown[n]) n++;
    return n;
  };
  const byPrefix = known.map((k) => ({ k, n: prefixLen(k) })).sort((x, y) => y.n - x.n)[0];
  return byPrefix && byPrefix.n >= Math.min(4, unknown.length) ? byPrefix.k : undefined;
}

const shown = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

export function loadConfig<T>(schema: z.ZodType<T>, opts: LoadConfigOptions): T {
  const source = opts.file ?? '(config)';
  const value = opts.file ? readYaml(opts.file) : {};
  const overridden: { key: string; text: string }[] = [];
  for (const text of opts.overrides ?? []) {
    const { key, value: v } = parseOverride(text);
    try {
      setPath(value, key, v);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`override '${text}': ${e.message}`);
      throw e;
    }
    overridden.push({ key, text });
  }

  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  // An issue inside an overridden key names the override, since that is what the user has to fix.
  const within = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  const origin = (dotted: string) => {
    const o = overridden.findLast((x) => within(dotted, x.key) || within(x.key, dotted));
    return o ? `override '${o.text}'` : source;
  };
  const lines = r.error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      const known = keysAt(schema, i.path);
      return i.keys.map((k) => {
        const dotted = formatPath([...i.path, k]);
        const guess = suggestKey(k, known);
        return `${origin(dotted)}: ${dotted}: unknown key '${k}'${guess ? ` (did you mean '${guess}'?)` : ''}`;
      });
    }
    const dotted = formatPath(i.path) || '(top level)';
    const input = 'input' in i ? i.input : undefined;
    const got = input === undefined ? '' : ` (got ${isMapping(input) ? 'a mapping' : shown(input)})`;
    return [`${origin(dotted)}: ${dotted}: ${i.message}${got}`];
  });
  const hint = opts.hint ?? 'see the preset files for every key and its default.';
  throw new ConfigError(`invalid config:\n${lines.map((l) => `  ${l}`).join('\n')}\n${hint}`);
}
