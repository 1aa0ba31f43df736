// The built-in task suites: LIBERO's four 10-task suites in LIBERO's order, each task one of our own BDDL files in
// this folder with the instruction eval scripts prompt with, and each suite's policy step budget (spec/libero.md §5).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RiptideError } from '../../errors.ts';

export interface TaskEntry {
  suite: string;
  id: number;
  name: string;
  language: string;
  /** Absolute path of the task's BDDL file. */
  file: string;
  maxSteps: number;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

const ORDER: Record<string, { maxSteps: number; tasks: string[] }> = {
  libero_spatial: {
    maxSteps: 220,
    tasks: [
      'between_the_plate_and_the_ramekin',
      'next_to_the_ramekin',
      'from_table_center',
      'on_the_cookie_box',
      'in_the_top_drawer_of_the_wooden_cabinet',
      'on_the_ramekin',
      'next_to_the_cookie_box',
      'on_the_stove',
      'next_to_the_plate',
      'on_the_wooden_cabinet',
    ].map((w) => `pick_up_the_black_bowl_${w}_and_place_it_on_the_plate`),
  },
  libero_object: {
    maxSteps: 280,
    tasks: [
      'alphabet_soup',
      'cream_cheese',
      'salad_dressing',
      'bbq_sauce',
      'ketchup',
      'tomato_sauce',
      'butter',
      'milk',
      'chocolate_pudding',
      'orange_juice',
    ].map((o) => `pick_up_the_${o}_and_place_it_in_the_basket`),
  },
  libero_goal: {
    maxSteps: 300,
    tasks: [
      'open_the_middle_drawer_of_the_cabinet',
      'put_the_bowl_on_the_stove',
      'put_the_wine_bottle_on_top_of_the_cabinet',
      'open_the_top_drawer_and_put_the_bowl_inside',
      'put_the_bowl_on_top_of_the_cabinet',
      'push_the_plate_to_the_front_of_the_stove',
      'put_the_cream_cheese_in_the_bowl',
      'turn_on_the_stove',
      'put_the_bowl_on_the_plate',
      'put_the_wine_bottle_on_the_rack',
    ],
  },
  libero_10: {
    maxSteps: 520,
    tasks: [
      'LIVING_ROOM_SCENE2_put_both_the_alphabet_soup_and_the_tomato_sauce_in_the_basket',
      'LIVING_ROOM_SCENE2_put_both_the_cream_cheese_box_and_the_butter_in_the_basket',
      'KITCHEN_SCENE3_turn_on_the_stove_and_put_the_moka_pot_on_it',
      'KITCHEN_SCENE4_put_the_black_bowl_in_the_bottom_drawer_of_the_cabinet_and_close_it',
      'LIVING_ROOM_SCENE5_put_the_white_mug_on_the_left_plate_and_put_the_yellow_and_white_mug_on_the_right_plate',
      'STUDY_SCENE1_pick_up_the_book_and_place_it_in_the_back_compartment_of_the_caddy',
      'LIVING_ROOM_SCENE6_put_the_white_mug_on_the_plate_and_put_the_chocolate_pudding_to_the_right_of_the_plate',
      'LIVING_ROOM_SCENE1_put_both_the_alphabet_soup_and_the_cream_cheese_box_in_the_basket',
      'KITCHEN_SCENE8_put_both_moka_pots_on_the_stove',
      'KITCHEN_SCENE6_put_the_yellow_and_white_mug_in_the_microwave_and_close_it',
    ],
  },
};

export const SUITES: readonly string[] = Object.freeze(Object.keys(ORDER));

/** LIBERO's language for a task name: the words after the scene prefix (libero/benchmark grab_language_from_filename). */
function languageOf(name: string): string {
  const m = /^[A-Z_]+SCENE\d+_(.*)$/.exec(name);
  return (m ? m[1] : name).replaceAll('_', ' ');
}

export function suiteTasks(suite: string): TaskEntry[] {
  const s = ORDER[suite];
  if (!s) throw new RiptideError(`unknown suite '${suite}'; the suites are ${SUITES.join(', ')}`);
  return s.tasks.map((name, id) => ({
    suite,
    id,
    name,
    language: languageOf(name),
    file: path.join(HERE, suite, `${name}.bddl`),
    maxSteps: s.maxSteps,
  }));
}

export function allTasks(): TaskEntry[] {
  return SUITES.flatMap(suiteTasks);
}

/** 'libero_10/3', 'libero_10:3', 'libero_goal/turn_on_the_stove' or a task name unique across suites. */
export function findTask(ref: string): TaskEntry {
  const m = /^([a-z0-9_]+)[/:](.+)$/.exec(ref);
  if (m && ORDER[m[1]]) {
    const tasks = suiteTasks(m[1]);
    const hit = /^\d+$/.test(m[2]) ? tasks[Number(m[2])] : tasks.find((t) => t.name === m[2]);
    if (hit) return hit;
    throw new RiptideError(`${m[1]} has no task '${m[2]}' (ids 0..${tasks.length - 1}); see: riptide tasks list --suite ${m[1]}`);
  }
  const hits = allTasks().filter((t) => t.name === ref);
  if (hits.length === 1) return hits[0];
  throw new RiptideError(`unknown task '${ref}': give suite/id (e.g. libero_10/3), suite/name, a task name or a .bddl path; see: riptide tasks list`);
}
