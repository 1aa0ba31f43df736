// The movable-object library: every LIBERO object category a BDDL task names, written from primitive geoms with
// LIBERO's sizes and masses (spec/libero.md §6) and shaped so the Panda's parallel gripper (8 cm opening, fingers
// closing along the hand's y axis, 1.6 cm pads, hand body 3.9 cm above the grip site) can pick each one from above.
// Round items get square box colliders, as LIBERO's box decompositions do: in MuJoCo 2.2.2 a cylinder touching a
// box yields a single contact point, which rocks on a table and swivels between finger pads. Hollow items (bowl,
// mugs, basket) are a base plus walls, so fingers can straddle a wall and things can go inside.
// Gripper clearances behind the numbers: a top grasp at height h presses the pads on [h - 0.0044, h + 0.0116] and
// needs the top no higher than h + 0.035 (hand box); a rim grasp needs room for the inner finger (wall radius >= 3 cm).
import { RiptideError } from '../../errors.ts';
import { OBJECT_CONTACT, type AssetModel, type GraspHint, type RegionSite, type Vec3 } from './types.ts';

/** One primitive in the object frame; size as MuJoCo reads it (box: half sizes; cylinder/capsule: radius, half length). */
interface Part {
  type: 'box' | 'cylinder' | 'capsule';
  size: number[];
  pos: Vec3;
  /** Radians, MuJoCo's default intrinsic x-y-z sequence. Collision parts only ever turn about z. */
  euler?: Vec3;
  rgba: string;
}

interface Design {
  category: string;
  collision: Part[];
  visual: Part[];
  grasp?: GraspHint;
  sites?: RegionSite[];
}

// Collision geoms are hidden by the renderer (group 0); this tint only shows in a MuJoCo viewer.
const COLLISION_RGBA = '0.6 0.6 0.65 0.5';

const RGBA = {
  white: '0.94 0.94 0.92 1',
  porcelain: '0.96 0.96 0.94 1',
  silver: '0.75 0.76 0.78 1',
  black: '0.07 0.07 0.07 1',
  charcoal: '0.16 0.16 0.17 1',
  soupRed: '0.78 0.08 0.09 1',
  sauceRed: '0.7 0.1 0.07 1',
  ketchupRed: '0.72 0.06 0.05 1',
  gold: '0.85 0.68 0.25 1',
  cheeseBlue: '0.12 0.32 0.68 1',
  butterYellow: '0.97 0.85 0.3 1',
  milkBlue: '0.2 0.4 0.8 1',
  juiceOrange: '0.98 0.55 0.08 1',
  juiceGreen: '0.3 0.6 0.2 1',
  puddingBrown: '0.36 0.2 0.1 1',
  caramel: '0.62 0.42 0.2 1',
  dressingGreen: '0.42 0.6 0.2 1',
  bbqBrown: '0.35 0.13 0.06 1',
  darkRed: '0.45 0.05 0.05 1',
  cookieTan: '0.8 0.62 0.36 1',
  cookieBlue: '0.15 0.25 0.55 1',
  bottleGreen: '0.06 0.22 0.1 1',
  labelCream: '0.92 0.88 0.74 1',
  wicker: '0.6 0.42 0.22 1',
  wickerDark: '0.45 0.3 0.15 1',
  wickerLight: '0.72 0.55 0.32 1',
  mugYellow: '0.98 0.82 0.2 1',
  mugRed: '0.75 0.08 0.08 1',
  pages: '0.93 0.91 0.85 1',
  glaze: '0.78 0.84 0.9 1',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Part builders. z0/z1 are the bottom and top of the part in the object frame.

function block(hx: number, hy: number, z0: number, z1: number, opts: { x?: number; y?: number; yaw?: number; rgba?: string } = {}): Part {
  return {
    type: 'box',
    size: [hx, hy, (z1 - z0) / 2],
    pos: [opts.x ?? 0, opts.y ?? 0, (z0 + z1) / 2],
    euler: opts.yaw ? [0, 0, opts.yaw] : undefined,
    rgba: opts.rgba ?? COLLISION_RGBA,
  };
}

/** Upright cylinder (visual discs, bands, bodies). */
function disc(r: number, z0: number, z1: number, rgba: string, x = 0, y = 0): Part {
  return { type: 'cylinder', size: [r, (z1 - z0) / 2], pos: [x, y, (z0 + z1) / 2], rgba };
}

/**
 * n wall boxes whose middles lie on a circle of radius r: a round wall for fingers to straddle. Collision walls
 * overlap by 2 mm at the joints (as bowl-plate.ts) so nothing slips through; visual walls just meet at the outside.
 */
function wallRing(r: number, halfThick: number, z0: number, z1: number, n: number, rgba?: string): Part[] {
  const halfChord = rgba === undefined ? r * Math.tan(Math.PI / n) + 0.002 : (r + halfThick) * Math.tan(Math.PI / n);
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    return block(halfThick, halfChord, z0, z1, { x: r * Math.cos(a), y: r * Math.sin(a), yaw: a, rgba });
  });
}

