// Loads the riptide native addon (cpp/) once per thread and says how to build it when it is missing.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import type { NativeSim } from './sim/native-types.ts';
import type { NativePi0 } from './model/native-types.ts';

export interface NativeAddon {
  sim: NativeSim;
  pi0: NativePi0;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const candidates = ['build/Release/riptide.node', 'build/Debug/riptide.node'].map((p) => path.join(root, p));

let cached: NativeAddon | undefined;

export function native(): NativeAddon {
  if (cached) return cached;
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `riptide native addon not built (looked for ${candidates.join(', ')}).\n` +
        `Fix: run 'npm run setup && npm run build:native' (or 'npm run build:native:gyp' for the node-gyp fallback).`,
    );
  }
  cached = createRequire(import.meta.url)(found) as NativeAddon;
  return cached;
}
