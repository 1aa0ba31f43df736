// The `riptide recap` config: RECAP's loop (value pretrain, then per round: collect rollouts -> value fine-tune ->
// advantages -> policy fine-tune -> evaluation), with the conventions of the other configs (every key has a default
// and a description; `riptide recap --help` is generated from this schema). The policy fine-tune and evaluation
// keys are the SFT config's own, so both commands read them the same way.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { checkReturnSpec, type ReturnSpec } from '../algo/recap/returns.ts';
import { RiptideError } from '../errors.ts';
import { CHECKPOINT_FILES, readCheckpointConfig } from '../model/checkpoint.ts';
import { loadPi0Config } from '../model/config.ts';
import { openTask } from '../tasks/task.ts';
import { SftConfigSchema } from './sft-config.ts';
import { bool, commandConfig, group, int, num, str } from './train-config.ts';

const sft = {
  data: SftConfigSchema.shape.data.unwrap().shape,
  train: SftConfigSchema.shape.train.unwrap().shape,
  eval: SftConfigSchema.shape.eval.unwrap().shape,
};

export const RecapConfigSchema = z
  .object({
    seed: int(0).default(0).describe('seeds rollouts, value and policy training, and evaluation'),
    output_dir: str().default('runs/recap').describe('run folder: value_pretrain, round_<k>/{rollouts,value,advantages,policy}, recap_state.json, metrics.json'),
    rounds: int(1).max(3, { error: 'must be <= 3' }).default(1).describe('rounds of collect -> value fine-tune -> advantages -> policy fine-tune'),
    tasks: z
      .array(str(), { error: 'must be a list of task refs' })
      .min(1, { error: 'must name at least one task, e.g. [libero_goal/0]' })
      .default(['libero_goal/0'])
      .describe('tasks to collect rollouts on and evaluate (suite/index, names, .bddl paths)'),
    policy: group({
      checkpoint: str().nullable().default(null).describe('the SFT checkpoint: round 1 collects with it and every round fine-tunes from it'),
      preset: str().default('small').describe('model preset when no checkpoint (a fresh policy: for tests)'),
    }),
    data: group({
      demos: z.array(str(), { error: 'must be a list of files or folders' }).default(['demos']).describe('LIBERO HDF5 demos (successes unless a demo has the attr success=0)'),
      mode: sft.data.mode,
    }),
    rollout: group({
      execute_steps: sft.eval.execute_steps,
      max_episode_length: int(1).nullable().default(null).describe("step cap of collected and evaluated episodes; null: each task's own budget"),
      num_parallel_envs: sft.eval.num_parallel_envs.describe('envs per task while collecting and evaluating'),
      env_actors: sft.eval.env_actors.describe('env worker threads while collecting and evaluating'),
    }),
    collect: group({
      episodes_per_task: int(1).default(20).describe('rollouts per task and round, from the train split of init states'),
      cfg_scale: num().min(0, { error: 'must be >= 0' }).default(1).describe('sampling guidance of the collecting policy'),
      gzip: int(0).max(9, { error: 'must be <= 9' }).default(0).describe('gzip level of the rollout images; 0 = uncompressed, as LIBERO'),
    }),
    value: group({
      preset: str().default('small').describe('value model preset (tiny, small, pi0, or a JSON path)'),
      init_from_policy: bool().default(true).describe("start the value model's vision + language from policy.checkpoint (needs the same preset)"),
      bins: int(2).default(201).describe('return bins over [-1, 0]'),
      c_neg: num().max(0, { error: 'must be <= 0 (a penalty)' }).default(-1000).describe('return penalty of a failed episode'),
      normalizer: num().gt(0, { error: 'must be > 0' }).default(1600).describe('returns are divided by it; at least max episode length - 1 - c_neg'),
      mse_weight: num().min(0, { error: 'must be >= 0' }).default(0).describe('adds mse_weight * (E[V] - return)^2 to the cross-entropy; 0 = CE only (OpenTau)'),
      pretrain_steps: int(1).default(300).describe('optimizer steps on the demos'),
      finetune_steps: int(1).default(200).describe('optimizer steps per round, from the pretrained model, on demos + every rollout so far'),
      batch_size: int(1).default(16).describe('frames per optimizer step'),
      micro_batch_size: sft.train.micro_batch_size.describe('frames per forward/backward'),
      lr: num().gt(0, { error: 'must be > 0' }).default(1e-4).describe('peak learning rate'),
      warmup_steps: int(0).default(20).describe('linear warmup steps'),
      min_lr_ratio: sft.train.min_lr_ratio,
      weight_decay: sft.train.weight_decay,
      clip_grad_norm: sft.train.clip_grad_norm,
      log_freq: sft.train.log_freq,
    }),
    advantage: group({
      look_ahead: int(1).default(50).describe('N of A_t = r(t..t+N) + V(t+N) - V(t)'),
      percentile: num().min(0, { error: 'must be in 0..100' }).max(100, { error: 'must be in 0..100' }).default(70).describe('epsilon = this percentile of all advantages; windows with A > epsilon are positive'),
      batch_size: int(1).default(32).describe('frames per value-model forward'),
      min_value_std: num().min(0, { error: 'must be >= 0' }).default(0.005).describe('warn when V varies less than this across frames (a collapsed value head; a bin is 0.005)'),
    }),
    finetune: group({
      ...sft.train,
      steps: int(1).default(600).describe('optimizer steps of each round, from policy.checkpoint'),
      indicator_dropout: num().min(0).max(1).default(0.3).describe('share of positive windows trained unconditional, so evaluation can guide with cfg_scale > 1'),
    }),
    eval: group({
      cfg_scales: z
        .array(num().min(0, { error: 'must be >= 0' }), { error: 'must be a list of numbers' })
        .min(1, { error: 'must list at least one scale, e.g. [1.0]' })
        .default([1, 2])
        .describe('the SFT start and each round are evaluated at every scale'),
      init_states: sft.eval.init_states,
    }),
    runtime: SftConfigSchema.shape.runtime,
  })
  .strict();

