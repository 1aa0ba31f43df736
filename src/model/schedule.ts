// Learning-rate schedules. warmupCosine is optax.warmup_cosine_decay_schedule as openpi configures it
// (pi0.md §4): linear warmup from peak/(warmup+1) to peak over `warmup` steps, then cosine decay to `floor`
// at step `total` (total counts the warmup steps), constant after.
import { ModelInputError } from './errors.ts';

export interface WarmupCosineOptions {
  warmup: number; // steps of linear warmup
  total: number; // step where the decay reaches `floor` (openpi decay_steps, 30k)
  peak: number; // openpi 2.5e-5
  floor: number; // openpi 2.5e-6
}

export function warmupCosine(step: number, o: WarmupCosineOptions): number {
  if (!(o.warmup >= 0 && o.total >= o.warmup && o.peak >= 0 && o.floor >= 0)) {
    throw new ModelInputError('warmupCosine', `options ${JSON.stringify(o)} need 0 <= warmup <= total and peak, floor >= 0`, 'pass e.g. { warmup: 1000, total: 30000, peak: 2.5e-5, floor: 2.5e-6 }.');
  }
  const s = Math.max(0, step);
  if (s < o.warmup) {
    const init = o.peak / (o.warmup + 1);
    return init + ((o.peak - init) * s) / o.warmup;
  }
  const span = o.total - o.warmup;
  if (span === 0) return o.floor;
  const t = Math.min(s - o.warmup, span) / span;
  return o.floor + (o.peak - o.floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}
