// The riptide command line: one entry, subcommands per workflow (bench, sim, ...).
import { Command, CommanderError } from 'commander';

import { RiptideError } from '../errors.ts';
import { recapConfigHelp } from '../config/recap-config.ts';
import { sftConfigHelp } from '../config/sft-config.ts';
import { trainConfigHelp } from '../config/train-config.ts';
import { loadPi0Config } from '../model/config.ts';
import { DEVICE_CHOICES, type DeviceChoice } from '../model/device.ts';

/** `riptide rollout` and `riptide eval`: the same run, with different defaults. */
async function rollout(tasks: string[], opts: Record<string, string | undefined>): Promise<void> {
  const { rolloutCommand } = await import('./rollout.ts');
  await rolloutCommand({ ...workloadOpts(tasks, opts), runtime: { ...runtimeOpts(opts), envActors: positiveInt(String(opts.actors), '--actors') }, json: opts.json });
}

function buildProgram(): Command {
  const program = new Command('riptide')
    .description('Fast single-machine RL fine-tuning of PI0-style policies on LIBERO-style MuJoCo tasks')
    .showHelpAfterError()
    .exitOverride();

  const bench = program.command('bench').description('measure speed; prints a table, --json writes the figures');
  bench
    .command('sim')
    .description('simulator costs: creation, reset, control step, 2-camera observation, native-only floor')
    .option('--json <file>', 'write the figures as JSON')
    .option('--envs <n>', 'parallel envs in the VecEnv', '4')
    .option('--steps <n>', 'control steps per timing loop', '200')
    .action(async (opts) => {
      const { benchSim } = await import('./bench-sim.ts');
      await benchSim({ json: opts.json, envs: positiveInt(opts.envs, '--envs'), steps: positiveInt(opts.steps, '--steps') });
    });
  bench
    .command('model')
    .description('PI0 training and sampling speed next to the GEMM baseline (OpenBLAS sgemm; on a GPU the GEMM engine, and MFU)')
    .option('--preset <name>', 'model preset: tiny, small, pi0 or a JSON file', 'small')
    .option('--device <device>', 'cpu, cuda or auto (the GPU when present)', 'cpu')
    .option('--gemm <precision>', 'GEMM precision on the GPU: bf16 (tensor cores) or fp32', 'bf16')
    .option('--batches <list>', 'training batch sizes, comma-separated', '8,32')
    .option('--sample-batches <list>', 'sampling batch sizes, comma-separated', '1,16')
    .option('--steps <n>', 'timed repetitions per figure, after a warm-up', '3')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (opts) => {
      const { benchModel } = await import('./bench-model.ts');
      if (!['bf16', 'fp32'].includes(opts.gemm)) throw new RiptideError(`--gemm: '${opts.gemm}' is not a precision. Fix: use bf16 or fp32.`);
      await benchModel({
        preset: opts.preset,
        json: opts.json,
        device: deviceOption(opts.device),
        gemm: opts.gemm,
        batches: intList(opts.batches, '--batches'),
        sampleBatches: intList(opts.sampleBatches, '--sample-batches'),
        steps: positiveInt(opts.steps, '--steps'),
      });
    });

  bench
    .command('tasks')
    .description('per task: BDDL -> MJCF, compile, reset from an init state, one control step (median ms)')
    .option('--suite <name>', 'only this suite')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (opts) => {
      const { benchTasks } = await import('./bench-tasks.ts');
      await benchTasks({ json: opts.json, suite: opts.suite });
    });

  bench
    .command('env-reuse [tasks...]')
    .description("the same rollout workload with envs reused (riptide), rebuilt every episode (LIBERO's hard reset) and the full LIBERO pattern (rebuild + render every step + robosuite 1.4 stepping)")
    .option('--modes <list>', 'comma-separated: reuse, rebuild, libero', 'reuse,rebuild,libero')
    .action(async (tasks: string[], opts) => {
      const { benchEnvReuse, REUSE_MODES } = await import('./rollout.ts');
      const modes = String(opts.modes).split(',').filter((m) => m.length > 0);
      for (const m of modes) if (!(m in REUSE_MODES)) throw new RiptideError(`--modes: unknown mode '${m}'; use reuse, rebuild, libero`);
      await benchEnvReuse({ ...workloadOpts(tasks, opts), runtime: runtimeOpts(opts), modes: modes as never, json: opts.json });
    });
  addRunOptions(bench.commands.at(-1)!, { tasks: 'libero_10/0 libero_10/1', envs: '2', preset: 'small', image: '256' }); // RIPT-VLA renders 256x256

  program
    .command('device')
    .description('what CUDA this build and machine offer; --check runs every CUDA kernel against the CPU reference')
    .option('--check', 'run the kernel checks (needs a GPU; without one: bash cpp/dev/cuda-check/emulator.sh)')
    .option('--json <file>', 'write the device facts (and checks) as JSON')
    .action(async (opts) => {
      const { deviceCommand } = await import('./device.ts');
      deviceCommand({ check: opts.check === true, json: opts.json });
    });

  program
    .command('train [overrides...]')
    .description('RIPT-style RL fine-tuning with CFG-Flow: RLOO groups in cached envs, dynamic sampling, evaluation, checkpoints')
    .option('--config <file>', 'YAML config (e.g. configs/quickstart.yaml, configs/ript_libero10.yaml)')
    .option('--resume', 'continue from the newest checkpoint in output_dir')
    .addHelpText('after', () => `\nOverrides are key=value pairs, e.g. algo.rloo_batch_size=8 'task.tasks=[libero_goal/0]'.\nConfig keys (default) and what they do:\n${trainConfigHelp()}`)
    .action(async (overrides: string[], opts) => {
      const { trainCommand } = await import('./train.ts');
      await trainCommand({ config: opts.config, overrides, resume: opts.resume === true });
    });

  program
    .command('sft [overrides...]')
    .description('supervised flow matching on LIBERO HDF5 demos (every valid step a window), with evaluation in the simulator')
    .option('--config <file>', 'YAML config (e.g. configs/sft.yaml)')
    .addHelpText('after', () => `\nOverrides are key=value pairs, e.g. train.steps=500 'data.paths=[demos]'.\nConfig keys (default) and what they do:\n${sftConfigHelp()}`)
    .action(async (overrides: string[], opts) => {
      const { sftCommand } = await import('./train.ts');
      await sftCommand({ config: opts.config, overrides });
    });

  const recap = program
    .command('recap')
    .description('RECAP: rollouts to datasets, a value model, advantage-conditioned policy fine-tuning, in rounds')
    .addHelpText(
      'after',
      () =>
        '\nStart with `riptide recap run --config configs/recap.yaml` (the whole loop; `--resume` continues it after an interruption);' +
        '\nthe other subcommands run one stage by hand, into <output_dir>/{rollouts,value_pretrain,value,advantages,policy}.' +
        '\nEvery subcommand takes --config <file> and key=value overrides, e.g. rounds=2 value.pretrain_steps=100.' +
        `\nConfig keys (default) and what they do:\n${recapConfigHelp()}`,
    );
  /** A recap subcommand; `more` goes into its --help before the pointer to the config keys. */
  const recapCommand = (name: string, description: string, more = '') =>
    recap
      .command(`${name} [overrides...]`)
      .description(description)
      .option('--config <file>', 'YAML config (e.g. configs/recap.yaml)')
      .addHelpText('after', `${more}\nConfig keys: riptide recap --help`);
  recapCommand(
    'run',
    'the loop: value pretrain, then rounds of collect -> value -> advantage -> policy, each evaluated at every eval.cfg_scales',
    '\nSub-stages, in order: value_pretrain, round_0/eval (the SFT start), then per round k: round_k/collect, round_k/value,' +
      '\nround_k/advantage, round_k/policy, round_k/eval. Under output_dir: value_pretrain/, round_<k>/{rollouts,value,advantages,policy}/,' +
      '\nrecap_state.json (the finished sub-stages), metrics.json, recap.html and recap_success.png (success per round and cfg scale).',
  )
    .option('--resume', 'continue the run in output_dir: finished sub-stages are skipped, an unfinished one starts over')
    .option('--stop-after <stage>', 'stop once this sub-stage has finished (e.g. value_pretrain, round_1/collect)')
    .action(async (overrides: string[], opts) => {
      const { recapRun } = await import('./recap.ts');
      await recapRun({ config: opts.config, overrides, resume: opts.resume === true, stopAfter: opts.stopAfter });
    });
  recapCommand('collect', 'run the policy on the tasks and write every episode (successes and failures) as LIBERO HDF5 with rewards and a success attr')
    .option('--policy <dir>', 'policy checkpoint or run folder (default: policy.checkpoint)')
    .option('--out <dir>', 'output folder (default: <output_dir>/rollouts)')
    .option('--round <n>', 'seeds the rollouts: each round draws other init states and noise', '1')
    .action(async (overrides: string[], opts) => {
      const { recapCollect } = await import('./recap.ts');
      await recapCollect({ config: opts.config, overrides, policy: opts.policy, out: opts.out, round: positiveInt(opts.round, '--round') });
    });
  recapCommand('value', 'train the value model: pretrain on the demos, or fine-tune the pretrained one on demos + rollouts')
    .requiredOption('--stage <stage>', 'pretrain or finetune')
    .option('--from <dir>', 'finetune: the pretrained value checkpoint or run folder (default: <output_dir>/value_pretrain)')
    .option('--rollouts <dirs...>', 'finetune: rollout folders (default: <output_dir>/rollouts when it exists)')
    .option('--out <dir>', 'run folder (default: <output_dir>/value_pretrain or <output_dir>/value)')
    .action(async (overrides: string[], opts) => {
      const { recapValue } = await import('./recap.ts');
      await recapValue({ config: opts.config, overrides, stage: opts.stage, from: opts.from, rollouts: opts.rollouts, out: opts.out });
    });
  recapCommand('advantage', 'V for every frame of the demos and rollouts, n-step advantages, their percentiles and the threshold epsilon')
    .option('--value <dir>', 'value checkpoint or run folder (default: <output_dir>/value, else <output_dir>/value_pretrain)')
    .option('--rollouts <dirs...>', 'rollout folders (default: <output_dir>/rollouts when it exists)')
    .option('--out <dir>', 'output folder (default: <output_dir>/advantages)')
    .action(async (overrides: string[], opts) => {
      const { recapAdvantage } = await import('./recap.ts');
      await recapAdvantage({ config: opts.config, overrides, value: opts.value, rollouts: opts.rollouts, out: opts.out });
    });
  recapCommand('finetune', "fine-tune the SFT policy (policy.checkpoint) on the advantage folder's datasets, positive steps (A > epsilon) conditional")
    .option('--advantages <dir>', 'advantage folder (default: <output_dir>/advantages)')
    .option('--out <dir>', 'run folder (default: <output_dir>/policy)')
    .action(async (overrides: string[], opts) => {
      const { recapFinetune } = await import('./recap.ts');
      await recapFinetune({ config: opts.config, overrides, advantages: opts.advantages, out: opts.out });
    });

  program
    .command('export <checkpoint>')
    .description('a checkpoint to ship: weights only (no Adam state), optionally the EMA weights, optionally BF16 (half the size)')
    .requiredOption('--out <dir>', 'new checkpoint folder (must not exist)')
    .option('--dtype <dtype>', 'weights dtype: f32 (exact) or bf16', 'f32')
    .option('--ema', 'export the EMA weights (ema.safetensors) instead of the trained ones')
    .action(async (from: string, opts) => {
      const dtype = String(opts.dtype).toUpperCase();
      if (dtype !== 'F32' && dtype !== 'BF16') throw new RiptideError(`--dtype ${opts.dtype}: must be f32 or bf16`);
      const { exportCheckpoint } = await import('./export.ts');
      exportCheckpoint({ from, out: opts.out, dtype, ema: opts.ema === true });
    });

  const demos = program.command('demos').description('demonstrations in LIBERO HDF5 files');
  demos
    .command('collect [tasks...]')
    .description('scripted-expert demos (mild action noise, successes only) as LIBERO HDF5 files (<task name>_demo.hdf5), from the train split of init states')
    .option('--suite <name>', 'all tasks of this suite')
    .option('--per-task <n>', 'successful demos per task', '50')
    .option('--out <dir>', 'output folder', 'demos')
    .option('--seed <n>', 'action-noise seed', '0')
    .option('--noise <std>', 'gaussian noise std on the 6 arm action dims', '0.05')
    .option('--image <px>', "camera image size, square (LIBERO's is 128)", '128')
    .option('--max-attempts <n>', 'episodes tried per task at most (default: max(10, 4 x --per-task))')
    .option('--gzip <level>', 'gzip 0-9 for the image datasets; 0 = uncompressed like LIBERO', '0')
    .option('--workers <n>', 'worker threads; 0 = this thread (default: one per core, at most one per task)')
    .action(async (tasks: string[], opts) => {
      const noise = Number(opts.noise);
      if (!(noise >= 0)) throw new RiptideError(`--noise must be a number >= 0, got '${opts.noise}'`);
      const { demosCollect } = await import('./demos.ts');
      await demosCollect({
        suite: opts.suite,
        tasks,
        perTask: positiveInt(opts.perTask, '--per-task'),
        out: opts.out,
        seed: nonNegativeInt(opts.seed, '--seed'),
        noise,
        image: positiveInt(opts.image, '--image'),
        maxAttempts: opts.maxAttempts === undefined ? undefined : positiveInt(opts.maxAttempts, '--max-attempts'),
        gzip: nonNegativeInt(opts.gzip, '--gzip'),
        workers: opts.workers === undefined ? undefined : nonNegativeInt(opts.workers, '--workers'),
      });
    });
  program
    .command('data')
    .description('datasets')
    .command('inspect <file_or_folder>')
    .description("a LIBERO HDF5 file's env and problem, each demo's length, total steps, and training windows per mode (pad, fit, random)")
    .option('--horizon <n>', 'window length', '50')
    .action(async (input: string, opts) => {
      const { dataInspect } = await import('./demos.ts');
      await dataInspect(input, { horizon: positiveInt(opts.horizon, '--horizon') });
    });

  program
    .command('report <output_dir>')
    .description('success-rate and loss curves of a run (report.html, success.png, loss.png) from its metrics.json')
    .action(async (dir: string) => {
      const { reportCommand } = await import('../report/report.ts');
      reportCommand(dir);
    });

  const profile = program.command('profile').description('where the time goes');
  profile
    .command('env [tasks...]')
    .description('per env actor: steps/s and the time split (physics+controller, render, reset, inference wait), the rollout actor\'s slot wait, and the JS actor overhead against the native-only loop')
    .option('--actors <list>', 'comma-separated env actor counts to profile', '1,2')
    .option('--trace <file>', 'write a Chrome trace (chrome://tracing) of actor activity')
    .action(async (tasks: string[], opts) => {
      const { profileEnv } = await import('./rollout.ts');
      const actors = String(opts.actors).split(',').map((a) => positiveInt(a, '--actors'));
      await profileEnv({ ...workloadOpts(tasks, opts), runtime: runtimeOpts(opts), actors, json: opts.json, trace: opts.trace });
    });
  addRunOptions(profile.commands.at(-1)!, { tasks: 'libero_spatial/0 libero_spatial/1', envs: '2', preset: 'tiny' });

  program
    .command('rollout [tasks...]')
    .description('run the policy on tasks through the actor runtime and report success per task and env steps/s')
    .option('--actors <n>', 'env actor worker threads', '1')
    .action(rollout);
  addRunOptions(program.commands.at(-1)!, { tasks: 'libero_spatial/0', envs: '2', preset: 'small' });

  program
    .command('eval [tasks...]')
    .description("success rate per task of a policy (--checkpoint) on its tasks' 50 init states, LIBERO's benchmark protocol; --json writes it")
    .option('--actors <n>', 'env actor worker threads', '2')
    .action(rollout);
  addRunOptions(program.commands.at(-1)!, { tasks: 'libero_spatial/0', envs: '2', preset: 'small', inits: '50' });

  const sim = program.command('sim').description('the bowl-and-plate example scene');
  sim
    .command('expert')
    .description('run the scripted pick-and-place expert over seeded placements and report On(bowl, plate)')
    .option('--episodes <n>', 'number of seeded initial placements', '50')
    .option('--seed <n>', 'first placement seed', '0')
    .option('--envs <n>', 'parallel envs', '10')
    .action(async (opts) => {
      const { runExpertCheck } = await import('./sim-expert.ts');
      await runExpertCheck({
        episodes: positiveInt(opts.episodes, '--episodes'),
        seed: nonNegativeInt(opts.seed, '--seed'),
        envs: positiveInt(opts.envs, '--envs'),
      });
    });
  sim
    .command('render')
    .description('render both cameras of the example scene to a PNG')
    .requiredOption('--out <file.png>', 'output PNG path')
    .option('--size <px>', 'image size (square)', '256')
    .option('--seed <n>', 'placement seed', '0')
    .action(async (opts) => {
      const { renderExample } = await import('./sim-expert.ts');
      await renderExample({ out: opts.out, size: positiveInt(opts.size, '--size'), seed: nonNegativeInt(opts.seed, '--seed') });
    });
  const tasks = program.command('tasks').description('the LIBERO-style task suites: list, show, render, init states, expert check');
  tasks
    .command('list')
    .description('list the suites and their tasks with the language instructions')
    .option('--suite <name>', 'only this suite')
    .action(async (opts) => {
      const { listTasks } = await import('./tasks.ts');
      listTasks({ suite: opts.suite });
    });
  tasks
    .command('show <task>')
    .description('parse, build and compile a task (suite/id, a task name, or a path to a .bddl file) and describe it')
    .action(async (ref) => {
      const { showTask } = await import('./tasks.ts');
      showTask(ref);
    });
  tasks
    .command('render <tasks...>')
    .description('render both cameras of tasks at one of their init states to a PNG (one row per task)')
    .requiredOption('--out <file.png>', 'output PNG path')
    .option('--size <px>', 'image size per camera (square)', '256')
    .option('--init <i>', 'init state index', '0')
    .action(async (refs: string[], opts) => {
      const { renderTasks } = await import('./tasks.ts');
      renderTasks(refs, { out: opts.out, size: positiveInt(opts.size, '--size'), index: nonNegativeInt(opts.init, '--init') });
    });
  tasks
    .command('init-states [tasks...]')
    .description('regenerate init states (seeded sampling + settling) for tasks, a suite, or all tasks')
    .option('--suite <name>', 'all tasks of this suite')
    .option('--count <n>', 'init states per task', '50')
    .option('--seed <n>', 'sampling seed', '0')
    .action(async (refs: string[], opts) => {
      const { regenerateInitStates } = await import('./tasks.ts');
      regenerateInitStates(refs, { suite: opts.suite, count: positiveInt(opts.count, '--count'), seed: nonNegativeInt(opts.seed, '--seed') });
    });
  tasks
    .command('check-experts [tasks...]')
    .description("run each task's scripted expert from its init states and print the per-task success table")
    .option('--suite <name>', 'all tasks of this suite')
    .option('--envs <n>', 'parallel envs per task', '10')
    .option('--episodes <n>', 'init states per task (default: all)')
    .option('--json <file>', 'write the table as JSON')
    .action(async (refs: string[], opts) => {
      const { checkExperts } = await import('./tasks.ts');
      checkExperts(refs, {
        suite: opts.suite,
        envs: positiveInt(opts.envs, '--envs'),
        episodes: opts.episodes === undefined ? undefined : positiveInt(opts.episodes, '--episodes'),
        json: opts.json,
      });
    });
  return program;
}

