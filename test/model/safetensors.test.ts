// safetensors read/write: exact F32 round trip, BF16 rounding, F16 and misaligned input, clear errors naming the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  bf16BitsToF32,
  f32ToBf16Bits,
  readSafetensors,
  SafetensorsReader,
  writeSafetensors,
  type TensorToWrite,
} from '../../src/model/safetensors.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-st-'));
const file = (name: string) => path.join(tmp, name);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Hand-built file: header JSON as given, data bytes as given. */
function rawFile(name: string, header: unknown, data: Uint8Array, headerText?: string): string {
  const h = Buffer.from(headerText ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const p = file(name);
  writeFileSync(p, Buffer.concat([len, h, data]));
  return p;
}

test('F32 round trip is bit-exact, keeps order, shape and metadata', () => {
  const special = new Float32Array([0, -0, 1, -1.5, 3.4028234663852886e38, 1e-45, Infinity, -Infinity, NaN, Math.PI]);
  const big = new Float32Array(1000).map((_, i) => Math.sin(i) * 1e3);
  const p = file('f32.safetensors');
  writeSafetensors(p, [['z.last', { shape: [2, 5], data: special }], ['a.first', { shape: [10, 10, 10], data: big }], ['empty', { shape: [0, 3], data: new Float32Array(0) }]], { step: '7' });
  const { tensors, metadata } = readSafetensors(p);
  assert.equal([...tensors.keys()], ['z.last', 'a.first', 'empty']);
  assert.equal(metadata, { step: '7' });
  assert.equal(tensors.get('z.last')!.shape, [2, 5]);
  assert.is(tensors.get('z.last')!.dtype, 'F32');
  assert.equal(bits(tensors.get('z.last')!.data), bits(special));
  assert.equal(bits(tensors.get('a.first')!.data), bits(big));
  assert.is(tensors.get('empty')!.data.length, 0);
  // HF alignment: the header is padded to a multiple of 8 bytes.
  assert.is(Number(readFileSync(p).readBigUInt64LE(0)) % 8, 0);
});

test('BF16 rounds to nearest even on hand values', () => {
  const cases: [number, number][] = [
    [1, 0x3f80],
    [-2.5, 0xc020],
    [1 + 2 ** -8, 0x3f80], // exactly halfway between 0x3f80 and 0x3f81: ties to even (down)
    [1 + 3 * 2 ** -8, 0x3f82], // halfway between 0x3f81 and 0x3f82: ties to even (up)
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just above halfway: up
    [1 + 2 ** -9, 0x3f80], // below halfway: down
    [3.4028234663852886e38, 0x7f80], // max float rounds up to +inf
    [-Infinity, 0xff80],
  ];
  for (const [x, want] of cases) assert.is(f32ToBf16Bits(x), want, `bf16(${x})`);
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  // The bulk writer uses the same rounding.
  const p = file('bf16-hand.safetensors');
  writeSafetensors(p, { x: { shape: [cases.length], data: new Float32Array(cases.map((c) => c[0])) } }, {}, 'BF16');
  const back = readSafetensors(p).tensors.get('x')!;
  assert.is(back.dtype, 'BF16');
  assert.equal(Array.from(back.data), cases.map((c) => bf16BitsToF32(c[1])));
});

test('BF16 round trip is exact on bf16-representable values', () => {
  const src = new Float32Array(4096);
  for (let i = 0; i < src.length; i++) {
    let b = (i * 40503) & 0xffff;
    if ((b & 0x7f80) === 0x7f80) b &= 0xbfff; // skip inf/NaN exponents
    src[i] = bf16BitsToF32(b);
  }
  const p = file('bf16.safetensors');
  writeSafetensors(p, { w: { shape: [64, 64], data: src } }, {}, 'BF16');
  assert.equal(bits(readSafetensors(p).tensors.get('w')!.data), bits(src));
  assert.is(readFileSync(p).length, 8 + Number(readFileSync(p).readBigUInt64LE(0)) + 4096 * 2);
});

test('reads F16 and misaligned offsets from other writers', () => {
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555]);
  const f32 = new Float32Array([1.25, -7, 1e-3, 42]);
  // One padding byte before the F32 tensor puts it at an odd file offset; the header is not 8-aligned either.
  const data = Buffer.concat([Buffer.from(f16.buffer), Buffer.from([0xee]), Buffer.from(f32.buffer)]);
  const p = rawFile('odd.safetensors', {
    h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] },
    f: { dtype: 'F32', shape: [2, 2], data_offsets: [13, 29] },
    __metadata__: { n: 3 },
  }, data);
  const { tensors, metadata } = readSafetensors(p);
  assert.equal(Array.from(tensors.get('h')!.data), [1, -2, 65504, 2 ** -24, Infinity, Math.fround(0.333251953125)]);
  assert.equal(Array.from(tensors.get('f')!.data), Array.from(f32));
  assert.equal(metadata, { n: '3' });
});

