// The `riptide sft` config: supervised flow matching on demonstrations (full-step enumeration), with the same
// conventions as the train config (every key has a default; `riptide sft --help` is generated from this schema).
import { z } from 'zod';

import { commandConfig, device, group, int, num, str } from './train-config.ts';

export const SftConfigSchema = z
  .object({
    seed: int(0).default(0).describe('seeds the weight init, window order, noise and time'),
    output_dir: str().default('runs/sft').describe('run folder: checkpoints, metrics.json, report'),
    policy: group({
      checkpoint: str().nullable().default(null).describe('riptide checkpoint folder to start from'),
      preset: str().default('small').describe('model preset when no checkpoint (tiny, small, pi0, or a JSON path)'),
    }),
    data: group({
      paths: z.array(str(), { error: 'must be a list of files or folders' }).default(['demos']).describe('LIBERO HDF5 files, or folders of them'),
      mode: z.enum(['pad', 'fit', 'random'], { error: "must be 'pad', 'fit' or 'random'" }).default('pad').describe('pad: a window at every step; fit: whole windows only; random: one per demo per epoch (legacy)'),
    }),
    train: group({
      steps: int(1).default(2000).describe('optimizer steps'),
      batch_size: int(1).default(32).describe('windows per optimizer step'),
      micro_batch_size: int(1).default(8).describe('windows per forward/backward'),
      lr: num().gt(0, { error: 'must be > 0' }).default(2.5e-4).describe('peak learning rate'),
      warmup_steps: int(0).default(100).describe('linear warmup steps'),
      min_lr_ratio: num().min(0).max(1).default(0.1).describe('cosine floor = lr * ratio at the last step'),
      weight_decay: num().min(0, { error: 'must be >= 0' }).default(1e-4).describe('AdamW weight decay'),
      clip_grad_norm: num().min(0, { error: 'must be >= 0' }).default(1).describe('global grad-norm clip; 0 = off'),
      ema_decay: num().min(0).lt(1).default(0).describe('EMA of the weights; 0 = no EMA'),
      indicator_dropout: num().min(0).max(1).default(0).describe('share of windows trained unconditional (CFG); 0 = no CFG branch'),
      log_freq: int(1).default(20).describe('a log line and a metrics record every N steps'),
      save_freq: int(1).default(500).describe('checkpoint every N steps (and at the end)'),
      keep_last: int(1).default(3).describe('checkpoints kept on disk'),
    }),
    eval: group({
      freq: int(0).default(500).describe('evaluate in the simulator every N steps (and at the end); 0 = never'),
      init_states: int(1).nullable().default(null).describe('held-out init states per task; null = the whole test split'),
      cfg_scale: num().min(0, { error: 'must be >= 0' }).default(1).describe('evaluation sampling guidance'),
      execute_steps: int(1).nullable().default(null).describe('actions executed per chunk before replanning; null = the action horizon, at most 50'),
      num_parallel_envs: int(1).default(2).describe('envs per task during evaluation'),
      env_actors: int(1).default(2).describe('env worker threads during evaluation'),
    }),
    runtime: group({
      threads: int(1).nullable().default(null).describe('model threads; null = all cores'),
      device: device(),
    }),
  })
  .strict();

export type SftConfig = z.infer<typeof SftConfigSchema>;

export const { load: loadSftConfig, help: sftConfigHelp } = commandConfig(SftConfigSchema, 'sft', 'configs/sft.yaml');
