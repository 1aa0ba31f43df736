// A checkpoint is a folder:
//   model.safetensors      weights by lerobot/openpi key (F32, or BF16 for export)
//   optimizer.safetensors  AdamW state: adam.m, adam.v as flat F32 [N]; step in the metadata
//   config.json            the model preset; a value-model checkpoint adds "value_bins" (its number of bins), which
//                          is how PI0 and value checkpoints tell each other apart
//   norm_stats.json        openpi format, when the trainer has stats
//   trainer_state.json     free-form JSON from the trainer (step, sampler state, rng state, ...)
// Saving writes everything into `<dir>.tmp-<pid>` and then swaps it in with renames; the previous checkpoint is
// moved aside only for the instant of the swap and restored if the swap fails, so nothing already saved is lost.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

import { configMismatch, parsePi0Config, type Pi0Config } from './config.ts';
import { ModelFileError, ModelInputError } from './errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import type { ParamEntry } from './native-types.ts';
import { normStatsJson, readNormStats, type NormStats } from './norm-stats.ts';
import { SafetensorsReader, writeSafetensors, type SafetensorsWriteDtype } from './safetensors.ts';
import { loadWeights, saveWeights } from './weights.ts';

export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  config: 'config.json',
  normStats: 'norm_stats.json',
  trainerState: 'trainer_state.json',
  ema: 'ema.safetensors',
} as const;

/** The config.json field that marks a value-model checkpoint (cpp/pi0/value.h) and holds its number of bins. */
export const VALUE_BINS_FIELD = 'value_bins';

const ADAM_M = 'adam.m';
const ADAM_V = 'adam.v';
const OPTIMIZER_FORMAT = 'riptide-adamw-v1';

type WeightSpec = Pick<ParamEntry, 'name' | 'shape' | 'offset' | 'size'>;

export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  step: number; // optimizer steps taken
}

export interface CheckpointContents {
  config: Pi0Config;
  spec: readonly WeightSpec[];
  params: Float32Array;
  optimizer?: AdamState | null;
  normStats?: NormStats | null;
  trainerState?: unknown; // JSON-serialisable; omitted/undefined = no trainer_state.json
  dtype?: SafetensorsWriteDtype; // weights dtype, default F32 (exact round-trip)
  ema?: Float32Array | null; // EMA of the weights, same layout as params
  valueBins?: number; // a value model's bins: config.json gets "value_bins"; omitted for a PI0 policy
}

