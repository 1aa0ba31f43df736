// Atomic file replacement: write a temp file in the same folder, fsync, rename over the target.
// A crash or a throw mid-write leaves the previous file untouched and no temp file behind.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

let counter = 0;

/** A temp path next to `file` (same folder, so the rename stays on one filesystem). */
export function tempSibling(file: string): string {
  counter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${counter}`);
}

/** Open a temp sibling, let `write` fill it through its fd, then fsync and rename it over `file`. */
export function withAtomicFile(file: string, write: (fd: number) => void): void {
  const tmp = tempSibling(file);
  const fd = openSync(tmp, 'w');
  let closed = false;
  try {
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(tmp, file);
  } catch (e) {
    if (!closed) {
      try {
        closeSync(fd);
      } catch {
        /* already failing; the original error matters */
      }
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Write every byte of `data` at the fd's current position (writeSync may write less than asked). */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  withAtomicFile(file, (fd) => writeAll(fd, bytes));
}
