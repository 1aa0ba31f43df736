// PI0 model presets (configs/model/*.json): load, validate with zod, and derive the sizes every other module uses.
// C cameras, S image size, p patch size, L max_token_len, H action_horizon. Prefix P = C*(S/p)^2 + L, suffix 1 + H.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

import { ModelFileError } from './errors.ts';

export const PRESET_NAMES = ['tiny', 'small', 'pi0'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESET_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs/model');

const posInt = () =>
  z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).positive({ error: 'must be > 0' });

const VisionSchema = z
  .object({ width: posInt(), depth: posInt(), num_heads: posInt(), mlp_dim: posInt() })
  .strict();
const LlmSchema = z
  .object({
    width: posInt(),
    depth: posInt(),
    num_heads: posInt(),
    num_kv_heads: posInt(),
    head_dim: posInt(),
    mlp_dim: posInt(),
    vocab_size: posInt(),
  })
  .strict();
// The action expert shares depth, heads and head_dim with the LLM (joint attention), so only width and MLP differ.
const ExpertSchema = z.object({ width: posInt(), mlp_dim: posInt() }).strict();

const Pi0ConfigSchema = z
  .object({
    name: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
    image_size: posInt(),
    patch_size: posInt(),
    num_cameras: posInt(),
    vision: VisionSchema,
    llm: LlmSchema,
    expert: ExpertSchema,
    max_token_len: posInt().min(2, { error: 'must be >= 2 (BOS and the "\\n" answer token)' }),
    action_horizon: posInt(),
    action_dim: posInt(),
    state_dim: posInt(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.image_size % c.patch_size !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['patch_size'],
        message: `must divide image_size (${c.image_size} % ${c.patch_size} = ${c.image_size % c.patch_size})`,
      });
    }
    if (c.vision.width % c.vision.num_heads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['vision', 'num_heads'], message: `must divide vision.width (${c.vision.width})` });
    }
    if (c.llm.num_heads % c.llm.num_kv_heads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['llm', 'num_kv_heads'], message: `must divide llm.num_heads (${c.llm.num_heads})` });
    }
    if (c.llm.head_dim % 2 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['llm', 'head_dim'], message: 'must be even (RoPE rotates halves)' });
    }
  });

/** A validated model preset, exactly the JSON shape of configs/model/*.json. */
export type Pi0Config = z.infer<typeof Pi0ConfigSchema>;

/** Sizes derived from a preset; the names match the shape comments in native-types.ts. */
export interface Pi0Sizes {
  grid: number; // S/p patches per side
  tokensPerImage: number; // (S/p)^2
  imageTokens: number; // C*(S/p)^2
  prefixLen: number; // P = C*(S/p)^2 + L
  suffixLen: number; // 1 + H: the state token then H action tokens
  seqLen: number; // N = P + 1 + H
  imageFloats: number; // S*S*3 per camera
  visionHeadDim: number; // vision.width / vision.num_heads
}

export function pi0Sizes(c: Pi0Config): Pi0Sizes {
  const grid = c.image_size / c.patch_size;
  const tokensPerImage = grid * grid;
  const imageTokens = c.num_cameras * tokensPerImage;
  const prefixLen = imageTokens + c.max_token_len;
  const suffixLen = 1 + c.action_horizon;
  return {
    grid,
    tokensPerImage,
    imageTokens,
    prefixLen,
    suffixLen,
    seqLen: prefixLen + suffixLen,
    imageFloats: c.image_size * c.image_size * 3,
    visionHeadDim: c.vision.width / c.vision.num_heads,
  };
}

function formatPath(p: readonly PropertyKey[]): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.').replace(/\.\[/g, '[');
}

/** Validate a parsed JSON value; `source` (a file path or a label) goes into every error. */
export function parsePi0Config(value: unknown, source: string): Pi0Config {
  const r = Pi0ConfigSchema.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const where = i.path.length ? `${formatPath(i.path)}.` : '';
      return `unknown field(s) ${i.keys.map((k) => `'${where}${k}'`).join(', ')}`;
    }
    return `field '${formatPath(i.path) || '(root)'}' ${i.message}`;
  });
  const first = r.error.issues[0];
  const field = first && first.path.length ? formatPath(first.path) : undefined;
  throw new ModelFileError(
    source,
    field,
    `invalid model config: ${lines.join('; ')}`,
    `edit ${source} so each listed field has a valid value (remove unknown fields); the presets in ${PRESET_DIR} show every field.`,
  );
}

/** Load a preset by name ('tiny' | 'small' | 'pi0') or from a path to a JSON file. */
export function loadPi0Config(presetOrPath: string): Pi0Config {
  const isPreset = (PRESET_NAMES as readonly string[]).includes(presetOrPath);
  const file = isPreset ? path.join(PRESET_DIR, `${presetOrPath}.json`) : path.resolve(presetOrPath);
  if (!existsSync(file)) {
    throw new ModelFileError(
      file,
      undefined,
      `no such model config (asked for '${presetOrPath}')`,
      `pass a preset name (${PRESET_NAMES.join(', ')}) or the path of an existing JSON file.`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFileError(file, undefined, `not valid JSON (${(e as Error).message})`, 'fix the JSON syntax.');
  }
  return parsePi0Config(value, file);
}

/**
 * The first field where two configs differ in a way that changes the parameter layout or the batch sizes
 * (`name` is ignored: a renamed copy of a preset is the same model). null when they match.
 */
export function configMismatch(a: Pi0Config, b: Pi0Config): { field: string; a: unknown; b: unknown } | null {
  const walk = (x: unknown, y: unknown, at: string): { field: string; a: unknown; b: unknown } | null => {
    if (typeof x === 'object' && x !== null && typeof y === 'object' && y !== null) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
      for (const k of keys) {
        if (at === '' && k === 'name') continue;
        const d = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
        if (d) return d;
      }
      return null;
    }
    return x === y ? null : { field: at, a: x, b: y };
  };
  return walk(a, b, '');
}
