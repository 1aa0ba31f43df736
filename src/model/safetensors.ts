// Our own safetensors reader/writer (no maintained npm package exists; the format is small).
// Layout: u64 LE header length N | N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}
// | raw little-endian tensor bytes, offsets relative to the end of the header. HF pads the header with spaces to a
// multiple of 8; we do the same when writing and never rely on it when reading (each tensor is read into its own
// aligned buffer, so misaligned offsets from other writers are fine). Tensors of any size are streamed in chunks.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { ModelFileError } from './errors.ts';
import { withAtomicFile, writeAll } from '../fs-atomic.ts';

export type SafetensorsReadDtype = 'F32' | 'BF16' | 'F16';
export type SafetensorsWriteDtype = 'F32' | 'BF16';

const BYTES: Record<SafetensorsReadDtype, number> = { F32: 4, BF16: 2, F16: 2 };
// Valid safetensors dtypes we do not convert; named so the error can say "unsupported" rather than "unknown".
const OTHER_DTYPES = new Set(['F64', 'F8_E4M3', 'F8_E5M2', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);
const MAX_HEADER_BYTES = 100 * 1024 * 1024; // HF's own limit
const CHUNK_BYTES = 1 << 26; // stream large tensors 64 MiB at a time

export interface TensorEntry {
  dtype: SafetensorsReadDtype;
  shape: number[];
  begin: number; // byte offset relative to the data section
  end: number;
}

export interface Tensor {
  dtype: SafetensorsReadDtype; // dtype on disk; data is always fp32
  shape: number[];
  data: Float32Array;
}

export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array;
}

export type Metadata = Record<string, string>;

// ---------------------------------------------------------------- bf16 / f16 scalar conversions

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** fp32 -> bf16 bits, round to nearest even; NaN stays a (quiet) NaN with its sign. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x007fffff) !== 0) return ((u >>> 16) | 0x0040) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bf16 bits -> fp32 (exact: bf16 is the upper half of an fp32). */
export function bf16BitsToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** IEEE half bits -> fp32 (exact, subnormals included). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// A 65536-entry table makes F16 decoding a lookup (256 KiB, built on first use).
let f16Table: Float32Array | undefined;
function f16Lookup(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  return f16Table;
}

// ---------------------------------------------------------------- reading

function fail(file: string, field: string | undefined, problem: string, fix: string): never {
  throw new ModelFileError(file, field, problem, fix);
}

const NOT_SAFETENSORS_FIX = 'check that this is a complete .safetensors file (re-download or re-export it).';

/** An open safetensors file: the header is parsed and checked; tensors are read on demand. */
export class SafetensorsReader {
  readonly file: string;
  readonly entries: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Metadata;
  private fd: number;
  private readonly dataStart: number;
  private scratch: Uint16Array | undefined;

  private constructor(file: string, fd: number, entries: Map<string, TensorEntry>, metadata: Metadata, dataStart: number) {
    this.file = file;
    this.fd = fd;
    this.entries = entries;
    this.metadata = metadata;
    this.dataStart = dataStart;
  }