function throwsNaming(fn: () => unknown, ...needles: string[]): void {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    for (const n of needles) assert.ok(msg.includes(n), `expected ${JSON.stringify(n)} in: ${msg}`);
    return;
  }
  assert.unreachable('expected an error');
}

test('truncated, garbage and malformed files fail naming the file', () => {
  const good = file('good.safetensors');
  writeSafetensors(good, { t: { shape: [16], data: new Float32Array(16).fill(2) } });
  const bytes = readFileSync(good);
  const cut = file('cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
  throwsNaming(() => readSafetensors(cut), cut, 't: data_offsets', 'out of range');
  const tiny = file('tiny.safetensors');
  writeFileSync(tiny, Buffer.from([1, 2, 3]));
  throwsNaming(() => readSafetensors(tiny), tiny, 'too short');
  const headless = file('headless.safetensors');
  writeFileSync(headless, bytes.subarray(0, 20));
  throwsNaming(() => readSafetensors(headless), headless, 'truncated');
  const garbage = rawFile('garbage.safetensors', null, new Uint8Array(0), 'this is {not json');
  throwsNaming(() => readSafetensors(garbage), garbage, 'not JSON');
  const text = file('text.safetensors');
  writeFileSync(text, 'hello world, this is not a tensor file at all');
  throwsNaming(() => readSafetensors(text), text);
  throwsNaming(() => readSafetensors(file('absent.safetensors')), 'absent.safetensors', 'not found');
  const q = rawFile('dtype.safetensors', { w: { dtype: 'Q9', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  throwsNaming(() => readSafetensors(q), q, 'w', 'unknown dtype "Q9"');
  const i64 = rawFile('i64.safetensors', { w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
  throwsNaming(() => readSafetensors(i64), i64, 'unsupported dtype "I64"');
  const span = rawFile('span.safetensors', { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
  throwsNaming(() => readSafetensors(span), span, 'w', 'needs 12');
  const far = rawFile('far.safetensors', { w: { dtype: 'F32', shape: [2], data_offsets: [100, 108] } }, new Uint8Array(8));
  throwsNaming(() => readSafetensors(far), far, 'out of range');
});

test('writes are atomic: a failure mid-write keeps the previous file and leaves no temp file', () => {
  const p = file('atomic.safetensors');
  writeSafetensors(p, { keep: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
  const before = readFileSync(p);
  // Validation passes (first access to .data); the second access, while writing bytes, throws.
  let reads = 0;
  const exploding: TensorToWrite = {
    shape: [2],
    get data(): Float32Array {
      reads += 1;
      if (reads > 1) throw new Error('disk on fire');
      return new Float32Array(2);
    },
  };
  throwsNaming(() => writeSafetensors(p, [['a', { shape: [1], data: new Float32Array(1) }], ['b', exploding]]), 'disk on fire');
  throwsNaming(() => writeSafetensors(p, { bad: { shape: [3], data: new Float32Array(2) } }), p, 'bad', 'does not match 2 elements');
  assert.ok(readFileSync(p).equals(before));
  assert.equal(readdirSync(tmp).filter((f) => f.includes('.tmp-')), []);
});

test('reader streams one tensor into a caller buffer', () => {
  const p = file('into.safetensors');
  writeSafetensors(p, { a: { shape: [3], data: new Float32Array([1, 2, 3]) }, b: { shape: [2], data: new Float32Array([4, 5]) } }, {}, 'BF16');
  const r = SafetensorsReader.open(p);
  const slab = new Float32Array(6);
  r.readInto('b', slab.subarray(1, 3));
  r.close();
  assert.equal(Array.from(slab), [0, 4, 5, 0, 0, 0]);
});

test.run();
