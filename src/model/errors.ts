// The model layer's error types. Every message says what is wrong, where (file and field), and what to do.
// Both are RiptideErrors, so the CLI prints them without a stack trace.
import { readFileSync } from 'node:fs';

import { RiptideError } from '../errors.ts';

/** Bad model input on disk: a preset, a safetensors file, a checkpoint folder, norm stats, a vocab file. */
export class ModelFileError extends RiptideError {
  override name = 'ModelFileError';
  readonly file: string;
  readonly field: string | undefined;
  readonly fix: string;

  constructor(file: string, field: string | undefined, problem: string, fix: string) {
    super(`${file}${field !== undefined ? `: ${field}` : ''}: ${problem}\nFix: ${fix}`);
    this.file = file;
    this.field = field;
    this.fix = fix;
  }
}

/** Bad in-memory input to the model: a batch with the wrong sizes, an option out of range. */
export class ModelInputError extends RiptideError {
  override name = 'ModelInputError';
  readonly field: string;

  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem}\nFix: ${fix}`);
    this.field = field;
  }
}

/** Reads and parses a JSON file; unreadable or malformed files throw a ModelFileError ending in `fix`. */
export function readJsonFile(file: string, fix: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelFileError(file, undefined, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path.');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, undefined, `not valid JSON (${(e as Error).message})`, fix);
  }
}