  static open(file: string): SafetensorsReader {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(file, undefined, code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? (e as Error).message})`, 'check the path.');
    }
    try {
      const { entries, metadata, dataStart } = parseHeader(file, fd);
      return new SafetensorsReader(file, fd, entries, metadata, dataStart);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Read one tensor as fp32 into `dst` (length must equal the tensor's element count). */
  readInto(name: string, dst: Float32Array): void {
    const e = this.entries.get(name);
    if (!e) fail(this.file, name, 'no such tensor', `use one of the ${this.entries.size} tensor names in the header.`);
    const n = numel(e.shape);
    if (dst.length !== n) {
      throw new RangeError(`${this.file}: ${name}: destination has ${dst.length} elements, the tensor has ${n}`);
    }
    const pos = this.dataStart + e.begin;
    if (e.dtype === 'F32') {
      this.readBytes(new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength), pos, name);
      return;
    }
    const chunkElems = Math.min(n, CHUNK_BYTES / 2);
    if (!this.scratch || this.scratch.length < chunkElems) this.scratch = new Uint16Array(chunkElems);
    const half = this.scratch;
    const out32 = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
    const table = e.dtype === 'F16' ? f16Lookup() : undefined;
    for (let i0 = 0; i0 < n; i0 += chunkElems) {
      const m = Math.min(chunkElems, n - i0);
      this.readBytes(new Uint8Array(half.buffer, 0, m * 2), pos + i0 * 2, name);
      if (table) for (let i = 0; i < m; i++) dst[i0 + i] = table[half[i]];
      else for (let i = 0; i < m; i++) out32[i0 + i] = half[i] << 16;
    }
  }

  read(name: string): Tensor {
    const e = this.entries.get(name);
    if (!e) fail(this.file, name, 'no such tensor', `use one of the ${this.entries.size} tensor names in the header.`);
    const data = new Float32Array(numel(e.shape));
    this.readInto(name, data);
    return { dtype: e.dtype, shape: [...e.shape], data };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private readBytes(dst: Uint8Array, position: number, name: string): void {
    let off = 0;
    while (off < dst.byteLength) {
      const want = Math.min(CHUNK_BYTES, dst.byteLength - off);
      const got = readSync(this.fd, dst, off, want, position + off);
      if (got === 0) fail(this.file, name, 'file ended while reading tensor data (truncated?)', NOT_SAFETENSORS_FIX);
      off += got;
    }
  }
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function readExactly(file: string, fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const got = readSync(fd, buf, off, length - off, position + off);
    if (got === 0) fail(file, undefined, 'file ended inside the header (truncated?)', NOT_SAFETENSORS_FIX);
    off += got;
  }
  return buf;
}

function parseHeader(file: string, fd: number): { entries: Map<string, TensorEntry>; metadata: Metadata; dataStart: number } {
  const size = fstatSync(fd).size;
  if (size < 8) fail(file, undefined, `file is ${size} bytes, too short for a safetensors header`, NOT_SAFETENSORS_FIX);
  const headerLen64 = readExactly(file, fd, 8, 0).readBigUInt64LE(0);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) {
    fail(file, undefined, `header length ${headerLen64} is implausible (over 100 MiB): not a safetensors file?`, NOT_SAFETENSORS_FIX);
  }
  const headerLen = Number(headerLen64);
  if (8 + headerLen > size) {
    fail(file, undefined, `header says ${headerLen} bytes but the file has only ${size - 8} after the length (truncated?)`, NOT_SAFETENSORS_FIX);
  }
  const text = readExactly(file, fd, headerLen, 8).toString('utf8');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(file, undefined, `header is not JSON (${(e as Error).message})`, NOT_SAFETENSORS_FIX);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(file, undefined, 'header is not a JSON object', NOT_SAFETENSORS_FIX);
  }
  const dataStart = 8 + headerLen;
  const dataLen = size - dataStart;
  const entries = new Map<string, TensorEntry>();
  let metadata: Metadata = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, raw);
      continue;
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof r !== 'object' || r === null) fail(file, name, 'header entry is not an object', NOT_SAFETENSORS_FIX);
    const dtype = r.dtype;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) {
      const known = typeof dtype === 'string' && OTHER_DTYPES.has(dtype);
      fail(
        file,
        name,
        `${known ? 'unsupported' : 'unknown'} dtype ${JSON.stringify(dtype)} (this reader takes F32, BF16, F16)`,
        'convert the tensor to F32 or BF16 before loading (e.g. safetensors + torch: t.float()).',
      );
    }
    const shape = r.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(file, name, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`, NOT_SAFETENSORS_FIX);
    }
    const offs = r.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0]) {
      fail(file, name, `data_offsets ${JSON.stringify(offs)} is not [begin, end] with 0 <= begin <= end`, NOT_SAFETENSORS_FIX);
    }
    const d = dtype as SafetensorsReadDtype;
    const [begin, end] = offs as [number, number];
    const want = numel(shape as number[]) * BYTES[d];
    if (end - begin !== want) {
      fail(file, name, `data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${d}${JSON.stringify(shape)} needs ${want}`, NOT_SAFETENSORS_FIX);
    }
    if (end > dataLen) {
      fail(file, name, `data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLen} bytes (truncated?)`, NOT_SAFETENSORS_FIX);
    }
    entries.set(name, { dtype: d, shape: [...(shape as number[])], begin, end });
  }
  return { entries, metadata, dataStart };
}

