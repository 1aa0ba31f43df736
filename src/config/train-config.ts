// The `riptide train` config: one zod schema (key names follow RIPT) whose defaults and .describe() texts are also
// the source of `riptide train --help`, so the help and the schema cannot drift apart.
import { z } from 'zod';

import { DEVICE_CHOICES } from '../model/device.ts';
import { loadConfig } from './load.ts';

export const int = (min: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be >= ${min}` });
export const num = () => z.number({ error: 'must be a number' });
export const bool = () => z.boolean({ error: 'must be true or false' });
export const str = () => z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });
export const device = () =>
  z
    .enum(DEVICE_CHOICES, { error: `must be one of ${DEVICE_CHOICES.join(', ')}` })
    .default('cpu')
    .describe('where the model runs: cpu, cuda (an NVIDIA GPU; an error without one) or auto (the GPU when present)');

// Every group may be left out: prefault parses {} through the group so each leaf takes its own default
// (every leaf has one, which TypeScript cannot see through the generic shape, hence the cast).
export const group = <S extends z.ZodRawShape>(shape: S) =>
  z.object(shape).strict().prefault({} as z.input<z.ZodObject<S, z.core.$strict>>);

export const TrainConfigSchema = z
  .object({
    seed: int(0).default(0).describe('seeds rollouts, sampler and learner noise'),
    output_dir: str().default('runs/train').describe('run folder: checkpoints, logs, rollout stats, videos'),
    policy: group({
      checkpoint: str().nullable().default(null).describe('riptide checkpoint folder to start from'),
      preset: str().default('small').describe('model preset when no checkpoint (tiny, small, pi0, or a JSON path)'),
    }),
    task: group({
      suite: str().nullable().default(null).describe('all tasks of a suite, e.g. libero_10'),
      tasks: z
        .array(str(), { error: 'must be a list of task refs' })
        .default([])
        .describe('explicit task refs (suite/index, names, .bddl paths)'),
      num_parallel_envs: int(1).default(2).describe('envs stepped together per task'),
      max_episode_length: int(1).nullable().default(null).describe("episode step cap; null: each task's own budget"),
      image_size: int(16).default(128).describe('camera width = height in pixels'),
    }),
    algo: group({
      rloo_batch_size: int(2).default(4).describe('rollouts per context (one RLOO group)'),
      demo_batch_size: int(1).default(4).describe('accepted groups (contexts) per step'),
      enable_dynamic_sampling: bool().default(true).describe('drop groups whose rollouts all succeed or all fail'),
      max_sample_attempts: int(1)
        .nullable()
        .default(null)
        .describe('cap on contexts drawn per step; null = 4 * demo_batch_size'),
      early_stop_percentage: num()
        .gt(0, { error: 'must be > 0' })
        .max(1, { error: 'must be <= 1' })
        .default(1.0)
        .describe('stop collecting once this fraction of demo_batch_size groups is accepted'),
      enable_rollout_stats_tracking: bool().default(true).describe('keep per-init-state outcomes in rollout_stats_path and skip mastered contexts'),
      rollout_stats_path: str().nullable().default(null).describe('null: <output_dir>/rollout_stats.json'),
      rollout_skip_threshold: int(1).default(3).describe('a context whose last N rollouts all succeeded is skipped'),
      execute_steps: int(1).default(50).describe('actions executed per chunk'),
      cfg_scale: num().min(0, { error: 'must be >= 0' }).default(1.0).describe('rollout sampling guidance'),
      flow_steps: int(1).default(10).describe('flow-matching integration steps per action chunk'),
      window_stride: int(1)
        .max(50, { error: 'must be <= 50 (windows are 50 steps long, a larger stride skips steps)' })
        .default(50)
        .describe('50-step windows start every window_stride steps'),
      supervise_steps: int(1)
        .max(50, { error: 'must be <= 50 (a window holds 50 actions)' })
        .nullable()
        .default(null)
        .describe('actions of each window in the loss, from its start; null = all 50. Set it and window_stride to execute_steps to train each window on what its own chunk decided'),
      tail_windows: z
        .enum(['pad', 'skip'], { error: "must be 'pad' or 'skip'" })
        .default('pad')
        .describe('an episode tail shorter than a window: pad it or skip it'),
      normalize_advantage: bool().default(false).describe('divide advantages by their std per step'),
      adv_max: num().gt(0, { error: 'must be > 0' }).default(5).describe('conditional weight w = clip(adv, 0, adv_max)'),
      uncond_weight: num().min(0, { error: 'must be >= 0' }).default(0.1).describe('alpha: weight of the unconditional loss'),
      micro_batch_size: int(1).default(8).describe('windows per forward/backward'),
      gradient_accumulation_steps: int(0)
        .default(0)
        .describe('micro-batches per optimizer step; 0 = all windows of a step in one'),
      lr: num().gt(0, { error: 'must be > 0' }).default(1e-5).describe('learning rate of the model group'),
      header_lr: num()
        .gt(0, { error: 'must be > 0' })
        .nullable()
        .default(null)
        .describe('learning rate of the action-head group; null = lr'),
      weight_decay: num().min(0, { error: 'must be >= 0' }).default(0).describe('AdamW weight decay'),
      warmup_steps: int(0).default(0).describe('linear warmup steps before the cosine decay'),
      min_lr_ratio: num()
        .min(0, { error: 'must be >= 0' })
        .max(1, { error: 'must be <= 1' })
        .default(0.1)
        .describe('cosine floor = lr * ratio at n_steps'),
      clip_grad_norm: num().min(0, { error: 'must be >= 0' }).default(1.0).describe('global grad-norm clip; 0 = off'),
      ema_decay: num()
        .min(0, { error: 'must be >= 0' })
        .lt(1, { error: 'must be < 1' })
        .default(0)
        .describe('EMA of the weights; 0 = no EMA'),
    }),
    training: group({
      n_steps: int(1).default(1000).describe('RL steps (rollouts + one CFG-Flow update each)'),
      log_freq: int(1).default(10).describe('evaluate every log_freq steps (and at step 0 and the last)'),
      save_freq: int(1).default(50).describe('checkpoint every save_freq steps'),
      keep_last: int(1).default(3).describe('checkpoints kept on disk'),
    }),
    eval: group({
      cfg_scale: num().min(0, { error: 'must be >= 0' }).default(1.0).describe('evaluation sampling guidance'),
      init_states: int(1).nullable().default(null).describe('held-out init states per task; null = all of the test split'),
      episodes_per_init: int(1).default(1).describe('episodes per init state'),
    }),
    features: group({
      save_video: bool().default(false).describe('write evaluation videos'),
      video_episodes: int(0).default(1).describe('videos per task per evaluation'),
    }),
    runtime: group({
      env_actors: int(1).default(2).describe('env worker threads'),
      mode: z
        .enum(['actors', 'serial'], { error: "must be 'actors' or 'serial'" })
        .default('actors')
        .describe('serial: envs on the main thread, for debugging'),
      pipeline: bool().default(false).describe('overlap env stepping with model inference'),
      max_batch: int(1).default(64).describe('largest inference batch'),
      threads: int(1).nullable().default(null).describe('model threads; null = all cores'),
      device: device(),
    }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const hasSuite = c.task.suite !== null;
    const hasTasks = c.task.tasks.length > 0;
    if (!hasSuite && !hasTasks) {
      ctx.addIssue({
        code: 'custom',
        path: ['task'],
        message: 'no tasks given: set task.suite (e.g. `task.suite: libero_10`) or task.tasks (e.g. `task.tasks: [libero_goal/0]`)',
      });
    }
    if (hasSuite && hasTasks) {
      ctx.addIssue({
        code: 'custom',
        path: ['task', 'tasks'],
        message: 'task.suite and task.tasks are both set: pick one (set the other to null / [])',
      });
    }
    const { early_stop_percentage: p, demo_batch_size: d } = c.algo;
    if (p * d < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['algo', 'early_stop_percentage'],
        message: `must be >= ${1 / d} so that early_stop_percentage * demo_batch_size (${d}) >= 1`,
      });
    }
  });

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export const { load: loadTrainConfig, help: trainConfigHelp } = commandConfig(TrainConfigSchema, 'train', 'configs/ript_libero10.yaml');

/**
 * A command's config functions: load(file?, overrides) validates against `schema`, its errors ending with where the
 * keys are listed (`riptide <command> --help`, the `example` file); help() is that list.
 */
export function commandConfig<T>(schema: z.ZodObject & z.ZodType<T>, command: string, example: string) {
  const hint = `run \`riptide ${command} --help\` for every key with its default, or see ${example}.`;
  return {
    load: (file?: string, overrides: string[] = []): T => loadConfig(schema, { file, overrides, hint }),
    help: (): string => configHelp(schema),
  };
}

/** `key (default)  description` for every leaf of a schema built from `group` and leaves with defaults, one per line. */
export function configHelp(schema: z.ZodObject): string {
  const rows: [string, string][] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [k, s] of Object.entries(shape)) {
      if (s instanceof z.ZodPrefault) {
        walk((s.unwrap() as z.ZodObject).shape, `${prefix}${k}.`);
      } else if (s instanceof z.ZodDefault) {
        const v: unknown = s._zod.def.defaultValue;
        rows.push([`${prefix}${k} (${typeof v === 'string' ? v : JSON.stringify(v)})`, s.description ?? '']);
      }
    }
  };
  walk(schema.shape, '');
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, d]) => `${k.padEnd(w)}  ${d}`).join('\n');
}
