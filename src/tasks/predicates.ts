// LIBERO's success predicates (spec/libero.md §3: libero/envs/predicates, object_states) on a VecEnv's live state:
// body origins, site frames, joint positions and the MuJoCo contact list. A goal is the conjunction of its atoms,
// each compiled once into a check on env k.
import type { VecEnv } from '../sim/vec-env.ts';
import type { ArticulatedJoint } from './assets/types.ts';
import type { BddlAtom } from './bddl.ts';
import type { TaskScene } from './scene.ts';

/** On(A, B) for objects: horizontal distance of the origins below this (LIBERO's check_ontop). */
export const ON_XY_TOLERANCE = 0.03;
/** Up(A): origin height at or above this. */
export const UP_HEIGHT = 1.0;

export type AtomCheck = (k: number) => boolean;

/** Compiles every atom of the scene's goal; the goal holds when all hold. */
export function compileGoal(scene: TaskScene, env: VecEnv): { atoms: AtomCheck[]; check: AtomCheck } {
  const atoms = scene.problem.goal.map((a) => compileAtom(scene, env, a));
  return { atoms, check: (k) => atoms.every((c) => c(k)) };
}

export function compileAtom(scene: TaskScene, env: VecEnv, atom: BddlAtom): AtomCheck {
  const pa = new Float64Array(7);
  const pb = new Float64Array(7);
  const site = new Float64Array(12);
  const q = new Float64Array(7);
  const [a, b] = atom.args;
  const body = (name: string) => env.bodyId(name);
  switch (atom.predicate) {
    case 'on': {
      const region = scene.regions.get(b);
      const A = body(a);
      if (!region) {
        const B = body(b);
        return (k) => {
          env.bodyPose(k, A, pa);
          env.bodyPose(k, B, pb);
          return pb[2] <= pa[2] && Math.hypot(pa[0] - pb[0], pa[1] - pb[1]) < ON_XY_TOLERANCE && env.inContact(k, A, B);
        };
      }
      const S = env.siteId(region.name);
      const owner = region.owner === undefined ? -1 : body(region.owner);
      const [hx, hy, hz] = region.size;
      return (k) => {
        env.bodyPose(k, A, pa);
        env.sitePose(k, S, site);
        const d = siteDelta(site, pa);
        const inside = hz - 0.005 < d[2] && d[2] < hz + 0.1 && Math.abs(d[0]) < hx && Math.abs(d[1]) < hy;
        return inside && (owner < 0 || env.inContact(k, owner, A));
      };
    }
    case 'in': {
      const region = scene.regions.get(b)!;
      const A = body(a);
      const S = env.siteId(region.name);
      const h = region.size;
      return (k) => {
        env.bodyPose(k, A, pa);
        env.sitePose(k, S, site);
        // LIBERO's approximate box: site position +- |R h| per axis, the floor lowered by 1 cm.
        for (let i = 0; i < 3; i++) {
          const r = site[3 + 3 * i];
          const half = Math.abs(r * h[0] + site[4 + 3 * i] * h[1] + site[5 + 3 * i] * h[2]);
          const lo = site[i] - half - (i === 2 ? 0.01 : 0);
          if (!(pa[i] > lo && pa[i] < site[i] + half)) return false;
        }
        return true;
      };
    }
    case 'up': {
      const A = body(a);
      return (k) => {
        env.bodyPose(k, A, pa);
        return pa[2] >= UP_HEIGHT;
      };
    }
    case 'open':
    case 'close':
    case 'turnon':
    case 'turnoff': {
      const rule = { open: 'isOpen', close: 'isClosed', turnon: 'isOn', turnoff: 'isOff' }[atom.predicate] as
        | 'isOpen'
        | 'isClosed'
        | 'isOn'
        | 'isOff';
      const joints = articulatedJoints(scene, a).filter(({ spec }) => spec[rule] !== undefined);
      if (joints.length === 0) {
        throw new Error(`${scene.problem.file}:${atom.line}: ${atom.predicate}(${a}): '${a}' has no joint that can be ${atom.predicate}`);
      }
      const ids = joints.map(({ name, spec }) => ({ id: env.jointId(name), test: spec[rule]!.bind(spec) }));
      const holds = (k: number, j: (typeof ids)[number]) => {
        env.jointQpos(k, j.id, q);
        return j.test(q[0]);
      };
      // LIBERO: Close / TurnOff need every joint of the object; Open / TurnOn need any.
      return atom.predicate === 'close' || atom.predicate === 'turnoff'
        ? (k) => ids.every((j) => holds(k, j))
        : (k) => ids.some((j) => holds(k, j));
    }
    default:
      throw new Error(`${scene.problem.file}:${atom.line}: unsupported predicate '${atom.predicate}'`);
  }
}

/** The articulated joints an Open/Close/TurnOn/TurnOff argument names: a drawer region's joint, or all of a fixture's. */
export function articulatedJoints(scene: TaskScene, arg: string): { name: string; spec: ArticulatedJoint }[] {
  const region = scene.regions.get(arg);
  if (region?.joint) return [{ name: region.joint, spec: scene.joints.get(region.joint)!.spec }];
  const owner = region?.owner ?? arg;
  return [...scene.joints].filter(([, j]) => j.owner === owner).map(([name, j]) => ({ name, spec: j.spec }));
}

/**
 * LIBERO's site-frame offset of a point: R_S (A - S) with the site's world rotation applied un-transposed, exactly
 * as libero's check_ontop does (for the yaw-free sites it uses, this equals the site-frame offset).
 */
function siteDelta(site: Float64Array, p: Float64Array): [number, number, number] {
  const dx = p[0] - site[0];
  const dy = p[1] - site[1];
  const dz = p[2] - site[2];
  const r = site.subarray(3);
  return [r[0] * dx + r[1] * dy + r[2] * dz, r[3] * dx + r[4] * dy + r[5] * dz, r[6] * dx + r[7] * dy + r[8] * dz];
}
