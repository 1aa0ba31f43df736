// `riptide train` and `riptide sft` (--config <yaml> [key=value ...]): the trainers with progress lines, a log line
// per step, SIGINT handling that keeps the last checkpoint, and the report at the end.
import path from 'node:path';

import { configTasks, RiptTrainer, type TrainHooks } from '../algo/ript-trainer.ts';
import { SftTrainer } from '../algo/sft-trainer.ts';
import { loadSftConfig } from '../config/sft-config.ts';
import { loadTrainConfig, type TrainConfig } from '../config/train-config.ts';
import { RiptideError } from '../errors.ts';
import { loadPi0Config } from '../model/config.ts';
import { readCheckpointConfig } from '../model/checkpoint.ts';
import { writeReport } from '../report/report.ts';
import { ProgressLine } from './progress.ts';

export interface TrainCliOptions {
  config?: string;
  overrides: string[];
  resume: boolean;
}

/** Checks what the schema cannot: the model's action horizon against execute_steps and the window length. */
function checkAgainstModel(c: TrainConfig, file: string): void {
  const model = c.policy.checkpoint ? readCheckpointConfig(c.policy.checkpoint) : loadPi0Config(c.policy.preset);
  if (c.algo.execute_steps > model.action_horizon) {
    throw new RiptideError(`${file}: algo.execute_steps (${c.algo.execute_steps}) is longer than the model's action horizon (${model.action_horizon}, preset '${model.name}'); set it to at most ${model.action_horizon}`);
  }
  if (configTasks(c).length === 0) throw new RiptideError(`${file}: task.tasks is empty; name at least one task (e.g. libero_goal/0)`);
}

/** Log lines on stdout and one progress line per phase on stderr; endBar closes the open one. */
export function consoleHooks(): TrainHooks & { endBar(): void } {
  let bar: ProgressLine | null = null;
  let barLabel = '';
  const endBar = () => {
    bar?.done();
    bar = null;
  };
  return {
    endBar,
    log: (line) => {
      endBar();
      console.log(line);
    },
    progress: (phase, done, total, info) => {
      if (phase !== barLabel || !bar) {
        endBar();
        bar = new ProgressLine(phase, total);
        barLabel = phase;
      }
      bar.update(done, info ?? '');
      if (done === total) endBar();
    },
  };
}

export async function trainCommand(o: TrainCliOptions): Promise<void> {
  const where = o.config ?? 'the command line';
  const config = loadTrainConfig(o.config, o.overrides);
  checkAgainstModel(config, where);
  const hooks = consoleHooks();
  const endBar = hooks.endBar;
  const trainer = new RiptTrainer(config, hooks);
  trainer.prepare(o.resume);
  const onSigint = () => {
    endBar();
    console.error(`riptide: interrupted at step ${trainer.step}; stopping the actors. Checkpoints in ${path.join(trainer.outputDir, 'checkpoints')} are intact: continue with --resume`);
    void trainer.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const t0 = performance.now();
  try {
    console.log(`riptide train: ${trainer.refs.length} tasks (${trainer.refs.join(', ')}), ${config.training.n_steps} steps, output ${trainer.outputDir}`);
    await trainer.start();
    const evals = await trainer.run();
    const first = evals[0];
    const last = evals.at(-1);
    if (first && last && first !== last) {
      console.log(`success rate: ${(100 * first.overall_success_rate).toFixed(1)}% at step ${first.step} -> ${(100 * last.overall_success_rate).toFixed(1)}% at step ${last.step}`);
    }
  } finally {
    process.off('SIGINT', onSigint);
    endBar();
    await trainer.stop();
  }
  const report = writeReport(trainer.outputDir);
  console.log(`done in ${((performance.now() - t0) / 60000).toFixed(1)} min; metrics ${path.join(trainer.outputDir, 'metrics.json')}, report ${report.html}`);
}

export async function sftCommand(o: Omit<TrainCliOptions, 'resume'>): Promise<void> {
  const config = loadSftConfig(o.config, o.overrides);
  const hooks = consoleHooks();
  const trainer = new SftTrainer(config, hooks);
  const onSigint = () => {
    hooks.endBar();
    console.error(`riptide: interrupted; checkpoints in ${path.join(trainer.outputDir, 'checkpoints')} are intact`);
    trainer.close();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  const t0 = performance.now();
  try {
    await trainer.open();
    const evals = await trainer.run();
    if (evals.length > 1) console.log(`success rate: ${(100 * evals[0].overall_success_rate).toFixed(1)}% at step ${evals[0].step} -> ${(100 * evals.at(-1)!.overall_success_rate).toFixed(1)}% at step ${evals.at(-1)!.step}`);
  } finally {
    process.off('SIGINT', onSigint);
    hooks.endBar();
    trainer.close();
  }
  const report = writeReport(trainer.outputDir);
  console.log(`done in ${((performance.now() - t0) / 60000).toFixed(1)} min; checkpoints ${path.join(trainer.outputDir, 'checkpoints')}, report ${report.html}`);
}