function topGrasp(height: number, yaw: number): GraspHint {
  return { style: 'top', height, yaw };
}

// ---------------------------------------------------------------------------------------------------------------
// Designs. Object frame: origin at the footprint centre, z = 0 at the bottom, long horizontal axis along x.

/** Soup / sauce can, Ø6.2 x 7.6 (LIBERO's collider is the 6.2 cm square prism; ours 6.0 so pads meet the label). */
function can(category: string, label: Part[]): Design {
  return {
    category,
    collision: [block(0.03, 0.03, 0, 0.076)],
    visual: [disc(0.0305, 0, 0.004, RGBA.silver), ...label, disc(0.0305, 0.072, 0.076, RGBA.silver)],
    grasp: topGrasp(0.061, 0),
  };
}

/** A flat carton lying on its largest face, long side along x: pinched across y at mid-height. */
function flatBox(category: string, size: Vec3, visual: Part[]): Design {
  const [x, y, z] = size;
  return {
    category,
    collision: [block(x / 2, y / 2, 0, z)],
    visual,
    grasp: topGrasp(Math.max(z / 2, 0.0085), Math.PI / 2),
  };
}

function cookies(): Design {
  // ~13 x 7 x 4 in LIBERO; 6.8 deep here to leave the fingers 6 mm each side. A bowl rests on its flat top.
  return flatBox('cookies', [0.13, 0.068, 0.04], [
    block(0.065, 0.034, 0, 0.04, { rgba: RGBA.cookieTan }),
    block(0.0652, 0.0342, 0.012, 0.028, { rgba: RGBA.cookieBlue }),
    block(0.03, 0.0343, 0.014, 0.026, { rgba: RGBA.soupRed }),
  ]);
}

function ketchup(): Design {
  // 5.6 x 3.7 x 14.6: body to 12.5 cm and a flip cap, gripped just below the shoulder so the hand clears the cap.
  return {
    category: 'ketchup',
    collision: [block(0.028, 0.0185, 0, 0.125), block(0.013, 0.011, 0.125, 0.146)],
    visual: [
      block(0.028, 0.0185, 0, 0.125, { rgba: RGBA.ketchupRed }),
      block(0.0282, 0.0187, 0.04, 0.085, { rgba: RGBA.white }),
      block(0.018, 0.0188, 0.05, 0.075, { rgba: RGBA.ketchupRed }),
      block(0.013, 0.011, 0.125, 0.146, { rgba: RGBA.white }),
    ],
    grasp: topGrasp(0.112, Math.PI / 2),
  };
}

/** Milk / juice carton 5.3 x 5.3 x 13.1 with a gable top; the collider keeps only the ridge fin above the box. */
function carton(category: string, body: string, band: string): Design {
  const roofHalf = 0.0265 / Math.SQRT2; // a square turned 45 deg about x spans the 5.3 cm width
  return {
    category,
    collision: [block(0.0265, 0.0265, 0, 0.105), block(0.0265, 0.005, 0.105, 0.131)],
    visual: [
      block(0.0265, 0.0265, 0, 0.105, { rgba: body }),
      block(0.0267, 0.0267, 0.03, 0.07, { rgba: band }),
      { type: 'box', size: [0.0265, roofHalf, roofHalf], pos: [0, 0, 0.105], euler: [Math.PI / 4, 0, 0], rgba: body },
      block(0.0265, 0.005, 0.105, 0.131, { rgba: body }),
    ],
    // Pads on the box below the roof; the hand clears the ridge by 5 mm.
    grasp: topGrasp(0.097, 0),
  };
}

