// Scripted experts for every task: the goal's atoms become skills (pick and place, push, drawer, door, knob) run
// in order, each a generator yielding one 7-dim OSC action per control step while reading only what a policy could
// observe in the simulator (robot state, object and fixture poses, joint positions). The experts make
// demonstrations and prove every task is solvable under LIBERO's success rules.
import { ROBOT_STATE } from '../../sim/vec-env.ts';
import { articulatedJoints } from '../predicates.ts';
import type { SceneInstance, TaskScene } from '../scene.ts';
import type { InitState, TaskEnv } from '../task-env.ts';
import { door, drawer, knob } from './articulated.ts';
import { clamp, fingerAngle, orientationError, POS_GAIN, relativeYaw, rotateQuat, ROT_GAIN, yawQuat, type Ctx, type Skill, type View } from './core.ts';
import { pickPlace, push } from './pick-place.ts';

/** The skill list a task's goal calls for, in execution order. */
export function planSkills(scene: TaskScene): string[] {
  return skillsFor(scene).map((s) => s.label);
}

interface PlannedSkill {
  label: string;
  order: number; // 0: open / turn on first, 1: move things, 2: close last
  run(v: View, ctx: Ctx): Skill;
}

function skillsFor(scene: TaskScene): PlannedSkill[] {
  const skills: PlannedSkill[] = [];
  const instances = new Map<string, SceneInstance>([...scene.objects, ...scene.fixtures].map((i) => [i.name, i]));
  for (const atom of scene.problem.goal) {
    const [a, b] = atom.args;
    switch (atom.predicate) {
      case 'on':
      case 'in': {
        const obj = instances.get(a)!;
        const region = scene.regions.get(b);
        if (region?.joint) {
          const joint = region.joint;
          skills.push({ label: `open ${joint}`, order: 0, run: (v, c) => drawer(v, c, joint, true) });
        }
        if (!obj.model.grasp) {
          skills.push({ label: `push ${a} to ${b}`, order: 1, run: (v, c) => push(v, c, obj, region!) });
        } else {
          const target = region ?? instances.get(b)!;
          skills.push({ label: `place ${a} ${atom.predicate} ${b}`, order: 1, run: (v, c) => pickPlace(v, c, obj, target) });
        }
        break;
      }
      case 'open':
      case 'close':
      case 'turnon':
      case 'turnoff': {
        const open = atom.predicate === 'open' || atom.predicate === 'turnon';
        const joints = articulatedJoints(scene, a);
        // Open / TurnOn need one joint of the fixture, Close / TurnOff all of them (LIBERO's rules).
        for (const { name, spec } of open ? joints.slice(0, 1) : joints) {
          const order = open ? 0 : 2;
          const label = `${atom.predicate} ${name}`;
          if (spec.kind === 'drawer') skills.push({ label, order, run: (v, c) => drawer(v, c, name, open) });
          else if (spec.kind === 'door') skills.push({ label, order, run: (v, c) => door(v, c, name, open) });
          else skills.push({ label, order, run: (v, c) => knob(v, c, name, open) });
        }
        break;
      }
      default:
        break; // Up: no skill (no suite task asks for it)
    }
  }
  return skills.sort((x, y) => x.order - y.order);
}

export class TaskExpert {
  private readonly plan: PlannedSkill[];
  private readonly runs: (Skill | undefined)[];
  private readonly views: View[];
  private readonly homeQuat: Float64Array[];
  private readonly robot: Float64Array;
  private readonly ctx: Ctx;

  constructor(readonly task: TaskEnv) {
    const n = task.numEnvs;
    this.plan = skillsFor(task.scene);
    this.ctx = { scene: task.scene, surfaceZ: task.scene.arena.surfaceZ };
    this.runs = new Array(n).fill(undefined);
    this.robot = new Float64Array(n * ROBOT_STATE.size);
    this.homeQuat = Array.from({ length: n }, () => new Float64Array(4));
    this.views = Array.from({ length: n }, (_, k) => this.makeView(k));
  }

  get skills(): string[] {
    return this.plan.map((s) => s.label);
  }

