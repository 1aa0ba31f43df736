// Training windows of an episode (design note pi0-cfg-flow-in-ript, §3): a window starts every `stride` steps and
// supervises the next `horizon` actions from the observation at its start. A window that runs past the episode's end
// is padded (`action_is_pad` masks the missing steps out of the loss) or skipped.
import { RiptideError } from '../errors.ts';

export interface WindowOptions {
  horizon: number;
  stride: number;
  tail: 'pad' | 'skip';
}

export interface Window {
  /** First step of the window. */
  start: number;
  /** Steps of the window that exist (the rest are padding). */
  valid: number;
}

/** Windows of an episode of `length` executed steps. */
export function sliceWindows(length: number, o: WindowOptions): Window[] {
  if (!(Number.isInteger(o.stride) && o.stride >= 1)) throw new RiptideError(`algo.window_stride must be a positive integer, got ${o.stride}`);
  const out: Window[] = [];
  for (let start = 0; start < length; start += o.stride) {
    const valid = Math.min(o.horizon, length - start);
    if (valid < o.horizon && o.tail === 'skip') break;
    out.push({ start, valid });
  }
  return out;
}

/** The action_is_pad row of a window: 1 for the steps past the episode's end. */
export function padMask(w: Window, horizon: number): Uint8Array {
  const m = new Uint8Array(horizon);
  m.fill(1, w.valid);
  return m;
}
