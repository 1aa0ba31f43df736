// Shared fixtures for the PI0 native model tests: presets and deterministic random batches.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { native } from '../../src/native.ts';
import type { LossBatch, SampleBatch } from '../../src/model/native-types.ts';

const root = path.resolve(import.meta.dirname, '../..');

export interface PresetShape {
  image_size: number;
  num_cameras: number;
  max_token_len: number;
  action_horizon: number;
  action_dim: number;
  state_dim: number;
  llm: { vocab_size: number };
}

export function presetJson(name: 'tiny' | 'small' | 'pi0'): string {
  return readFileSync(path.join(root, 'configs/model', `${name}.json`), 'utf8');
}

export function preset(name: 'tiny' | 'small' | 'pi0'): PresetShape {
  return JSON.parse(presetJson(name)) as PresetShape;
}

// mulberry32: small deterministic generator for test inputs
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}

// A full observation + action chunk; every camera and token valid unless the test masks some.
export function lossBatch(cfg: PresetShape, B: number, seed: number): LossBatch {
  const r = rng(seed);
  const C = cfg.num_cameras, S = cfg.image_size, L = cfg.max_token_len, H = cfg.action_horizon, A = cfg.action_dim;
  const images = new Float32Array(B * C * S * S * 3);
  for (let i = 0; i < images.length; i++) images[i] = r() * 2 - 1;
  const tokens = new Int32Array(B * L);
  for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(r() * cfg.llm.vocab_size);
  const time = new Float32Array(B);
  for (let b = 0; b < B; b++) time[b] = 0.05 + 0.9 * r();
  return {
    batch: B,
    images,
    imageMask: new Uint8Array(B * C).fill(1),
    tokens,
    tokenMask: new Uint8Array(B * L).fill(1),
    state: normal(r, B * cfg.state_dim, 0.5),
    actions: normal(r, B * H * A, 0.5),
    noise: normal(r, B * H * A),
    time,
  };
}

export function sampleBatch(cfg: PresetShape, B: number, seed: number): SampleBatch {
  const lb = lossBatch(cfg, B, seed);
  return {
    batch: B,
    images: lb.images,
    imageMask: lb.imageMask,
    tokens: lb.tokens,
    tokenMask: lb.tokenMask,
    state: lb.state,
    noise: lb.noise!,
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

// pi0.selfTest: native checks exported for these tests only (cpp/pi0/selftest.h); not part of NativePi0.
export interface Pi0SelfTest {
  gradCheckNames: string[];
  fastCheckNames: string[];
  gradCheck(name: string, seed: number, configJson?: string): number;
  fastCheck(name: string, seed: number): number;
  // the value model (cpp/pi0/value.h); default: a small built-in config with 7 bins
  valueGradCheck(seed: number, configJson?: string, bins?: number): number;
  sampleCompare(
    configJson: string,
    seed: number,
    batch: SampleBatch,
    path?: 'fast' | 'reference',
  ): { cached: Float32Array; uncached: Float32Array };
}

export function pi0SelfTest(): Pi0SelfTest {
  return (native().pi0 as unknown as { selfTest: Pi0SelfTest }).selfTest;
}
