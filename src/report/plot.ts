// Line charts for the training report, with no dependency: one layout (axes with round-number ticks, legend rows
// under the plot) drawn two ways, as SVG text for the HTML page and rasterised onto an RGB buffer for a PNG
// (Bresenham lines, a 5x7 bitmap font), so the same figures can be looked at without a browser.
import { encodePng } from '../png.ts';

export interface Series {
  name: string;
  /** (x, y) points in x order; a null y is a gap in the line. */
  points: ReadonlyArray<readonly [number, number | null]>;
  /** '#rrggbb'; default: the palette colour of the series' index. */
  color?: string;
  /** Line width in pixels (default 1.5 in SVG, 1 in the PNG; 2 and up draw thick in both). */
  width?: number;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Y range always shown (e.g. [0, 1] for success rates); data outside it widens it. */
  yRange?: readonly [number, number];
  /** Total width in pixels (default 720). */
  width?: number;
  /** Height of the plot area in pixels (default 280); title, axes and legend add to it. */
  plotHeight?: number;
}

/** Tableau 10: distinct on white and for the common colour-vision deficiencies. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Series with at most this many points get a marker on every point. */
const MARKER_MAX_POINTS = 30;

export interface Axis {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
}

/** Round-number ticks (1, 2 or 5 times a power of ten) covering [min, max] with about `target` intervals. */
export function niceAxis(min: number, max: number, target: number): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = Math.abs(min) * 0.1 || 1;
    [min, max] = [min - pad, max + pad];
  }
  const raw = (max - min) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  // Snap to the grid with a little tolerance, so 0.6 / 0.2 counts as 3 and not 3.0000000000000004.
  const k0 = Math.floor(min / step + 1e-9);
  const k1 = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) ticks.push(k * step);
  return { lo: k0 * step, hi: k1 * step, step, ticks };
}

/** A tick label with as many decimals as the step needs; 12000 -> 12k, 1500000 -> 1.5M. */
export function formatTick(v: number, step: number): string {
  if (Math.abs(v) < step * 1e-6) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 && step >= 1e5) return `${trim((v / 1e6).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e6)))))}M`;
  if (a >= 1e4 && step >= 1e3) return `${trim((v / 1e3).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e3)))))}k`;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (decimals > 6) return v.toExponential(1);
  return v.toFixed(decimals);
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

// ---------------------------------------------------------------- layout

interface LegendItem {
  series: number;
  x: number;
  y: number;
}

interface Layout {
  width: number;
  height: number;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  x: Axis;
  y: Axis;
  colors: string[];
  legend: LegendItem[];
  /** Top of the legend block. */
  legendTop: number;
  px(v: number): number;
  py(v: number): number;
}

const MARGIN = { left: 64, right: 24, top: 34, bottom: 44 };
const LEGEND_ROW = 16;
const SWATCH = 18;

function layout(chart: Chart, charW: number): Layout {
  const width = chart.width ?? 720;
  const plotH = chart.plotHeight ?? 280;
  const left = MARGIN.left;
  const top = MARGIN.top;
  const plotW = width - MARGIN.left - MARGIN.right;
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = chart.yRange ? chart.yRange[0] : Infinity;
  let yMax = chart.yRange ? chart.yRange[1] : -Infinity;
  for (const s of chart.series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x)) continue;
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      if (y === null || !Number.isFinite(y)) continue;
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  const x = niceAxis(xMin, xMax, 6);
  const y = niceAxis(yMin, yMax, 5);
  const colors = chart.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  // Legend: items flow left to right in rows under the x-axis label.
  const legendTop = top + plotH + MARGIN.bottom;
  const items: LegendItem[] = [];
  let cx = left;
  let row = 0;
  chart.series.forEach((s, i) => {
    const w = SWATCH + 6 + s.name.length * charW + 16;
    if (cx > left && cx + w > left + plotW) {
      cx = left;
      row++;
    }
    items.push({ series: i, x: cx, y: legendTop + row * LEGEND_ROW });
    cx += w;
  });
  const rows = chart.series.length ? row + 1 : 0;
  const height = legendTop + rows * LEGEND_ROW + 8;
  return {
    width,
    height,
    left,
    top,
    plotW,
    plotH,
    x,
    y,
    colors,
    legend: items,
    legendTop,
    px: (v) => left + ((v - x.lo) / (x.hi - x.lo)) * plotW,
    py: (v) => top + plotH - ((v - y.lo) / (y.hi - y.lo)) * plotH,
  };
}

