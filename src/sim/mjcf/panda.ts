// Panda arm + parallel gripper as MJCF fragments, written from the kinematic facts in spec/panda.md
// (robosuite 1.4 numbers, which LIBERO pins). Primitive geoms only: visual geoms are group 1 with
// contype/conaffinity 0 (drawn, never collide), collision geoms are group 0 (collide, hidden by the renderer).
// The names are the robosuite ones the rest of riptide reads (robot0_*, gripper0_*); cpp/sim checks them.
// The scene (floor, lights, tables, objects) lives in scene.ts: this file knows nothing about it.

export type Vec3 = readonly [number, number, number];

export interface PandaOptions {
  /** World position of the arm base (robot0_link0 origin). LIBERO table scenes: (-0.66, 0, 0.912). */
  base: Vec3;
  /** Draw robosuite's RethinkMount pedestal below the base (visual only: it sits under the table top). */
  mount?: boolean;
}

/** The MJCF pieces of the robot, to be placed in the matching sections of a document. */
export interface PandaFragments {
  defaults: string; // inside <default>
  assets: string; // inside <asset>
  body: string; // inside <worldbody>
  actuators: string; // inside <actuator>
  contact: string; // inside <contact>
}

/** robosuite 1.4 / LIBERO MountedPanda init_qpos. */
export const PANDA_INIT_QPOS = [0, -0.16104, 0, -2.4446, 0, 2.22675, Math.PI / 4] as const;
/** Finger joint positions at reset (gripper half open, as robosuite). */
export const PANDA_INIT_FINGERS = [0.020833, -0.020833] as const;

export const PANDA_NAMES = {
  joints: ['robot0_joint1', 'robot0_joint2', 'robot0_joint3', 'robot0_joint4', 'robot0_joint5', 'robot0_joint6', 'robot0_joint7'],
  fingerJoints: ['gripper0_finger_joint1', 'gripper0_finger_joint2'],
  armActuators: ['robot0_torq_j1', 'robot0_torq_j2', 'robot0_torq_j3', 'robot0_torq_j4', 'robot0_torq_j5', 'robot0_torq_j6', 'robot0_torq_j7'],
  fingerActuators: ['gripper0_finger1', 'gripper0_finger2'],
  hand: 'robot0_right_hand',
  gripSite: 'gripper0_grip_site',
  eyeInHand: 'robot0_eye_in_hand',
  fingerBodies: ['gripper0_leftfinger', 'gripper0_rightfinger'],
} as const;

const f = (v: readonly number[]): string => v.map((x) => +x.toFixed(6)).join(' ');

// One row per link of spec/panda.md: body frame in its parent, joint range and damping, inertial, torque limit,
// and capsules (fromto in the link frame, radius) approximating the link's shape.
interface Link {
  name: string;
  pos: Vec3;
  quat: readonly [number, number, number, number];
  range: readonly [number, number];
  damping: number;
  ipos: Vec3;
  mass: number;
  inertia: number;
  torque: number;
  capsules: ReadonlyArray<readonly [number, number, number, number, number, number, number]>;
}

const S = 0.707107;
const LINKS: Link[] = [
  { name: 'link1', pos: [0, 0, 0.333], quat: [1, 0, 0, 0], range: [-2.8973, 2.8973], damping: 0.1, ipos: [0, 0, -0.07], mass: 3, inertia: 0.3, torque: 80,
    capsules: [[0, 0, -0.19, 0, 0, -0.02, 0.06]] },
  { name: 'link2', pos: [0, 0, 0], quat: [S, -S, 0, 0], range: [-1.7628, 1.7628], damping: 0.1, ipos: [0, -0.1, 0], mass: 3, inertia: 0.3, torque: 80,
    capsules: [[0, 0, -0.05, 0, 0, 0.05, 0.06], [0, -0.03, 0, 0, -0.19, 0, 0.06]] },
  { name: 'link3', pos: [0, -0.316, 0], quat: [S, S, 0, 0], range: [-2.8973, 2.8973], damping: 0.1, ipos: [0.04, 0, -0.05], mass: 2, inertia: 0.2, torque: 80,
    capsules: [[0, 0, -0.12, 0, 0, -0.03, 0.055], [0.0825, 0, -0.05, 0.0825, 0, 0.05, 0.055]] },
  { name: 'link4', pos: [0.0825, 0, 0], quat: [S, S, 0, 0], range: [-3.0718, -0.0698], damping: 0.1, ipos: [-0.04, 0.05, 0], mass: 2, inertia: 0.2, torque: 80,
    capsules: [[-0.0825, 0.03, 0, -0.0825, 0.11, 0, 0.055]] },
  { name: 'link5', pos: [-0.0825, 0.384, 0], quat: [S, -S, 0, 0], range: [-2.8973, 2.8973], damping: 0.1, ipos: [0, 0, -0.15], mass: 2, inertia: 0.2, torque: 80,
    capsules: [[0, 0, -0.24, 0, 0, -0.05, 0.05], [0, 0.06, -0.24, 0, 0.06, -0.12, 0.035]] },
  { name: 'link6', pos: [0, 0, 0], quat: [S, S, 0, 0], range: [-0.0175, 3.7525], damping: 0.01, ipos: [0.06, 0, 0], mass: 1.5, inertia: 0.1, torque: 12,
    capsules: [[0, 0, -0.03, 0, 0, 0.01, 0.05], [0.088, 0, -0.04, 0.088, 0, 0.03, 0.045]] },
  { name: 'link7', pos: [0.088, 0, 0], quat: [S, S, 0, 0], range: [-2.8973, 2.8973], damping: 0.01, ipos: [0, 0, 0.08], mass: 0.5, inertia: 0.05, torque: 12,
    capsules: [[0, 0, 0.04, 0, 0, 0.09, 0.045]] },
];