/** Squeeze bottle ~Ø5 x 14: body, shoulder and neck; gripped on the neck (the hand would hit it over the body). */
function bottle(category: string, body: [number, number], colour: string, cap: string): Design {
  const [bx, by] = body;
  return {
    category,
    collision: [block(bx, by, 0, 0.104), block(0.018, 0.016, 0.104, 0.112), block(0.014, 0.014, 0.112, 0.14)],
    visual: [
      bx === by ? disc(bx + 0.001, 0, 0.104, colour) : block(bx, by, 0, 0.104, { rgba: colour }),
      bx === by ? disc(bx + 0.0012, 0.03, 0.075, RGBA.labelCream) : block(bx + 0.0002, by + 0.0002, 0.03, 0.075, { rgba: RGBA.labelCream }),
      disc(0.019, 0.104, 0.112, colour),
      disc(0.0145, 0.112, 0.124, colour),
      disc(0.0145, 0.124, 0.14, cap),
    ],
    grasp: topGrasp(0.125, by < bx ? Math.PI / 2 : 0),
  };
}

function wineBottle(): Design {
  // Ø4.3 x 15.7: gripped on the neck; over the body the hand would meet the neck.
  return {
    category: 'wine_bottle',
    collision: [block(0.02, 0.02, 0, 0.105), block(0.015, 0.015, 0.105, 0.117), block(0.01, 0.01, 0.117, 0.157)],
    visual: [
      disc(0.0215, 0, 0.105, RGBA.bottleGreen),
      disc(0.0217, 0.035, 0.08, RGBA.labelCream),
      disc(0.016, 0.105, 0.117, RGBA.bottleGreen),
      disc(0.0105, 0.117, 0.143, RGBA.bottleGreen),
      disc(0.011, 0.143, 0.157, RGBA.darkRed),
    ],
    grasp: topGrasp(0.137, 0),
  };
}

function blackBook(): Design {
  // Stands on its bottom edge: 2.9 thick along x, 11 wide (spine at -y), 13.4 tall; pinched across the thickness.
  return {
    category: 'black_book',
    collision: [block(0.0145, 0.055, 0, 0.134)],
    visual: [
      block(0.0015, 0.055, 0, 0.134, { x: -0.013, rgba: RGBA.black }),
      block(0.0015, 0.055, 0, 0.134, { x: 0.013, rgba: RGBA.black }),
      block(0.0145, 0.002, 0, 0.134, { y: -0.053, rgba: RGBA.black }),
      block(0.0115, 0.053, 0.001, 0.133, { y: 0.0015, rgba: RGBA.pages }),
    ],
    grasp: topGrasp(0.119, 0),
  };
}

function mokaPot(): Design {
  // Base Ø8 x 6, waist Ø5.4 x 3, top chamber Ø7.5 x 5.6, lid knob; handle at -x, spout at +x. The waist cannot be
  // reached from above (the hand would sit on the top chamber), so the grip is on the top chamber, across y.
  return {
    category: 'moka_pot',
    collision: [
      block(0.037, 0.037, 0, 0.06),
      block(0.025, 0.025, 0.06, 0.09),
      block(0.034, 0.034, 0.09, 0.146),
      block(0.008, 0.008, 0.146, 0.15),
      block(0.005, 0.006, 0.09, 0.14, { x: -0.059 }),
    ],
    visual: [
      disc(0.04, 0, 0.06, RGBA.silver),
      disc(0.027, 0.06, 0.09, RGBA.silver),
      disc(0.0375, 0.09, 0.144, RGBA.silver),
      disc(0.036, 0.144, 0.146, RGBA.charcoal),
      disc(0.008, 0.146, 0.15, RGBA.black),
      block(0.005, 0.006, 0.09, 0.14, { x: -0.059, rgba: RGBA.black }),
      block(0.011, 0.006, 0.128, 0.136, { x: -0.045, rgba: RGBA.black }),
      block(0.011, 0.006, 0.094, 0.102, { x: -0.045, rgba: RGBA.black }),
      block(0.012, 0.008, 0.12, 0.14, { x: 0.043, rgba: RGBA.silver }),
    ],
    grasp: topGrasp(0.132, Math.PI / 2),
  };
}

