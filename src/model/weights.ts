// Weights <-> safetensors by name, using the native model's paramSpec() (name, shape, offset into the fp32 slab).
// Names are the lerobot/openpi PyTorch keys (pi0.md §8). On load we also accept what real checkpoints contain:
// the lerobot `model.` prefix, `time_mlp_*` for `action_time_mlp_*`, and the tied LM head stored in place of
// embed_tokens. The whole header is checked before any byte is copied, so a bad file leaves the slab untouched.
import { ModelFileError, ModelInputError } from './errors.ts';
import type { ParamEntry } from './native-types.ts';
import { SafetensorsReader, writeSafetensors, type Metadata, type SafetensorsWriteDtype } from './safetensors.ts';

export const LEROBOT_PREFIX = 'model.';
export const EMBED_TOKENS = 'paligemma_with_expert.paligemma.model.language_model.embed_tokens.weight';
export const TIED_LM_HEAD = 'paligemma_with_expert.paligemma.lm_head.weight';
/** riptide's CFG condition embedding (DESIGN.md decision 9); PI0 checkpoints do not have it. */
export const CFG_EMBEDDING = 'cfg_embedding.weight';
const OPTIONAL = new Set([CFG_EMBEDDING]);

type WeightSpec = Pick<ParamEntry, 'name' | 'shape' | 'offset' | 'size'>;

export interface WeightPlan {
  sources: Map<string, string>; // spec name -> tensor name in the file
  missingOptional: string[]; // optional spec keys absent from the file (keep the model's init values)
  extra: string[]; // file tensors no spec key uses
  warnings: string[];
}

/** The spec name a file key stands for: drop the lerobot `model.` prefix and map `time_mlp_*`. */
export function canonicalWeightName(key: string, specNames: ReadonlySet<string>): string {
  if (specNames.has(key)) return key;
  let k = key.startsWith(LEROBOT_PREFIX) ? key.slice(LEROBOT_PREFIX.length) : key;
  if (k.startsWith('time_mlp_')) k = `action_${k}`;
  return k;
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Match file tensors to spec keys. Throws a ModelFileError naming the key, the expected and found shapes and the
 * file when a required key is missing or mis-shaped; extra file keys only produce warnings.
 */
export function planWeightLoad(
  fileEntries: ReadonlyMap<string, { shape: readonly number[] }>,
  spec: readonly WeightSpec[],
  file: string,
): WeightPlan {
  const specNames = new Set(spec.map((e) => e.name));
  const byCanonical = new Map<string, string>();
  const warnings: string[] = [];
  for (const key of fileEntries.keys()) {
    const c = canonicalWeightName(key, specNames);
    const prev = byCanonical.get(c);
    // An exact spec name wins over a prefixed/renamed duplicate.
    if (prev !== undefined) {
      const keep = key === c ? key : prev;
      warnings.push(`${file}: both '${prev}' and '${key}' map to '${c}'; using '${keep}'`);
      byCanonical.set(c, keep);
    } else byCanonical.set(c, key);
  }
  // Tied embedding: files often store only the LM head (pi0.md §8).
  if (specNames.has(EMBED_TOKENS) && !byCanonical.has(EMBED_TOKENS)) {
    const head = byCanonical.get(TIED_LM_HEAD);
    if (head !== undefined) {
      byCanonical.set(EMBED_TOKENS, head);
      byCanonical.delete(TIED_LM_HEAD);
    }
  }

  const sources = new Map<string, string>();
  const missing: string[] = [];
  const missingOptional: string[] = [];
  for (const e of spec) {
    const src = byCanonical.get(e.name);
    if (src === undefined) {
      (OPTIONAL.has(e.name) ? missingOptional : missing).push(e.name);
      continue;
    }
    const found = fileEntries.get(src)!.shape;
    if (found.length !== e.shape.length || found.some((d, i) => d !== e.shape[i])) {
      throw new ModelFileError(
        file,
        e.name,
        `shape mismatch: the model expects ${shapeText(e.shape)}, the file has ${shapeText(found)}` +
          (src !== e.name ? ` (as '${src}')` : ''),
        'load weights saved from the same model preset, or create the model with the preset these weights were trained with.',
      );
    }
    sources.set(e.name, src);
  }
  if (missing.length) {
    const shown = missing.slice(0, 5).map((n) => {
      const e = spec.find((s) => s.name === n)!;
      return `'${n}' ${shapeText(e.shape)}`;
    });
    throw new ModelFileError(
      file,
      missing[0],
      `missing ${missing.length} weight tensor(s): ${shown.join(', ')}${missing.length > 5 ? `, and ${missing.length - 5} more` : ''}`,
      'load a complete PI0 checkpoint for this preset (lerobot/openpi PyTorch key names; a `model.` prefix is fine).',
    );
  }
  const used = new Set(sources.values());
  const extra = [...fileEntries.keys()].filter((k) => !used.has(k));
  if (extra.length) {
    const shown = extra.slice(0, 5).map((k) => `'${k}'`).join(', ');
    warnings.push(`${file}: ignored ${extra.length} tensor(s) the model does not use: ${shown}${extra.length > 5 ? ', ...' : ''}`);
  }
  for (const n of missingOptional) warnings.push(`${file}: no '${n}'; kept the model's initial values for it`);
  return { sources, missingOptional, extra, warnings };
}

function checkSpec(spec: readonly WeightSpec[], params: Float32Array): void {
  for (const e of spec) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (n !== e.size || e.offset < 0 || e.offset + e.size > params.length) {
      throw new ModelInputError(
        `paramSpec '${e.name}'`,
        `shape ${shapeText(e.shape)} / size ${e.size} / offset ${e.offset} do not fit a slab of ${params.length}`,
        'this is a native model bug: paramSpec() and params() disagree.',
      );
    }
  }
}

/** Load a safetensors file into the slab `params` by name. Returns warnings (extra keys, defaulted optional keys). */
export function loadWeights(file: string, spec: readonly WeightSpec[], params: Float32Array): { warnings: string[] } {
  checkSpec(spec, params);
  const reader = SafetensorsReader.open(file);
  try {
    const plan = planWeightLoad(reader.entries, spec, file);
    for (const e of spec) {
      const src = plan.sources.get(e.name);
      if (src !== undefined) reader.readInto(src, params.subarray(e.offset, e.offset + e.size));
    }
    return { warnings: plan.warnings };
  } finally {
    reader.close();
  }
}

/** Save every spec tensor (cfg_embedding included when the spec has it) as F32 (exact) or BF16. */
export function saveWeights(
  file: string,
  spec: readonly WeightSpec[],
  params: Float32Array,
  opts: { dtype?: SafetensorsWriteDtype; metadata?: Metadata } = {},
): void {
  checkSpec(spec, params);
  writeSafetensors(
    file,
    spec.map((e) => [e.name, { shape: e.shape, data: params.subarray(e.offset, e.offset + e.size) }] as const),
    { format: 'pt', ...opts.metadata },
    opts.dtype ?? 'F32',
  );
}