export function saveCheckpoint(dir: string, c: CheckpointContents): void {
  const target = path.resolve(dir);
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    saveWeights(path.join(tmp, CHECKPOINT_FILES.model), c.spec, c.params, {
      dtype: c.dtype,
      metadata: { 'riptide.preset': c.config.name },
    });
    if (c.optimizer) {
      const { m, v, step } = c.optimizer;
      if (m.length !== c.params.length || v.length !== c.params.length || !Number.isSafeInteger(step) || step < 0) {
        throw new ModelInputError(
          'optimizer',
          `m (${m.length}) and v (${v.length}) must match the ${c.params.length} params, step (${step}) must be an integer >= 0`,
          'pass the native model adamM(), adamV() and step().',
        );
      }
      writeSafetensors(
        path.join(tmp, CHECKPOINT_FILES.optimizer),
        [
          [ADAM_M, { shape: [m.length], data: m }],
          [ADAM_V, { shape: [v.length], data: v }],
        ],
        { format: OPTIMIZER_FORMAT, step: String(step), param_count: String(c.params.length) },
        'F32',
      );
    }
    if (c.ema) saveWeights(path.join(tmp, CHECKPOINT_FILES.ema), c.spec, c.ema, { metadata: { 'riptide.preset': c.config.name, 'riptide.kind': 'ema' } });
    const configJson = c.valueBins === undefined ? c.config : { ...c.config, [VALUE_BINS_FIELD]: c.valueBins };
    writeFileAtomic(path.join(tmp, CHECKPOINT_FILES.config), `${JSON.stringify(configJson, null, 2)}\n`);
    if (c.normStats) writeFileAtomic(path.join(tmp, CHECKPOINT_FILES.normStats), normStatsJson(c.normStats));
    if (c.trainerState !== undefined) {
      let text: string;
      try {
        text = JSON.stringify(c.trainerState, null, 2);
      } catch (e) {
        throw new ModelInputError('trainerState', `is not JSON-serialisable (${(e as Error).message})`, 'convert BigInts and typed arrays to numbers/arrays/strings first.');
      }
      writeFileAtomic(path.join(tmp, CHECKPOINT_FILES.trainerState), `${text}\n`);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  swapInto(tmp, target);
}

function swapInto(tmp: string, target: string): void {
  const old = `${target}.old-${process.pid}`;
  const hadPrevious = existsSync(target);
  if (hadPrevious) {
    rmSync(old, { recursive: true, force: true });
    renameSync(target, old);
  }
  try {
    renameSync(tmp, target);
  } catch (e) {
    if (hadPrevious) renameSync(old, target);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (hadPrevious) rmSync(old, { recursive: true, force: true });
}

export interface CheckpointTarget {
  config: Pi0Config;
  spec: readonly WeightSpec[];
  params: Float32Array;
  adamM?: Float32Array; // filled from optimizer.safetensors when given
  adamV?: Float32Array;
  valueBins?: number; // set for a value model: the checkpoint must be a value checkpoint with these bins
}

export interface LoadCheckpointOptions {
  optimizer?: 'required' | 'optional' | 'skip'; // default 'optional': a weights-only folder loads with a warning
}

export interface LoadedCheckpoint {
  dir: string;
  config: Pi0Config;
  valueBins: number | null; // a value-model checkpoint's bins; null for a PI0 policy
  step: number | null; // optimizer step, null without optimizer state
  normStats: NormStats | null;
  trainerState: unknown; // null when there is no trainer_state.json
  ema: Float32Array | null; // the EMA weights when the checkpoint has them (and a target was given)
  warnings: string[];
}

function missingFile(dir: string, name: string, fix: string): never {
  const file = path.join(dir, name);
  throw new ModelFileError(file, undefined, 'missing from the checkpoint folder', fix);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFileError(file, undefined, `not valid JSON (${(e as Error).message})`, 'restore the file from a good checkpoint or save the checkpoint again.');
  }
}

function checkDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  const aside = existsSync(parent) ? readdirSync(parent).filter((f) => f.startsWith(`${base}.old-`)) : [];
  throw new ModelFileError(
    dir,
    undefined,
    'checkpoint folder not found',
    aside.length
      ? `a save was interrupted mid-swap; the previous checkpoint is ${path.join(parent, aside[0])}: rename it to ${dir}.`
      : 'check the path (a checkpoint folder holds model.safetensors and config.json).',
  );
}

/** What config.json says a checkpoint is: its preset, and its bins when it is a value model. */
export interface CheckpointHeader {
  file: string; // the config.json path
  config: Pi0Config;
  valueBins: number | null;
}

export function readCheckpointHeader(dir: string): CheckpointHeader {
  const abs = path.resolve(dir);
  checkDir(abs);
  const file = path.join(abs, CHECKPOINT_FILES.config);
  if (!existsSync(file)) missingFile(abs, CHECKPOINT_FILES.config, 'save the checkpoint again, or copy the preset JSON it was trained with (configs/model/<preset>.json) into the folder as config.json.');
  const json = readJson(file);
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !(VALUE_BINS_FIELD in json)) {
    return { file, config: parsePi0Config(json, file), valueBins: null };
  }
  const { [VALUE_BINS_FIELD]: bins, ...preset } = json as Record<string, unknown>;
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 2) {
    throw new ModelFileError(file, VALUE_BINS_FIELD, `is ${JSON.stringify(bins)}, expected an integer >= 2`, 'set it to the number of bins the value model was saved with (201 by default).');
  }
  return { file, config: parsePi0Config(preset, file), valueBins: bins };
}

/** The preset stored in a PI0 policy checkpoint (to create a model that fits it); refuses a value checkpoint. */
export function readCheckpointConfig(dir: string): Pi0Config {
  const h = readCheckpointHeader(dir);
  checkKind(h, dir, 'pi0');
  return h.config;
}

/** The preset and bins stored in a value-model checkpoint; refuses a PI0 policy checkpoint. */
export function readValueCheckpointConfig(dir: string): { config: Pi0Config; bins: number } {
  const h = readCheckpointHeader(dir);
  checkKind(h, dir, 'value');
  return { config: h.config, bins: h.valueBins! };
}

