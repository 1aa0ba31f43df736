// Camera frames -> model input: uint8 HWC (optionally raw OpenGL row order, rotated 180° as LIBERO evals do)
// -> float in [-1, 1] -> resize-with-pad to S x S (tf/openpi resize_with_pad: scale = max(w/S, h/S), resized
// (int(h/scale), int(w/scale)), centred pad with the floor half on top/left, pad value -1 = black).
// Interpolation is bilinear with half-pixel centres and no antialiasing (torch align_corners=False, as lerobot;
// openpi's PIL path antialiases on downscale: pi0.md §9.9). A resizer precomputes its index/weight tables once per
// source shape, so run() allocates nothing and writes straight into the caller's batch buffer.

export interface ResizePlan {
  scale: number;
  resizedH: number;
  resizedW: number;
  padTop: number;
  padLeft: number;
}

/** The resize_with_pad geometry, with Python's float semantics (int() truncates). */
export function resizeWithPadPlan(h: number, w: number, size: number): ResizePlan {
  if (!(h > 0 && w > 0 && size > 0)) throw new RangeError(`image ${h}x${w} -> ${size}: sizes must be positive`);
  const scale = Math.max(w / size, h / size);
  const resizedH = Math.max(1, Math.trunc(h / scale));
  const resizedW = Math.max(1, Math.trunc(w / scale));
  return { scale, resizedH, resizedW, padTop: Math.floor((size - resizedH) / 2), padLeft: Math.floor((size - resizedW) / 2) };
}

export interface ImageResizerOptions {
  rotate180?: boolean; // the source is raw OpenGL order (bottom row first): feed img[::-1, ::-1]
  channels?: number; // default 3
}

/** Bilinear resize-with-pad for one source shape; reuse it for every frame of that shape. */
export class ImageResizer {
  readonly srcH: number;
  readonly srcW: number;
  readonly size: number;
  readonly channels: number;
  readonly plan: ResizePlan;
  // Per output row/column: the two source rows/columns (already flipped for rotate180) and the weight of the second.
  private readonly y0: Int32Array;
  private readonly y1: Int32Array;
  private readonly wy: Float32Array;
  private readonly x0: Int32Array;
  private readonly x1: Int32Array;
  private readonly wx: Float32Array;

  constructor(srcH: number, srcW: number, size: number, opts: ImageResizerOptions = {}) {
    this.srcH = srcH;
    this.srcW = srcW;
    this.size = size;
    this.channels = opts.channels ?? 3;
    this.plan = resizeWithPadPlan(srcH, srcW, size);
    const flip = opts.rotate180 ?? false;
    const axis = (inLen: number, outLen: number) => {
      const i0 = new Int32Array(outLen);
      const i1 = new Int32Array(outLen);
      const w1 = new Float32Array(outLen);
      const ratio = inLen / outLen;
      for (let o = 0; o < outLen; o++) {
        const s = Math.max(0, (o + 0.5) * ratio - 0.5);
        const a = Math.min(Math.floor(s), inLen - 1);
        const b = Math.min(a + 1, inLen - 1);
        i0[o] = flip ? inLen - 1 - a : a;
        i1[o] = flip ? inLen - 1 - b : b;
        w1[o] = s - a > 1 ? 1 : s - a;
      }
      return [i0, i1, w1] as const;
    };
    [this.y0, this.y1, this.wy] = axis(srcH, this.plan.resizedH);
    [this.x0, this.x1, this.wx] = axis(srcW, this.plan.resizedW);
  }

  /** Write size*size*channels floats in [-1, 1] into dst[dstOffset ...]. `src` is srcH*srcW*channels uint8, HWC. */
  run(src: Uint8Array, dst: Float32Array, dstOffset = 0): void {
    const { srcH, srcW, size, channels: C } = this;
    const { resizedH, resizedW, padTop, padLeft } = this.plan;
    if (src.length !== srcH * srcW * C) {
      throw new RangeError(`image has ${src.length} bytes; a ${srcH}x${srcW}x${C} frame has ${srcH * srcW * C}`);
    }
    const outLen = size * size * C;
    if (dstOffset < 0 || dstOffset + outLen > dst.length) {
      throw new RangeError(`destination slice [${dstOffset}, ${dstOffset + outLen}) is outside a buffer of ${dst.length}`);
    }
    if (resizedH < size || resizedW < size) dst.fill(-1, dstOffset, dstOffset + outLen);
    const rowStride = srcW * C;
    for (let oy = 0; oy < resizedH; oy++) {
      const r0 = this.y0[oy] * rowStride;
      const r1 = this.y1[oy] * rowStride;
      const fy = this.wy[oy];
      let o = dstOffset + ((padTop + oy) * size + padLeft) * C;
      for (let ox = 0; ox < resizedW; ox++) {
        const c0 = this.x0[ox] * C;
        const c1 = this.x1[ox] * C;
        const fx = this.wx[ox];
        for (let c = 0; c < C; c++) {
          const top = src[r0 + c0 + c] + (src[r0 + c1 + c] - src[r0 + c0 + c]) * fx;
          const bot = src[r1 + c0 + c] + (src[r1 + c1 + c] - src[r1 + c0 + c]) * fx;
          dst[o++] = ((top + (bot - top) * fy) / 255) * 2 - 1;
        }
      }
    }
  }
}

const resizers = new Map<string, ImageResizer>();

/**
 * One-call form: uint8 HWC frame -> the model's S x S x 3 floats at dst[dstOffset]. Resizers are cached per
 * (h, w, size, rotate180), so steady-state calls allocate nothing.
 */
export function preprocessImage(
  src: Uint8Array,
  h: number,
  w: number,
  size: number,
  dst: Float32Array,
  dstOffset = 0,
  opts: { rotate180?: boolean } = {},
): void {
  const rotate = opts.rotate180 ?? false;
  const key = `${h}x${w}>${size}${rotate ? 'r' : ''}`;
  let r = resizers.get(key);
  if (!r) {
    r = new ImageResizer(h, w, size, { rotate180: rotate });
    resizers.set(key, r);
  }
  r.run(src, dst, dstOffset);
}