/** Options every runtime command shares: the workload, then the runtime (the names follow the config keys). */
function addRunOptions(cmd: Command, defaults: { tasks: string; envs: string; preset: string; image?: string; inits?: string }): void {
  cmd
    .option('--suite <name>', `all tasks of this suite (default tasks: ${defaults.tasks})`)
    .option('--inits <n>', 'init states per task (the first n)', defaults.inits ?? '2')
    .option('--episodes <n>', 'episodes per init state', '1')
    .option('--json <file>', 'write the figures as JSON')
    .option('--envs <n>', 'task.num_parallel_envs: cached envs per task', defaults.envs)
    .option('--preset <name>', 'policy preset (tiny, small, pi0 or a JSON file) when no --checkpoint', defaults.preset)
    .option('--checkpoint <dir>', 'policy checkpoint folder')
    .option('--execute-steps <n>', 'actions executed per chunk (<= the action horizon; default: the horizon, at most 50)')
    .option('--max-steps <n>', 'task.max_episode_length (default: each task suite\'s budget)')
    .option('--image <px>', 'camera image size (square)', defaults.image ?? '128')
    .option('--cfg-scale <s>', 'classifier-free guidance scale', '1')
    .option('--device <device>', 'where the policy runs: cpu, cuda or auto (the GPU when present)', 'cpu')
    .option('--pipeline', 'double-buffer each env actor\'s envs in two halves')
    .option('--serial', 'run every actor in the main thread (debugging)')
    .option('--seed <n>', 'first episode seed', '0');
}