function ramekin(): Design {
  // Ø8.9 x 4.2, solid (a bowl rests on it); wider than the open gripper, so no grasp.
  return {
    category: 'glazed_rim_porcelain_ramekin',
    collision: [block(0.042, 0.042, 0, 0.042)],
    visual: [disc(0.0445, 0, 0.0405, RGBA.porcelain), disc(0.0445, 0.0405, 0.042, RGBA.glaze), disc(0.038, 0.0405, 0.0421, RGBA.white)],
  };
}

function blackBowl(): Design {
  // Ø10.7 x 5.1 (bowl-plate.ts's proven design): square base and 12 wall boxes at radius 4.8 cm; 6 mm walls
  // rather than 8 keep the mass within range of LIBERO's 6 g.
  const r = 0.048;
  return {
    category: 'akita_black_bowl',
    collision: [block(0.034, 0.034, 0, 0.006), ...wallRing(r, 0.003, 0.006, 0.051, 12)],
    visual: [disc(0.036, 0, 0.006, RGBA.black), ...wallRing(r, 0.0035, 0.006, 0.051, 16, RGBA.black)],
    grasp: { style: 'rim', height: 0.03, yaw: 0, rimRadius: r, anyYaw: true },
  };
}

function plate(): Design {
  // Ø13.8 x 1.9 in LIBERO: a flat square collider under a round visual (bowl-plate.ts), 1.6 cm tall. Not picked.
  return {
    category: 'plate',
    collision: [block(0.06, 0.06, 0, 0.016)],
    visual: [disc(0.045, 0, 0.005, RGBA.white), disc(0.069, 0.005, 0.016, RGBA.porcelain), disc(0.05, 0.0155, 0.0161, RGBA.white)],
  };
}

interface MugSpec {
  category: string;
  radius: number; // outer radius of the body
  height: number;
  handleReach: number; // handle bar distance beyond the body
  body: string;
  /** Colour of a band round the upper wall, if any. */
  band?: string;
}

/**
 * A mug: square base, 12 wall boxes 6 mm thick and a C handle at +x. Gripped on the rim where it crosses the
 * y axis, away from the handle; the grip sits at two thirds of the wall, or higher on tall mugs so the rim stays
 * under the hand.
 */
function mug(s: MugSpec): Design {
  const half = 0.003;
  const rim = s.radius - half;
  const base = rim / Math.SQRT2; // base corners reach the wall line
  const hx = s.radius + s.handleReach;
  const hz0 = 0.25 * s.height;
  const hz1 = 0.8 * s.height;
  const handle = (rgba?: string) => [
    block(0.004, 0.006, hz0, hz1, { x: hx, rgba }),
    block((s.handleReach + 0.002) / 2, 0.006, hz1 - 0.008, hz1, { x: s.radius + s.handleReach / 2 - 0.001, rgba }),
    block((s.handleReach + 0.002) / 2, 0.006, hz0, hz0 + 0.008, { x: s.radius + s.handleReach / 2 - 0.001, rgba }),
  ];
  return {
    category: s.category,
    collision: [block(base, base, 0, 0.005), ...wallRing(rim, half, 0.005, s.height, 12), ...handle()],
    visual: [
      disc(rim, 0, 0.005, s.body),
      ...wallRing(rim, half + 0.0003, 0.005, s.height, 20, s.body),
      ...(s.band ? wallRing(rim, half + 0.0006, 0.6 * s.height, 0.75 * s.height, 20, s.band) : []),
      ...handle(s.body),
    ],
    grasp: { style: 'rim', height: Math.max((2 / 3) * s.height, s.height - 0.03), yaw: Math.PI / 2, rimRadius: rim },
  };
}