function parseMetadata(file: string, raw: unknown): Metadata {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(file, '__metadata__', 'is not a JSON object of strings', NOT_SAFETENSORS_FIX);
  }
  const out: Metadata = {};
  // The format says string values; other writers sometimes store numbers, which we keep as their JSON text.
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** Read a whole file: every tensor as fp32, plus the metadata. */
export function readSafetensors(file: string): { tensors: Map<string, Tensor>; metadata: Metadata } {
  const r = SafetensorsReader.open(file);
  try {
    const tensors = new Map<string, Tensor>();
    for (const name of r.entries.keys()) tensors.set(name, r.read(name));
    return { tensors, metadata: { ...r.metadata } };
  } finally {
    r.close();
  }
}

// ---------------------------------------------------------------- writing

/**
 * Write tensors (fp32 in memory) as F32 or BF16 (round to nearest even), atomically: a temp file in the same folder
 * is renamed over `file` only after every byte is written and synced. Tensors keep the given order.
 */
export function writeSafetensors(
  file: string,
  tensors: Iterable<readonly [string, TensorToWrite]> | Readonly<Record<string, TensorToWrite>>,
  metadata: Metadata = {},
  dtype: SafetensorsWriteDtype = 'F32',
): void {
  if (dtype !== 'F32' && dtype !== 'BF16') {
    throw new ModelFileError(file, undefined, `cannot write dtype ${JSON.stringify(dtype)}`, "pass 'F32' or 'BF16'.");
  }
  const list: [string, TensorToWrite][] =
    Symbol.iterator in tensors
      ? [...(tensors as Iterable<readonly [string, TensorToWrite]>)].map(([n, t]) => [n, t])
      : Object.entries(tensors as Record<string, TensorToWrite>);
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new ModelFileError(file, `__metadata__.${k}`, `value is a ${typeof v}; safetensors metadata holds strings`, 'convert it with String() or JSON.stringify().');
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === '' || name === '__metadata__' || seen.has(name)) {
      throw new ModelFileError(file, name, 'tensor name is empty, reserved or repeated', 'give every tensor a distinct name.');
    }
    seen.add(name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || numel(t.shape) !== t.data.length) {
      throw new ModelFileError(
        file,
        name,
        `shape ${JSON.stringify(t.shape)} does not match ${t.data.length} elements`,
        'pass a shape whose product is data.length.',
      );
    }
    const n = t.data.length * bytesPer;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0);

  withAtomicFile(file, (fd) => {
    writeAll(fd, prefix);
    writeAll(fd, headerBytes);
    let scratch: Uint16Array | undefined;
    for (const [, t] of list) {
      const data = t.data;
      if (dtype === 'F32') {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        for (let o = 0; o < bytes.byteLength; o += CHUNK_BYTES) writeAll(fd, bytes.subarray(o, Math.min(o + CHUNK_BYTES, bytes.byteLength)));
        continue;
      }
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      const chunk = Math.min(data.length, CHUNK_BYTES / 2);
      if (!scratch || scratch.length < chunk) scratch = new Uint16Array(chunk);
      for (let i0 = 0; i0 < data.length; i0 += chunk) {
        const m = Math.min(chunk, data.length - i0);
        for (let i = 0; i < m; i++) {
          const u = bits[i0 + i];
          scratch[i] =
            (u & 0x7f800000) === 0x7f800000 && (u & 0x007fffff) !== 0
              ? (u >>> 16) | 0x0040
              : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
        }
        writeAll(fd, new Uint8Array(scratch.buffer, 0, m * 2));
      }
    }
  });
}