// Refuses a checkpoint of the other kind, and a value checkpoint whose bins differ from `bins` (when given).
function checkKind(h: CheckpointHeader, dir: string, want: 'pi0' | 'value', bins?: number): void {
  if (want === 'pi0' && h.valueBins !== null) {
    throw new ModelFileError(h.file, VALUE_BINS_FIELD, `is ${h.valueBins}: this is a value-model checkpoint, not a PI0 policy`, `load it with ValueModel.fromCheckpoint('${dir}') (src/model/value.ts), or pass a PI0 policy checkpoint.`);
  }
  if (want === 'value' && h.valueBins === null) {
    throw new ModelFileError(h.file, VALUE_BINS_FIELD, 'is missing: this is a PI0 policy checkpoint, not a value model', `load it with Pi0Policy.fromCheckpoint('${dir}'), or start a value model from its vision + language weights with ValueModel.initFromPi0('${dir}').`);
  }
  if (want === 'value' && bins !== undefined && h.valueBins !== bins) {
    throw new ModelFileError(h.file, VALUE_BINS_FIELD, `is ${h.valueBins} in the checkpoint but ${bins} in the model`, `create the model from the checkpoint (ValueModel.fromCheckpoint('${dir}')), or load a checkpoint with ${bins} bins.`);
  }
}

/**
 * Read a checkpoint. With a target, also check its config against the target's and load the weights (and Adam
 * state, when the target has adamM/adamV) into the target's buffers.
 */
export function loadCheckpoint(dir: string, target?: CheckpointTarget, opts: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const abs = path.resolve(dir);
  const header = readCheckpointHeader(abs);
  if (target) checkKind(header, dir, target.valueBins === undefined ? 'pi0' : 'value', target.valueBins);
  const { config, valueBins } = header;
  const warnings: string[] = [];
  const modelFile = path.join(abs, CHECKPOINT_FILES.model);
  if (!existsSync(modelFile)) missingFile(abs, CHECKPOINT_FILES.model, 'the save did not finish: use an earlier checkpoint.');

  if (target) {
    const d = configMismatch(config, target.config);
    if (d) {
      throw new ModelFileError(
        path.join(abs, CHECKPOINT_FILES.config),
        d.field,
        `is ${JSON.stringify(d.a)} in the checkpoint but ${JSON.stringify(d.b)} in the model ('${target.config.name}')`,
        `create the model from the checkpoint's config (${target.valueBins === undefined ? 'Pi0Policy' : 'ValueModel'}.fromCheckpoint('${dir}')), or load a checkpoint of preset '${target.config.name}'.`,
      );
    }
    warnings.push(...loadWeights(modelFile, target.spec, target.params).warnings);
  }

  let step: number | null = null;
  const optFile = path.join(abs, CHECKPOINT_FILES.optimizer);
  const mode = opts.optimizer ?? 'optional';
  if (mode !== 'skip') {
    if (!existsSync(optFile)) {
      if (mode === 'required') missingFile(abs, CHECKPOINT_FILES.optimizer, 'resume from a training checkpoint (one saved with optimizer state), or start a fresh optimizer.');
      warnings.push(`${optFile}: not present; the optimizer starts from zero state`);
    } else {
      step = readOptimizer(optFile, target);
    }
  }

  const nsFile = path.join(abs, CHECKPOINT_FILES.normStats);
  const normStats = existsSync(nsFile) ? readNormStats(nsFile) : null;
  const tsFile = path.join(abs, CHECKPOINT_FILES.trainerState);
  const trainerState = existsSync(tsFile) ? readJson(tsFile) : null;
  const emaFile = path.join(abs, CHECKPOINT_FILES.ema);
  let ema: Float32Array | null = null;
  if (target && existsSync(emaFile)) {
    ema = new Float32Array(target.params.length);
    loadWeights(emaFile, target.spec, ema);
  }
  return { dir: abs, config, valueBins, step, normStats, trainerState, ema, warnings };
}

function readOptimizer(file: string, target: CheckpointTarget | undefined): number {
  const r = SafetensorsReader.open(file);
  try {
    const stepText = r.metadata.step;
    const step = Number(stepText);
    if (stepText === undefined || !Number.isSafeInteger(step) || step < 0) {
      throw new ModelFileError(file, '__metadata__.step', `is ${JSON.stringify(stepText)}, expected a non-negative integer`, 'save the checkpoint again.');
    }
    const fill = (name: string, dst: Float32Array | undefined) => {
      const e = r.entries.get(name);
      if (!e) throw new ModelFileError(file, name, 'missing tensor', 'save the checkpoint again (optimizer state holds adam.m and adam.v).');
      const n = e.shape.reduce((a, b) => a * b, 1);
      const want = target?.params.length;
      if (want !== undefined && (e.shape.length !== 1 || n !== want)) {
        throw new ModelFileError(file, name, `shape [${e.shape.join(', ')}] does not match the model's ${want} parameters`, 'load a checkpoint of the same preset.');
      }
      if (dst) r.readInto(name, dst);
    };
    fill(ADAM_M, target?.adamM);
    fill(ADAM_V, target?.adamV);
    return step;
  } finally {
    r.close();
  }
}