function basket(): Design {
  // 17 x 15.7 footprint; LIBERO's 14.1 cm includes a handle, ours is an open tray with 7.5 cm walls so a gripper
  // can drop things in. The 1.2 cm floor is flat; the walls stand 7.5 mm (y) and 14 mm (x) clear of contain_region.
  const [hx, hy, t, floor, top] = [0.085, 0.0785, 0.005, 0.012, 0.075];
  const walls = (rgba: string | undefined, grow: number, z0: number, z1: number) => [
    block(t + grow, hy + grow, z0, z1, { x: hx - t, rgba }),
    block(t + grow, hy + grow, z0, z1, { x: -(hx - t), rgba }),
    block(hx - 2 * t, t + grow, z0, z1, { y: hy - t, rgba }),
    block(hx - 2 * t, t + grow, z0, z1, { y: -(hy - t), rgba }),
  ];
  return {
    category: 'basket',
    collision: [block(hx, hy, 0, floor), ...walls(undefined, 0, floor, top)],
    visual: [
      block(hx, hy, 0, floor, { rgba: RGBA.wickerDark }),
      ...walls(RGBA.wicker, 0, floor, top),
      ...walls(RGBA.wickerDark, 0.0004, 0.028, 0.034),
      ...walls(RGBA.wickerDark, 0.0004, 0.048, 0.054),
      ...walls(RGBA.wickerLight, 0.0008, 0.068, top),
    ],
    sites: [{ name: 'contain_region', pos: [0, 0, 0.072], size: [0.061, 0.061, 0.069] }],
  };
}

function frypan(): Design {
  // Ø20 x 4 pan with a 15 cm handle along +x; not picked by any expert (a handle grasp needs an off-centre grip
  // point the GraspHint cannot express). Octagon of 8 walls on a square base; the origin is the pan's centre.
  const wallR = 0.095;
  return {
    category: 'chefmate_8_frypan',
    collision: [block(0.068, 0.068, 0, 0.006), ...wallRing(wallR, 0.003, 0.006, 0.04, 8), block(0.075, 0.011, 0.028, 0.04, { x: 0.173 })],
    visual: [
      disc(0.095, 0, 0.006, RGBA.black),
      ...wallRing(wallR, 0.0032, 0.006, 0.04, 24, RGBA.black),
      block(0.02, 0.009, 0.028, 0.04, { x: 0.113, rgba: RGBA.charcoal }),
      block(0.058, 0.011, 0.028, 0.04, { x: 0.19, rgba: RGBA.black }),
    ],
  };
}

const DESIGNS: Design[] = [
  can('alphabet_soup', [disc(0.031, 0.004, 0.038, RGBA.white), disc(0.031, 0.038, 0.072, RGBA.soupRed), disc(0.0312, 0.05, 0.056, RGBA.gold)]),
  can('tomato_sauce', [disc(0.031, 0.004, 0.072, RGBA.sauceRed), disc(0.0312, 0.02, 0.03, RGBA.juiceGreen), disc(0.0312, 0.052, 0.06, RGBA.white)]),
  flatBox('cream_cheese', [0.081, 0.043, 0.018], [
    block(0.0405, 0.0215, 0, 0.012, { rgba: RGBA.cheeseBlue }),
    block(0.0405, 0.0215, 0.012, 0.018, { rgba: RGBA.silver }),
  ]),
  flatBox('butter', [0.076, 0.04, 0.017], [
    block(0.038, 0.02, 0, 0.017, { rgba: RGBA.butterYellow }),
    block(0.012, 0.0202, 0.0005, 0.0165, { x: 0.015, rgba: RGBA.white }),
  ]),
  ketchup(),
  carton('milk', RGBA.white, RGBA.milkBlue),
  carton('orange_juice', RGBA.juiceOrange, RGBA.juiceGreen),
  flatBox('chocolate_pudding', [0.08, 0.046, 0.027], [
    block(0.04, 0.023, 0, 0.027, { rgba: RGBA.puddingBrown }),
    block(0.0402, 0.0232, 0.008, 0.018, { rgba: RGBA.caramel }),
  ]),
  bottle('salad_dressing', [0.024, 0.024], RGBA.dressingGreen, RGBA.white),
  bottle('bbq_sauce', [0.026, 0.021], RGBA.bbqBrown, RGBA.darkRed),
  cookies(),
  ramekin(),
  blackBowl(),
  plate(),
  basket(),
  mug({ category: 'porcelain_mug', radius: 0.0425, height: 0.1, handleReach: 0.022, body: RGBA.porcelain }),
  mug({ category: 'white_yellow_mug', radius: 0.0425, height: 0.095, handleReach: 0.026, body: RGBA.white, band: RGBA.mugYellow }),
  mug({ category: 'red_coffee_mug', radius: 0.04, height: 0.12, handleReach: 0.022, body: RGBA.mugRed }),
  mokaPot(),
  frypan(),
  blackBook(),
  wineBottle(),
];