function capsulePair(c: readonly number[], cls: string): string {
  const fromto = f(c.slice(0, 6));
  const r = +c[6].toFixed(4);
  return (
    `<geom class="${cls}_vis" type="capsule" fromto="${fromto}" size="${r}"/>` +
    `<geom class="${cls}_col" type="capsule" fromto="${fromto}" size="${r}"/>`
  );
}

// Finger frame: slides along its local y; the pad's inner face sits at local y = 0 (fingers touch at q = 0).
function finger(side: 'left' | 'right'): string {
  const left = side === 'left';
  const sgn = left ? 1 : -1;
  const jname = left ? 'gripper0_finger_joint1' : 'gripper0_finger_joint2';
  const range = left ? '0 0.04' : '-0.04 0';
  const tip = left ? 'gripper0_finger_joint1_tip' : 'gripper0_finger_joint2_tip';
  return (
    `<body name="gripper0_${side}finger" pos="0 0 0.0524" quat="${S} 0 0 ${S}">` +
    `<inertial pos="0 0 0.05" mass="0.1" diaginertia="0.01 0.01 0.005"/>` +
    `<joint name="${jname}" type="slide" axis="0 1 0" range="${range}" limited="true" damping="100" armature="1" frictionloss="1"/>` +
    `<geom class="panda_finger_vis" type="box" pos="0 ${f([sgn * 0.0125])} 0.027" size="0.0105 0.0085 0.024"/>` +
    `<geom class="panda_finger_col" type="box" pos="0 ${f([sgn * 0.0125])} 0.027" size="0.0105 0.0085 0.024"/>` +
    `<body name="${tip}" pos="0 ${f([sgn * 0.0085])} 0.056">` +
    `<inertial pos="0 0 0" mass="0.01" diaginertia="0.01 0.01 0.01"/>` +
    `<geom class="panda_pad_vis" type="box" pos="0 ${f([-sgn * 0.005])} -0.015" size="0.008 0.004 0.008"/>` +
    `<geom class="panda_pad_col" type="box" pos="0 ${f([-sgn * 0.005])} -0.015" size="0.008 0.004 0.008"/>` +
    `</body></body>`
  );
}

