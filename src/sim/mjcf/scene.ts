// Whole MJCF documents: LIBERO's global options, a floor and lights, the Panda (panda.ts) and whatever the
// caller adds (tables, objects, cameras). The robot and the scene stay apart, as in MuJoCo Menagerie.
// The arena is sized small on purpose: MuJoCo 2.2.2 allocates dense njmax x njmax arrays and memsets them on
// every reset (spec/env-cost.md: njmax 5000 -> 30 ms per reset).
import { pandaFragments, type Vec3 } from './panda.ts';

export interface SceneSpec {
  /** Model name (shows in MuJoCo messages). */
  name?: string;
  robot?: { base: Vec3; mount?: boolean };
  /** Extra XML inside <asset> (textures, materials, meshes). */
  assets?: string;
  /** Extra XML inside <default>. */
  defaults?: string;
  /** Extra XML inside <worldbody> (tables, objects with free joints, cameras, sites). */
  worldbody?: string;
  /** Extra XML inside <contact> (excludes, pairs). */
  contact?: string;
  /** Extra XML inside <actuator>. */
  actuators?: string;
  /** Arena sizes; defaults nconmax 200, njmax 600, nstack 400000 (mjtNum slots). */
  size?: { nconmax?: number; njmax?: number; nstack?: number };
  /** Floor plane: default true. */
  floor?: boolean;
}

export const DEFAULT_ARENA = { nconmax: 200, njmax: 600, nstack: 400_000 } as const;

/** A complete MJCF document for spec: LIBERO options, floor + lights, the Panda, the caller's parts. */
export function composeScene(spec: SceneSpec): string {
  const size = { ...DEFAULT_ARENA, ...spec.size };
  const robot = pandaFragments({ base: spec.robot?.base ?? [-0.66, 0, 0.912], mount: spec.robot?.mount ?? true });
  const floor =
    spec.floor === false
      ? ''
      : `<geom name="floor" type="plane" pos="0 0 0" size="3 3 0.125" material="riptide_floor" group="1" condim="3"/>`;
  return [
    `<mujoco model="${spec.name ?? 'riptide_scene'}">`,
    `<compiler angle="radian" inertiagrouprange="0 0"/>`,
    `<option timestep="0.002" impratio="20" cone="elliptic" density="1.2" viscosity="0.00002"/>`,
    `<size nconmax="${size.nconmax}" njmax="${size.njmax}" nstack="${size.nstack}"/>`,
    `<visual><map znear="0.001"/><quality shadowsize="0"/>` +
      `<headlight ambient="0.25 0.25 0.25" diffuse="0.5 0.5 0.5" specular="0.1 0.1 0.1"/></visual>`,
    `<default>${robot.defaults}${spec.defaults ?? ''}</default>`,
    `<asset>` +
      `<material name="riptide_floor" rgba="0.55 0.55 0.55 1" specular="0" shininess="0" reflectance="0"/>` +
      robot.assets +
      (spec.assets ?? '') +
      `</asset>`,
    `<worldbody>`,
    `<light name="light0" pos="1 1 4" dir="-0.2 -0.2 -1" directional="true" castshadow="false" diffuse="0.6 0.6 0.6" specular="0.2 0.2 0.2"/>`,
    `<light name="light1" pos="-3 -3 3" dir="0.5 0.5 -0.6" castshadow="false" diffuse="0.3 0.3 0.3" specular="0.1 0.1 0.1"/>`,
    floor,
    robot.body,
    spec.worldbody ?? '',
    `</worldbody>`,
    `<actuator>${robot.actuators}${spec.actuators ?? ''}</actuator>`,
    `<contact>${robot.contact}${spec.contact ?? ''}</contact>`,
    `</mujoco>`,
    '',
  ].join('\n');
}

/** LIBERO's generic table (1.0 x 1.2 x 0.05, top at z 0.90) as worldbody XML: a collision box, a visual box, 4 legs. */
export function tableXml(opts: { name?: string; pos?: Vec3; friction?: Vec3; rgba?: string } = {}): string {
  const name = opts.name ?? 'table';
  const [x, y, top] = opts.pos ?? [0, 0, 0.9];
  const fr = (opts.friction ?? [0.6, 0.005, 0.0001]).join(' ');
  const rgba = opts.rgba ?? '0.55 0.36 0.2 1';
  const legs = [
    [0.4, 0.5],
    [-0.4, 0.5],
    [0.4, -0.5],
    [-0.4, -0.5],
  ]
    .map(([lx, ly]) => `<geom type="cylinder" pos="${lx} ${ly} ${-(top - 0.05) / 2 - 0.025}" size="0.025 ${(top - 0.05) / 2}" group="1" contype="0" conaffinity="0" rgba="0.3 0.3 0.3 1"/>`)
    .join('');
  return (
    `<body name="${name}" pos="${x} ${y} ${top - 0.025}">` +
    `<geom name="${name}_collision" type="box" size="0.5 0.6 0.025" friction="${fr}" group="0" rgba="0.5 0.5 0.5 1"/>` +
    `<geom name="${name}_visual" type="box" size="0.5 0.6 0.025" group="1" contype="0" conaffinity="0" rgba="${rgba}"/>` +
    legs +
    `</body>`
  );
}

/** LIBERO's agentview camera for table scenes (kitchen / generic table), as worldbody XML. */
export function agentviewCameraXml(pos: Vec3 = [0.6586, 0, 1.6104], quat: readonly number[] = [0.638, 0.3048, 0.3048, 0.638]): string {
  return `<camera name="agentview" mode="fixed" pos="${pos.join(' ')}" quat="${quat.join(' ')}"/>`;
}

/** A ready example: the mounted Panda at a LIBERO generic table with the agentview camera and no objects. */
export function tabletopScene(extra: { assets?: string; worldbody?: string } = {}): string {
  return composeScene({
    name: 'riptide_tabletop',
    robot: { base: [-0.66, 0, 0.912], mount: true },
    assets: extra.assets,
    worldbody: tableXml() + agentviewCameraXml() + (extra.worldbody ?? ''),
  });
}