// ---------------------------------------------------------------------------------------------------------------
// MJCF writing and the derived facts (height, radius).

function num(v: number): string {
  return String(Number(v.toFixed(5)));
}

function nums(v: readonly number[]): string {
  return v.map(num).join(' ');
}

function geomXml(name: string, p: Part, collision: boolean): string {
  const rot = p.euler && p.euler.some((a) => a !== 0) ? ` euler="${nums(p.euler)}"` : '';
  const role = collision ? `group="0" ${OBJECT_CONTACT}` : 'group="1" contype="0" conaffinity="0" mass="0"';
  return `<geom name="${name}" type="${p.type}" size="${nums(p.size)}" pos="${nums(p.pos)}"${rot} rgba="${p.rgba}" ${role}/>`;
}

function siteXml(name: string, s: RegionSite): string {
  const quat = s.quat ? ` quat="${nums(s.quat)}"` : '';
  return `<site name="${name}_${s.name}" type="box" pos="${nums(s.pos)}" size="${nums(s.size)}"${quat} group="3" rgba="0 0.8 0.2 0.25"/>`;
}

/** Corners of a part's bounding box (cylinders and capsules by their own box) in the object frame. */
function corners(p: Part): Vec3[] {
  const [hx, hy, hz] = p.type === 'box' ? p.size : [p.size[0], p.size[0], p.size[1] + (p.type === 'capsule' ? p.size[0] : 0)];
  const [a, b, c] = p.euler ?? [0, 0, 0];
  const out: Vec3[] = [];
  for (const sx of [-1, 1]) {
    for (const sy of [-1, 1]) {
      for (const sz of [-1, 1]) {
        // R = Rx(a) Ry(b) Rz(c) applied to the corner.
        let [x, y, z] = [sx * hx, sy * hy, sz * hz];
        [x, y] = [x * Math.cos(c) - y * Math.sin(c), x * Math.sin(c) + y * Math.cos(c)];
        [x, z] = [x * Math.cos(b) + z * Math.sin(b), -x * Math.sin(b) + z * Math.cos(b)];
        [y, z] = [y * Math.cos(a) - z * Math.sin(a), y * Math.sin(a) + z * Math.cos(a)];
        out.push([p.pos[0] + x, p.pos[1] + y, p.pos[2] + z]);
      }
    }
  }
  return out;
}

function horizontalReach(p: Part): number {
  const upright = !p.euler || (p.euler[0] === 0 && p.euler[1] === 0);
  if (p.type !== 'box' && upright) return Math.hypot(p.pos[0], p.pos[1]) + p.size[0];
  return Math.max(...corners(p).map(([x, y]) => Math.hypot(x, y)));
}

function toModel(d: Design): AssetModel {
  const sites = d.sites ?? [];
  const height = Math.max(...d.collision.flatMap((p) => corners(p).map((c) => c[2])));
  const radius = Math.max(...[...d.collision, ...d.visual].map(horizontalReach));
  return {
    category: d.category,
    kind: 'object',
    height: Number(height.toFixed(5)),
    radius: Number(radius.toFixed(4)),
    sites,
    joints: [],
    grasp: d.grasp,
    body(name: string): string {
      return [
        ...d.collision.map((p, i) => geomXml(`${name}_g${i}`, p, true)),
        ...d.visual.map((p, i) => geomXml(`${name}_v${i}`, p, false)),
        ...sites.map((s) => siteXml(name, s)),
      ].join('');
    },
  };
}

/** Every LIBERO movable-object category, keyed by its BDDL name. */
export const OBJECTS: ReadonlyMap<string, AssetModel> = new Map(DESIGNS.map((d) => [d.category, toModel(d)]));

/** The model of a BDDL object category; throws naming the known ones. */
export function objectModel(category: string): AssetModel {
  const m = OBJECTS.get(category);
  if (!m) {
    throw new RiptideError(`unknown object category '${category}': known object categories are ${[...OBJECTS.keys()].join(', ')}`);
  }
  return m;
}