/** The Panda's MJCF fragments placed at opts.base (arm base facing +x, as in LIBERO). */
export function pandaFragments(opts: PandaOptions): PandaFragments {
  const defaults =
    `<default class="panda">` +
    `<default class="panda_vis"><geom group="1" contype="0" conaffinity="0" rgba="0.95 0.95 0.95 1"/></default>` +
    `<default class="panda_col"><geom group="0" contype="1" conaffinity="1" rgba="0.5 0.5 0.5 1"/></default>` +
    `<default class="panda_dark_vis"><geom group="1" contype="0" conaffinity="0" rgba="0.2 0.2 0.2 1"/></default>` +
    `<default class="panda_finger_vis"><geom group="1" contype="0" conaffinity="0" rgba="0.35 0.35 0.35 1"/></default>` +
    `<default class="panda_finger_col"><geom group="0" contype="1" conaffinity="1" condim="4" friction="1 0.005 0.0001" solref="0.02 1"/></default>` +
    `<default class="panda_pad_vis"><geom group="1" contype="0" conaffinity="0" rgba="0.1 0.1 0.1 1"/></default>` +
    `<default class="panda_pad_col"><geom group="0" contype="1" conaffinity="1" condim="4" friction="2 0.05 0.0001" solref="0.01 0.5"/></default>` +
    `<default class="panda_mount_vis"><geom group="1" contype="0" conaffinity="0" rgba="0.15 0.15 0.15 1"/></default>` +
    `</default>`;

  const mount = opts.mount
    ? `<geom class="panda_mount_vis" type="cylinder" pos="-0.02 0 -0.29" size="0.18 0.31"/>` +
      `<geom class="panda_mount_vis" type="box" pos="-0.325 0 -0.38" size="0.11 0.2 0.265"/>` +
      `<geom class="panda_mount_vis" type="box" pos="-0.1225 0 -0.758" size="0.385 0.35 0.155"/>`
    : '';

  let chain = '';
  for (const l of LINKS) {
    const idx = l.name.slice(4);
    chain +=
      `<body name="robot0_${l.name}" pos="${f(l.pos)}" quat="${f(l.quat)}">` +
      `<inertial pos="${f(l.ipos)}" mass="${l.mass}" diaginertia="${l.inertia} ${l.inertia} ${l.inertia}"/>` +
      `<joint name="robot0_joint${idx}" type="hinge" axis="0 0 1" range="${f(l.range)}" limited="true" damping="${l.damping}"/>` +
      l.capsules.map((c) => capsulePair(c, 'panda')).join('');
  }
  // robosuite 1.4: right_hand 0.1065 above link7, yawed -45 deg; the gripper (right_gripper) at the hand origin
  // yawed -90 deg; the grip site (eef) 0.097 down the gripper axis, between the finger pads.
  const hand =
    `<body name="robot0_right_hand" pos="0 0 0.1065" quat="0.92388 0 0 -0.382683">` +
    `<inertial pos="0 0 0" mass="0.5" diaginertia="0.05 0.05 0.05"/>` +
    `<camera name="robot0_eye_in_hand" mode="fixed" pos="0.05 0 0" quat="0 ${S} ${S} 0" fovy="75"/>` +
    `<body name="gripper0_right_gripper" pos="0 0 0" quat="${S} 0 0 -${S}">` +
    `<inertial pos="0 0 0.17" quat="${S} ${S} 0 0" mass="0.3" diaginertia="0.09 0.07 0.05"/>` +
    `<geom class="panda_vis" type="box" pos="0 0 0.032" size="0.1 0.03 0.026"/>` +
    `<geom class="panda_col" type="box" pos="0 0 0.032" size="0.1 0.03 0.026"/>` +
    `<geom class="panda_dark_vis" type="cylinder" pos="0 0 0.003" size="0.04 0.003"/>` +
    `<site name="gripper0_grip_site" pos="0 0 0.097" size="0.005" rgba="1 0 0 0.5" group="3"/>` +
    finger('left') +
    finger('right') +
    `</body></body>`;

  const body =
    `<body name="robot0_base" pos="${f(opts.base)}">` +
    mount +
    `<body name="robot0_link0" pos="0 0 0">` +
    `<inertial pos="0 0 0.05" mass="4" diaginertia="0.4 0.4 0.4"/>` +
    capsulePair([-0.04, 0, 0.05, -0.01, 0, 0.14, 0.075], 'panda') +
    chain +
    hand +
    '</body>'.repeat(LINKS.length) +
    `</body></body>`;

  let actuators = '';
  LINKS.forEach((l, i) => {
    actuators += `<motor name="robot0_torq_j${i + 1}" joint="robot0_joint${i + 1}" ctrllimited="true" ctrlrange="${-l.torque} ${l.torque}"/>`;
  });
  actuators +=
    `<position name="gripper0_finger1" joint="gripper0_finger_joint1" kp="1000" ctrllimited="true" ctrlrange="0 0.04" forcelimited="true" forcerange="-20 20"/>` +
    `<position name="gripper0_finger2" joint="gripper0_finger_joint2" kp="1000" ctrllimited="true" ctrlrange="-0.04 0" forcelimited="true" forcerange="-20 20"/>`;

  // Neighbours up to 3 links apart never collide (MuJoCo does not filter parent-child pairs when the parent is
  // welded to the world, e.g. link0-link1, and the capsules overlap across the zero-length links 1-2 and 5-6);
  // the two fingers touch when closed.
  const chainBodies = ['link0', 'link1', 'link2', 'link3', 'link4', 'link5', 'link6', 'link7'].map((n) => `robot0_${n}`);
  chainBodies.push('robot0_right_hand', 'gripper0_right_gripper');
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < chainBodies.length; i++) {
    for (let j = i + 1; j <= Math.min(i + 3, chainBodies.length - 1); j++) pairs.push([chainBodies[i], chainBodies[j]]);
  }
  for (const a of ['gripper0_leftfinger', 'gripper0_finger_joint1_tip']) {
    for (const b of ['gripper0_rightfinger', 'gripper0_finger_joint2_tip']) pairs.push([a, b]);
  }
  for (const a of ['robot0_link6', 'robot0_link7', 'robot0_right_hand']) {
    for (const b of ['gripper0_leftfinger', 'gripper0_rightfinger', 'gripper0_finger_joint1_tip', 'gripper0_finger_joint2_tip']) pairs.push([a, b]);
  }
  const contact = pairs.map(([a, b]) => `<exclude body1="${a}" body2="${b}"/>`).join('');

  return { defaults, assets: '', body, actuators, contact };
}