/** Runs of consecutive finite points: the pieces a line is drawn in. */
function segments(s: Series): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  for (const [x, y] of s.points) {
    if (y === null || !Number.isFinite(y) || !Number.isFinite(x)) {
      if (cur.length) out.push(cur);
      cur = [];
    } else {
      cur.push([x, y]);
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

function wantsMarkers(s: Series, run: ReadonlyArray<unknown>): boolean {
  return s.points.length <= MARKER_MAX_POINTS || run.length === 1;
}

// ---------------------------------------------------------------- SVG

const FONT = 11;
const SVG_CHAR_W = FONT * 0.6;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

/** The chart as a standalone <svg> element; each series is one <path> (gaps as separate subpaths) in a <g>. */
export function chartSvg(chart: Chart): string {
  const L = layout(chart, SVG_CHAR_W);
  const out: string[] = [];
  const bottom = L.top + L.plotH;
  const right = L.left + L.plotW;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" ` +
      `font-family="sans-serif" font-size="${FONT}" role="img" aria-label="${escapeXml(chart.title)}">`,
  );
  out.push(`<title>${escapeXml(chart.title)}</title>`);
  out.push(`<rect width="${L.width}" height="${L.height}" fill="#ffffff"/>`);
  out.push(`<text x="${L.left}" y="${L.top - 14}" font-size="14" font-weight="bold">${escapeXml(chart.title)}</text>`);
  out.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of L.y.ticks) out.push(`<line x1="${L.left}" x2="${right}" y1="${f1(L.py(t))}" y2="${f1(L.py(t))}"/>`);
  for (const t of L.x.ticks) out.push(`<line x1="${f1(L.px(t))}" x2="${f1(L.px(t))}" y1="${L.top}" y2="${bottom}"/>`);
  out.push('</g>');
  out.push('<g class="axes" stroke="#444444" stroke-width="1">');
  out.push(`<line x1="${L.left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>`);
  out.push(`<line x1="${L.left}" x2="${L.left}" y1="${L.top}" y2="${bottom}"/>`);
  for (const t of L.x.ticks) out.push(`<line x1="${f1(L.px(t))}" x2="${f1(L.px(t))}" y1="${bottom}" y2="${bottom + 4}"/>`);
  for (const t of L.y.ticks) out.push(`<line x1="${L.left - 4}" x2="${L.left}" y1="${f1(L.py(t))}" y2="${f1(L.py(t))}"/>`);
  out.push('</g>');
  out.push('<g class="ticks" fill="#444444">');
  for (const t of L.x.ticks) {
    out.push(`<text x="${f1(L.px(t))}" y="${bottom + 16}" text-anchor="middle">${formatTick(t, L.x.step)}</text>`);
  }
  for (const t of L.y.ticks) {
    out.push(`<text x="${L.left - 7}" y="${f1(L.py(t) + 4)}" text-anchor="end">${formatTick(t, L.y.step)}</text>`);
  }
  out.push('</g>');
  out.push(`<text x="${f1(L.left + L.plotW / 2)}" y="${bottom + 34}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  const yl = `${14},${f1(L.top + L.plotH / 2)}`;
  out.push(`<text transform="translate(${yl}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    const color = L.colors[i];
    const w = s.width ?? 1.5;
    const runs = segments(s);
    const d = runs.map((run) => run.map(([x, y], j) => `${j ? 'L' : 'M'}${f1(L.px(x))} ${f1(L.py(y))}`).join(' ')).join(' ');
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${w}" stroke-linejoin="round"${dash(i, s)}/>`);
    for (const run of runs) {
      if (!wantsMarkers(s, run)) continue;
      for (const [x, y] of run) out.push(`<circle cx="${f1(L.px(x))}" cy="${f1(L.py(y))}" r="${w >= 2 ? 3 : 2.5}" fill="${color}"/>`);
    }
    out.push('</g>');
  });
  out.push('<g class="legend">');
  L.legend.forEach(({ series, x, y }) => {
    const s = chart.series[series];
    const color = L.colors[series];
    out.push(
      `<line x1="${x}" x2="${x + SWATCH}" y1="${y + 6}" y2="${y + 6}" stroke="${color}" stroke-width="${Math.max(2, s.width ?? 2)}"${dash(series, s)}/>` +
        `<text x="${x + SWATCH + 6}" y="${y + 10}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n');
}

/** Series past the palette length repeat its colours, dashed, so they stay distinguishable. */
function dash(i: number, s: Series): string {
  return !s.color && i >= PALETTE.length ? ' stroke-dasharray="6 3"' : '';
}

// ---------------------------------------------------------------- raster

/** 5x7 glyphs: 7 rows of 5 bits (bit 4 = leftmost column), as 14 hex digits. Lower case draws as upper case. */
const GLYPHS: Record<string, string> = {
  '0': '0e11131519110e',
  '1': '040c040404040e',
  '2': '0e11010204081f',
  '3': '1f02040201110e',
  '4': '02060a121f0202',
  '5': '1f101e0101110e',
  '6': '0608101e11110e',
  '7': '1f010204080808',
  '8': '0e11110e11110e',
  '9': '0e11110f01020c',
  A: '0e1111111f1111',
  B: '1e11111e11111e',
  C: '0e11101010110e',
  D: '1c12111111121c',
  E: '1f10101e10101f',
  F: '1f10101e101010',
  G: '0e11101711110f',
  H: '1111111f111111',
  I: '0e04040404040e',
  J: '0702020202120c',
  K: '11121418141211',
  L: '1010101010101f',
  M: '111b1515111111',
  N: '11111915131111',
  O: '0e11111111110e',
  P: '1e11111e101010',
  Q: '0e11111115120d',
  R: '1e11111e141211',
  S: '0f10100e01011e',
  T: '1f040404040404',
  U: '1111111111110e',
  V: '11111111110a04',
  W: '1111111515150a',
  X: '11110a040a1111',
  Y: '1111110a040404',
  Z: '1f01020408101f',
  '.': '00000000000c0c',
  ',': '000000000c0408',
  '-': '0000001f000000',
  '+': '0004041f040400',
  '=': '00001f001f0000',
  _: '0000000000001f',
  '/': '00010204081000',
  ':': '000c0c000c0c00',
  '%': '18190204081303',
  '(': '02040808080402',
  ')': '08040202020408',
  '?': '0e110102040004',
  ' ': '00000000000000',
};

function glyphRows(ch: string): number[] {
  const hex = GLYPHS[ch.toUpperCase()] ?? GLYPHS['?'];
  const rows: number[] = [];
  for (let r = 0; r < 7; r++) rows.push(parseInt(hex.slice(r * 2, r * 2 + 2), 16));
  return rows;
}

/** Advance of one character of the bitmap font at scale 1 (5 columns and a gap). */
export const GLYPH_ADVANCE = 6;

function hexRgb(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/** An RGB8 image to draw on, top row first (what encodePng takes). */
export class RgbCanvas {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;

  /** A new white (or `background`) image, or drawing straight onto existing `pixels` (e.g. a video frame). */
  constructor(width: number, height: number, opts: { background?: string; pixels?: Uint8Array } = {}) {
    this.width = width;
    this.height = height;
    if (opts.pixels && opts.pixels.length !== width * height * 3) {
      throw new RangeError(`RgbCanvas: ${width}x${height} needs ${width * height * 3} bytes, got ${opts.pixels.length}`);
    }
    this.rgb = opts.pixels ?? new Uint8Array(width * height * 3);
    if (!opts.pixels) this.fillRect(0, 0, width, height, opts.background ?? '#ffffff');
  }

  set(x: number, y: number, c: readonly [number, number, number]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.rgb[i] = c[0];
    this.rgb[i + 1] = c[1];
    this.rgb[i + 2] = c[2];
  }

  fillRect(x: number, y: number, w: number, h: number, color: string): void {
    const c = hexRgb(color);
    for (let j = Math.max(0, Math.round(y)); j < Math.min(this.height, Math.round(y + h)); j++) {
      for (let i = Math.max(0, Math.round(x)); i < Math.min(this.width, Math.round(x + w)); i++) this.set(i, j, c);
    }
  }

  /** Bresenham line with a square brush of `thickness` pixels; dash: on/off lengths in pixels. */
  line(x0: number, y0: number, x1: number, y1: number, color: string, thickness = 1, dash?: readonly [number, number]): void {
    const c = hexRgb(color);
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    const lo = -Math.floor((thickness - 1) / 2);
    const hi = lo + Math.max(1, Math.round(thickness)) - 1;
    for (let n = 0; ; n++) {
      if (!dash || n % (dash[0] + dash[1]) < dash[0]) {
        for (let j = lo; j <= hi; j++) for (let i = lo; i <= hi; i++) this.set(x0 + i, y0 + j, c);
      }
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  disc(cx: number, cy: number, r: number, color: string): void {
    const c = hexRgb(color);
    for (let j = -Math.ceil(r); j <= Math.ceil(r); j++) {
      for (let i = -Math.ceil(r); i <= Math.ceil(r); i++) if (i * i + j * j <= r * r + 0.5) this.set(cx + i, cy + j, c);
    }
  }

  /**
   * Text in the 5x7 font with its top-left corner at (x, y); `scale` multiplies every pixel. vertical: reads bottom
   * to top (a y-axis label), starting at (x, y) as its bottom-left corner.
   */
  text(x: number, y: number, s: string, color: string, scale = 1, vertical = false): void {
    const c = hexRgb(color);
    x = Math.round(x);
    y = Math.round(y);
    [...s].forEach((ch, k) => {
      const rows = glyphRows(ch);
      for (let r = 0; r < 7; r++) {
        for (let col = 0; col < 5; col++) {
          if (!(rows[r] & (1 << (4 - col)))) continue;
          for (let a = 0; a < scale; a++) {
            for (let b = 0; b < scale; b++) {
              if (vertical) this.set(x + r * scale + b, y - (k * GLYPH_ADVANCE + col) * scale - a, c);
              else this.set(x + (k * GLYPH_ADVANCE + col) * scale + a, y + r * scale + b, c);
            }
          }
        }
      }
    });
  }
}

export function textWidth(s: string, scale = 1): number {
  return s.length ? (s.length * GLYPH_ADVANCE - 1) * scale : 0;
}

/** The chart rasterised: same layout as the SVG, lines without anti-aliasing, labels in the bitmap font. */
export function chartRaster(chart: Chart): RgbCanvas {
  const L = layout(chart, GLYPH_ADVANCE);
  const cv = new RgbCanvas(L.width, L.height);
  const bottom = L.top + L.plotH;
  const right = L.left + L.plotW;
  cv.text(L.left, L.top - 24, chart.title, '#000000', 2);
  for (const t of L.y.ticks) cv.line(L.left, L.py(t), right, L.py(t), '#e6e6e6');
  for (const t of L.x.ticks) cv.line(L.px(t), L.top, L.px(t), bottom, '#e6e6e6');
  cv.line(L.left, bottom, right, bottom, '#444444');
  cv.line(L.left, L.top, L.left, bottom, '#444444');
  for (const t of L.x.ticks) {
    cv.line(L.px(t), bottom, L.px(t), bottom + 4, '#444444');
    const s = formatTick(t, L.x.step);
    cv.text(L.px(t) - textWidth(s) / 2, bottom + 8, s, '#444444');
  }
  for (const t of L.y.ticks) {
    cv.line(L.left - 4, L.py(t), L.left, L.py(t), '#444444');
    const s = formatTick(t, L.y.step);
    cv.text(L.left - 7 - textWidth(s), L.py(t) - 3, s, '#444444');
  }
  cv.text(L.left + L.plotW / 2 - textWidth(chart.xLabel) / 2, bottom + 26, chart.xLabel, '#444444');
  cv.text(10, L.top + L.plotH / 2 + textWidth(chart.yLabel) / 2, chart.yLabel, '#444444', 1, true);
  chart.series.forEach((s, i) => {
    const color = L.colors[i];
    const w = (s.width ?? 1) >= 2 ? 2 : 1;
    const d = !s.color && i >= PALETTE.length ? ([6, 3] as const) : undefined;
    for (const run of segments(s)) {
      for (let j = 1; j < run.length; j++) cv.line(L.px(run[j - 1][0]), L.py(run[j - 1][1]), L.px(run[j][0]), L.py(run[j][1]), color, w, d);
      if (wantsMarkers(s, run)) for (const [x, y] of run) cv.disc(L.px(x), L.py(y), w >= 2 ? 3 : 2, color);
    }
  });
  L.legend.forEach(({ series, x, y }) => {
    const s = chart.series[series];
    const d = !s.color && series >= PALETTE.length ? ([6, 3] as const) : undefined;
    cv.line(x, y + 5, x + SWATCH, y + 5, L.colors[series], 2, d);
    cv.text(x + SWATCH + 6, y + 2, s.name, '#222222');
  });
  return cv;
}

export function chartPng(chart: Chart): Buffer {
  const cv = chartRaster(chart);
  return encodePng(cv.rgb, cv.width, cv.height);
}
