// Prompt tokenisation for our task instructions. PI0's real tokenizer is PaliGemma SentencePiece (257152 ids);
// the small presets use a deterministic word-level vocab (configs/model/vocab.json) with openpi's prompt recipe
// (pi0.md §6): clean (strip, '_' -> ' ', '\n' -> ' ', lowercase), BOS + tokens + the "\n" answer token, right-pad
// with id 0 to max_token_len (mask 0), or truncate with a warning. `Tokenizer` is the seam where a HuggingFace
// tokenizer.json (@huggingface/tokenizers) can be plugged in later.

import { ModelFileError, readJsonFile } from './errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export const PAD_ID = 0;
export const BOS_ID = 1;
export const UNK_ID = 2;
export const NEWLINE_ID = 3; // openpi's "start of answer" token; ends every prompt
export const RESERVED_TOKENS = ['<pad>', '<bos>', '<unk>', '\n'] as const;

export interface TokenizedPrompt {
  ids: Int32Array; // maxLen ids, PAD_ID after the prompt
  mask: Uint8Array; // 1 for prompt tokens, 0 for padding
  length: number; // tokens before padding
  truncated: boolean;
}

export interface Tokenizer {
  readonly vocabSize: number; // every id is < vocabSize
  encode(text: string, maxLen: number): { ids: Int32Array; mask: Uint8Array };
}

export interface WordVocab {
  type: 'word';
  tokens: string[]; // id -> token; ids 0..3 are RESERVED_TOKENS
}

/** openpi's prompt cleaning. */
export function cleanPrompt(text: string): string {
  return text.trim().replace(/_/g, ' ').replace(/\n/g, ' ').toLowerCase();
}

