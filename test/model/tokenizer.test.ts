// Word tokenizer: openpi's prompt recipe, determinism, padding and mask, UNK, truncation, and the shipped vocab.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadPi0Config, PRESET_DIR } from '../../src/model/config.ts';
import {
  BOS_ID,
  buildVocab,
  checkTokenizerFitsModel,
  NEWLINE_ID,
  splitWords,
  UNK_ID,
  vocabJson,
  WordTokenizer,
} from '../../src/model/tokenizer.ts';
import { COMMON_WORDS, LIBERO_INSTRUCTIONS, VOCAB_SIZE } from './fixtures/vocab-source.ts';

const VOCAB_FILE = path.join(PRESET_DIR, 'vocab.json');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-tok-'));
const vocab = buildVocab(['put the bowl on the plate', 'put the mug on the plate', 'open the drawer'], 64);
const quiet = { onWarning: () => {} };

test('cleaning follows openpi: strip, _ -> space, newline -> space, lowercase; punctuation splits', () => {
  assert.equal(splitWords('  Put_the BOWL\non the plate, now!  '), ['put', 'the', 'bowl', 'on', 'the', 'plate', ',', 'now', '!']);
});

test('BOS + words + "\\n", right-padded with 0 and a mask', () => {
  const tok = new WordTokenizer(vocab, quiet);
  const { ids, mask, length, truncated } = tok.encode('Put the bowl on the plate', 10);
  const w = (s: string) => vocab.tokens.indexOf(s);
  assert.equal(Array.from(ids), [BOS_ID, w('put'), w('the'), w('bowl'), w('on'), w('the'), w('plate'), NEWLINE_ID, 0, 0]);
  assert.equal(Array.from(mask), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  assert.is(length, 8);
  assert.is(truncated, false);
});

test('deterministic: same sentences give the same vocab and the same ids', () => {
  const v2 = buildVocab(['open the drawer', 'put the mug on the plate', 'put the bowl on the plate'], 64);
  assert.equal(v2, vocab);
  assert.equal(vocab.tokens.slice(4, 7), ['the', 'on', 'plate']); // by count, then alphabetical
  const a = new WordTokenizer(vocab, quiet).encode('open the mug drawer', 8).ids;
  const b = new WordTokenizer(v2, quiet).encode('open the mug drawer', 8).ids;
  assert.equal(Array.from(a), Array.from(b));
});

test('unknown words and ids past vocabLimit map to <unk>', () => {
  const ids = new WordTokenizer(vocab, quiet).encode('put the zebra', 6).ids;
  assert.is(ids[3], UNK_ID);
  const limited = new WordTokenizer(vocab, { ...quiet, vocabLimit: 6 }); // keeps 'the' (4) and 'on' (5)
  assert.equal(Array.from(limited.encode('the plate on', 5).ids), [BOS_ID, 4, UNK_ID, 5, NEWLINE_ID]);
  assert.is(limited.vocabSize, 6);
});

test('truncation keeps the first max_len tokens and warns once per prompt', () => {
  const warnings: string[] = [];
  const tok = new WordTokenizer(vocab, { onWarning: (m) => warnings.push(m) });
  const r = tok.encode('put the bowl on the plate', 4);
  assert.equal(Array.from(r.ids), Array.from(tok.encode('put the bowl on the plate', 8).ids.subarray(0, 4)));
  assert.equal(Array.from(r.mask), [1, 1, 1, 1]);
  assert.is(r.truncated, true);
  tok.encode('put the bowl on the plate', 4);
  assert.is(warnings.length, 1);
  assert.ok(warnings[0].includes('truncated'));
});

test('encodeInto writes one row of a batch buffer', () => {
  const tok = new WordTokenizer(vocab, quiet);
  const ids = new Int32Array(12).fill(-1);
  const mask = new Uint8Array(12).fill(9);
  tok.encodeInto('open the drawer', ids, mask, 6, 6);
  assert.equal(Array.from(ids.subarray(0, 6)), [-1, -1, -1, -1, -1, -1]);
  assert.equal(Array.from(ids.subarray(6)), Array.from(tok.encode('open the drawer', 6).ids));
  assert.equal(Array.from(mask.subarray(6)), [1, 1, 1, 1, 1, 0]);
});

test('bad vocab files name the file and key', () => {
  const f = path.join(tmp, 'bad-vocab.json');
  writeFileSync(f, JSON.stringify({ type: 'word', tokens: ['<pad>', '<bos>', '<unk>', '\n', 'a', 'a'] }));
  assert.throws(() => WordTokenizer.fromFile(f), (e: Error) => e.message.includes(f) && e.message.includes('tokens[5]'));
  writeFileSync(f, JSON.stringify({ type: 'bpe', tokens: [] }));
  assert.throws(() => WordTokenizer.fromFile(f), (e: Error) => e.message.includes(f) && e.message.includes('type'));
});

test('shipped vocab: rebuilt from its sources, fits the small preset, covers every LIBERO instruction', () => {
  const text = readFileSync(VOCAB_FILE, 'utf8');
  assert.is(text, vocabJson(buildVocab([...LIBERO_INSTRUCTIONS, ...COMMON_WORDS], VOCAB_SIZE)), 'regenerate configs/model/vocab.json (see test/model/fixtures/vocab-source.ts)');
  const tok = WordTokenizer.fromFile(VOCAB_FILE, quiet);
  const small = loadPi0Config('small');
  assert.ok(tok.vocabSize <= small.llm.vocab_size);
  checkTokenizerFitsModel(tok, small.llm.vocab_size, 'small');
  for (const s of LIBERO_INSTRUCTIONS) {
    const { ids, length } = tok.encode(s, 32);
    assert.ok(!ids.subarray(0, length).includes(UNK_ID), s);
  }
  assert.throws(() => checkTokenizerFitsModel(tok, loadPi0Config('tiny').llm.vocab_size, 'tiny'), /vocabLimit: 64/);
});

test.run();