function runtimeOpts(opts: Record<string, string | boolean | undefined>) {
  const num = (v: unknown, flag: string) => (v === undefined ? undefined : positiveInt(String(v), flag));
  const preset = String(opts.preset);
  const checkpoint = opts.checkpoint as string | undefined;
  const horizon = checkpoint ? undefined : loadPi0Config(preset).action_horizon;
  const cfgScale = Number(opts.cfgScale);
  if (!Number.isFinite(cfgScale)) throw new RiptideError(`--cfg-scale must be a number, got '${opts.cfgScale}'`);
  const image = positiveInt(String(opts.image), '--image');
  return {
    numParallelEnvs: positiveInt(String(opts.envs), '--envs'),
    executeSteps: num(opts.executeSteps, '--execute-steps') ?? Math.min(50, horizon ?? 50),
    maxEpisodeLength: num(opts.maxSteps, '--max-steps'),
    image: { width: image, height: image },
    pipeline: opts.pipeline === true,
    mode: opts.serial === true ? ('serial' as const) : ('actors' as const),
    policy: { preset, checkpoint, seed: 0, cfgScale, flowSteps: 10, device: deviceOption(opts.device) },
  };
}

function workloadOpts(tasks: string[], opts: Record<string, string | undefined>) {
  return {
    tasks,
    suite: opts.suite,
    inits: positiveInt(String(opts.inits), '--inits'),
    episodes: positiveInt(String(opts.episodes), '--episodes'),
    seed: nonNegativeInt(String(opts.seed), '--seed'),
  };
}

function intOption(v: string, flag: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new RiptideError(`${flag} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got '${v}'`);
  }
  return n;
}

const positiveInt = (v: string, flag: string) => intOption(v, flag, 1);
function deviceOption(v: unknown): DeviceChoice {
  if (!(DEVICE_CHOICES as readonly unknown[]).includes(v)) throw new RiptideError(`--device: '${String(v)}' is not a device. Fix: use ${DEVICE_CHOICES.join(', ')}.`);
  return v as DeviceChoice;
}
const intList = (v: string, flag: string) => v.split(',').map((x) => positiveInt(x.trim(), flag));
const nonNegativeInt = (v: string, flag: string) => intOption(v, flag, 0);

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof RiptideError) {
      console.error(`riptide: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