/** Words and single punctuation marks of a cleaned prompt ("put it, now" -> put / it / , / now). */
export function splitWords(text: string): string[] {
  return cleanPrompt(text).match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

/**
 * A vocab of at most `size` ids: the reserved four, then words by descending count, ties in code-unit order, so
 * the same sentences always give the same file and the most frequent words get the lowest ids.
 */
export function buildVocab(sentences: Iterable<string>, size: number): WordVocab {
  if (!Number.isInteger(size) || size <= RESERVED_TOKENS.length) {
    throw new RangeError(`vocab size ${size} must be an integer > ${RESERVED_TOKENS.length} (the reserved ids)`);
  }
  const counts = new Map<string, number>();
  const reserved = new Set<string>(RESERVED_TOKENS);
  for (const s of sentences) {
    for (const w of splitWords(s)) if (!reserved.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, size - RESERVED_TOKENS.length)
    .map(([w]) => w);
  return { type: 'word', tokens: [...RESERVED_TOKENS, ...words] };
}

/** One token per line keeps the file diffable. */
export function vocabJson(v: WordVocab): string {
  return `{\n  "type": "word",\n  "tokens": [\n${v.tokens.map((t) => `    ${JSON.stringify(t)}`).join(',\n')}\n  ]\n}\n`;
}

export function writeVocab(file: string, v: WordVocab): void {
  writeFileAtomic(file, vocabJson(v));
}

export function parseVocab(value: unknown, file: string): WordVocab {
  const bad = (field: string, problem: string): never => {
    throw new ModelFileError(file, field, problem, 'a word vocab is {"type": "word", "tokens": ["<pad>", "<bos>", "<unk>", "\\n", ...distinct words]}; rebuild it with buildVocab().');
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('(root)', 'is not a JSON object');
  const v = value as { type?: unknown; tokens?: unknown };
  if (v.type !== 'word') bad('type', `is ${JSON.stringify(v.type)}, expected "word"`);
  if (!Array.isArray(v.tokens)) bad('tokens', 'is not a list of strings');
  const tokens = v.tokens as unknown[];
  RESERVED_TOKENS.forEach((t, i) => {
    if (tokens[i] !== t) bad(`tokens[${i}]`, `is ${JSON.stringify(tokens[i])}, the reserved id ${i} must be ${JSON.stringify(t)}`);
  });
  const seen = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (typeof t !== 'string' || t === '') bad(`tokens[${i}]`, `is ${JSON.stringify(t)}, expected a non-empty string`);
    const prev = seen.get(t as string);
    if (prev !== undefined) bad(`tokens[${i}]`, `repeats ${JSON.stringify(t)} (already id ${prev})`);
    seen.set(t as string, i);
  });
  return { type: 'word', tokens: tokens as string[] };
}

export interface WordTokenizerOptions {
  vocabLimit?: number; // ids >= limit encode as UNK_ID (fits a model with a smaller vocab_size, e.g. tiny's 64)
  onWarning?: (message: string) => void; // default console.warn; each truncated prompt is reported once
}

export class WordTokenizer implements Tokenizer {
  readonly tokens: readonly string[];
  readonly vocabSize: number;
  private readonly ids: Map<string, number>;
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();

  constructor(vocab: WordVocab, opts: WordTokenizerOptions = {}) {
    this.tokens = vocab.tokens;
    const limit = opts.vocabLimit ?? vocab.tokens.length;
    if (!Number.isInteger(limit) || limit <= NEWLINE_ID) throw new RangeError(`vocabLimit ${limit} must be an integer > ${NEWLINE_ID}`);
    this.vocabSize = Math.min(limit, vocab.tokens.length);
    this.ids = new Map();
    for (let i = RESERVED_TOKENS.length; i < this.vocabSize; i++) this.ids.set(vocab.tokens[i], i);
    this.warn = opts.onWarning ?? ((m) => console.warn(m));
  }

  static fromFile(file: string, opts: WordTokenizerOptions = {}): WordTokenizer {
    const value = readJsonFile(file, 'fix the JSON syntax or rebuild the vocab.');
    return new WordTokenizer(parseVocab(value, file), opts);
  }

  encode(text: string, maxLen: number): TokenizedPrompt {
    const ids = new Int32Array(maxLen);
    const mask = new Uint8Array(maxLen);
    const { length, truncated } = this.encodeInto(text, ids, mask, 0, maxLen);
    return { ids, mask, length, truncated };
  }

  /** Encode into ids/mask[offset .. offset+maxLen) of a batch buffer (B*L). */
  encodeInto(text: string, ids: Int32Array, mask: Uint8Array, offset: number, maxLen: number): { length: number; truncated: boolean } {
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new RangeError(`maxLen ${maxLen} must be a positive integer`);
    if (offset < 0 || offset + maxLen > ids.length || offset + maxLen > mask.length) {
      throw new RangeError(`slice [${offset}, ${offset + maxLen}) is outside ids (${ids.length}) or mask (${mask.length})`);
    }
    const words = splitWords(text);
    const full = words.length + 2;
    const length = Math.min(full, maxLen);
    for (let i = 0; i < maxLen; i++) {
      let id = PAD_ID;
      if (i === 0) id = BOS_ID;
      else if (i <= words.length) id = this.ids.get(words[i - 1]) ?? UNK_ID;
      else if (i === words.length + 1) id = NEWLINE_ID;
      ids[offset + i] = i < length ? id : PAD_ID;
      mask[offset + i] = i < length ? 1 : 0;
    }
    const truncated = full > maxLen;
    if (truncated && !this.warned.has(text)) {
      this.warned.add(text);
      this.warn(`tokenizer: prompt has ${full} tokens, truncated to max_token_len ${maxLen}: ${JSON.stringify(text)}`);
    }
    return { length, truncated };
  }

  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.tokens[id] ?? RESERVED_TOKENS[UNK_ID]);
  }
}

/** Fail early when a tokenizer can emit ids the model's embedding table does not have. */
export function checkTokenizerFitsModel(tok: Tokenizer, modelVocabSize: number, source: string): void {
  if (tok.vocabSize > modelVocabSize) {
    throw new ModelFileError(
      source,
      'llm.vocab_size',
      `the tokenizer emits ids up to ${tok.vocabSize - 1} but the model has ${modelVocabSize} embeddings`,
      `create the WordTokenizer with { vocabLimit: ${modelVocabSize} } or use a preset with a larger llm.vocab_size.`,
    );
  }
}