  private makeView(k: number): View {
    const env = this.task.env;
    const pose = new Float64Array(7);
    const site = new Float64Array(12);
    const q = new Float64Array(7);
    const ids = new Map<string, number>();
    const id = (kind: 'b' | 's' | 'j', name: string) => {
      const key = kind + name;
      let i = ids.get(key);
      if (i === undefined) {
        i = kind === 'b' ? env.bodyId(name) : kind === 's' ? env.siteId(name) : env.jointId(name);
        ids.set(key, i);
      }
      return i;
    };
    const row = () => this.robot.subarray(k * ROBOT_STATE.size, (k + 1) * ROBOT_STATE.size);
    const view: View = {
      eef: () => {
        const r = row();
        return [r[0], r[1], r[2]];
      },
      body: (name) => {
        env.bodyPose(k, id('b', name), pose);
        const [x, y, z, w] = [pose[3], pose[4], pose[5], pose[6]];
        return { pos: [pose[0], pose[1], pose[2]], yaw: Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)) };
      },
      site: (name) => {
        env.sitePose(k, id('s', name), site);
        return [site[0], site[1], site[2]];
      },
      joint: (name) => {
        env.jointQpos(k, id('j', name), q);
        return q[0];
      },
      fingerAngle0: 0,
      yaw: () => {
        const r = row();
        return relativeYaw(this.homeQuat[k], r.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4));
      },
    };
    return view;
  }

  /** Starts env k's plan from its current state (call after TaskEnv.start). */
  reset(k: number): void {
    this.task.env.robotState(this.robot);
    const r = this.robot.subarray(k * ROBOT_STATE.size, (k + 1) * ROBOT_STATE.size);
    this.homeQuat[k].set(r.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4));
    this.views[k].fingerAngle0 = fingerAngle(this.homeQuat[k]);
    const v = this.views[k];
    const ctx = this.ctx;
    const plan = this.plan;
    this.runs[k] = (function* () {
      for (const s of plan) yield* s.run(v, ctx);
    })();
  }

  /** Writes the actions of the listed envs into actions (numEnvs x 7); returns false for envs whose plan ended. */
  act(envs: number[], actions: Float32Array): boolean[] {
    this.task.env.robotState(this.robot);
    return envs.map((k) => {
      const out = actions.subarray(k * 7, k * 7 + 7);
      const run = this.runs[k];
      const next = run?.next();
      if (!next || next.done) {
        out.fill(0);
        out[6] = -1;
        this.runs[k] = undefined;
        return false;
      }
      const cmd = next.value;
      const r = this.robot.subarray(k * ROBOT_STATE.size, (k + 1) * ROBOT_STATE.size);
      for (let i = 0; i < 3; i++) out[i] = clamp(((cmd.pos[i] - r[i]) / 0.05) * POS_GAIN);
      const level = yawQuat(this.homeQuat[k], cmd.yaw);
      const goal = cmd.tilt ? rotateQuat(level, cmd.tilt) : level;
      const rot = orientationError(goal, r.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4));
      for (let i = 0; i < 3; i++) out[3 + i] = clamp((rot[i] / 0.5) * ROT_GAIN);
      out[6] = cmd.grip;
      return true;
    });
  }
}

export interface ExpertEpisode {
  success: boolean;
  /** Control steps after the wait steps, up to and including the first success (maxSteps when it failed). */
  steps: number;
}

/**
 * Runs the expert from each init state (numEnvs at a time) for up to maxSteps control steps; an episode ends at
 * its first success, as LIBERO's done does; onEpisode reports each episode as its batch ends.
 */
export function runExpert(
  task: TaskEnv,
  inits: InitState[],
  opts: { maxSteps: number; onEpisode?: (i: number, e: ExpertEpisode) => void },
): ExpertEpisode[] {
  const n = task.numEnvs;
  const results: ExpertEpisode[] = [];
  const actions = new Float32Array(n * 7);
  const active = new Uint8Array(n);
  for (let base = 0; base < inits.length; base += n) {
    const batch = inits.slice(base, base + n);
    task.start(batch);
    const expert = new TaskExpert(task);
    const live = batch.map((_, k) => k);
    live.forEach((k) => expert.reset(k));
    active.fill(0);
    active.fill(1, 0, batch.length);
    const res: ExpertEpisode[] = batch.map(() => ({ success: false, steps: opts.maxSteps }));
    for (let t = 1; t <= opts.maxSteps; t++) {
      const envs = live.filter((k) => active[k]);
      if (envs.length === 0) break;
      expert.act(envs, actions);
      task.env.step(actions, active);
      for (const k of envs) {
        if (task.success(k)) {
          res[k] = { success: true, steps: t };
          active[k] = 0;
        }
      }
    }
    res.forEach((r, k) => {
      results.push(r);
      opts.onEpisode?.(base + k, r);
    });
  }
  return results;
}