export type RecapConfig = z.infer<typeof RecapConfigSchema>;

export const { load: loadRecapConfig, help: recapConfigHelp } = commandConfig(RecapConfigSchema, 'recap', 'configs/recap.yaml');

export function returnSpec(c: RecapConfig): ReturnSpec {
  return { cNeg: c.value.c_neg, normalizer: c.value.normalizer, bins: c.value.bins };
}

/** The policy's action horizon (from its checkpoint, else its preset). */
export function policyHorizon(c: RecapConfig): number {
  return (c.policy.checkpoint ? readCheckpointConfig(c.policy.checkpoint) : loadPi0Config(c.policy.preset)).action_horizon;
}

/**
 * Checks what the schema cannot, before anything runs: the tasks exist, the longest episode they allow keeps every
 * value target inside the bins, the SFT checkpoint is there, and execute_steps fits the policy's action horizon.
 */
export function checkRecapConfig(c: RecapConfig, where: string): void {
  const longest = Math.max(...c.tasks.map((ref) => c.rollout.max_episode_length ?? openTask(ref).maxSteps));
  checkReturnSpec(returnSpec(c), longest, `${where} (episodes of up to ${longest} steps)`, 'value.');
  const ck = c.policy.checkpoint;
  if (ck && !existsSync(path.join(ck, CHECKPOINT_FILES.config))) {
    throw new RiptideError(
      existsSync(ck)
        ? `${where}: policy.checkpoint ${ck} is not a checkpoint folder (no ${CHECKPOINT_FILES.config}); for an SFT run folder, name one of its checkpoints: policy.checkpoint=${path.join(ck, 'checkpoints', 'step_<N>')}`
        : `${where}: policy.checkpoint ${ck}: no such folder; train the SFT policy first (riptide sft --config configs/sft.yaml) or point policy.checkpoint at it`,
    );
  }
  const horizon = policyHorizon(c);
  if ((c.rollout.execute_steps ?? 0) > horizon) {
    throw new RiptideError(`${where}: rollout.execute_steps (${c.rollout.execute_steps}) is longer than the policy's action horizon (${horizon}); set it to at most ${horizon}`);
  }
}
