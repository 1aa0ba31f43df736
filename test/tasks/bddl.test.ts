// The BDDL parser on two real LIBERO task files and small inline ones, and checkBddl's vocabulary errors.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { BddlError, type BddlVocabulary, checkBddl, parseBddl, readBddl } from '../../src/tasks/bddl.ts';
import { RiptideError } from '../../src/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.bddl`, import.meta.url));
const SPATIAL = fixture('pick_up_the_black_bowl_between_the_plate_and_the_ramekin_and_place_it_on_the_plate');
const OBJECT = fixture('pick_up_the_alphabet_soup_and_place_it_in_the_basket');

type Category = { kind: 'object' | 'fixture'; sites: string[] };
const object = (...sites: string[]): Category => ({ kind: 'object', sites });
const fixtureCat = (...sites: string[]): Category => ({ kind: 'fixture', sites });
const VOCAB: BddlVocabulary = {
  categories: new Map([
    ['table', fixtureCat()],
    ['floor', fixtureCat()],
    ['wooden_cabinet', fixtureCat('top_region', 'middle_region', 'bottom_region', 'top_side')],
    ['flat_stove', fixtureCat('cook_region')],
    ['akita_black_bowl', object()],
    ['cookies', object()],
    ['glazed_rim_porcelain_ramekin', object()],
    ['plate', object()],
    ['alphabet_soup', object()],
    ['basket', object('contain_region')],
    ['salad_dressing', object()],
    ['cream_cheese', object()],
    ['milk', object()],
    ['tomato_sauce', object()],
    ['butter', object()],
  ]),
  predicates: new Map([['on', 2], ['in', 2], ['open', 1], ['close', 1], ['turnon', 1], ['turnoff', 1], ['up', 1]]),
  surfaces: ['table', 'floor'],
};

/** The BddlError message `fn` throws (fails the test when it does not throw one). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, BddlError);
    return (e as Error).message;
  }
  assert.unreachable('expected a BddlError');
  return '';
}

/** A minimal valid task around `body`; line 1 is (define, and body starts on line 5. */
const task = (body: string) => `(define (problem Tiny)
  (:domain robosuite)
  (:language Put it down)
  (:fixtures main_table - table)
${body}
)`;

test('libero_spatial file: problem, domain and language with the source case', () => {
  const p = readBddl(SPATIAL);
  assert.is(p.file, SPATIAL);
  assert.is(p.problem, 'libero_tabletop_manipulation');
  assert.is(p.domain, 'robosuite');
  assert.is(p.language, 'Pick the akita black bowl between the plate and the ramekin and place it on the plate');
});

test('libero_spatial file: regions with ranges, yaw rotation and object-site targets', () => {
  const p = readBddl(SPATIAL);
  assert.is(p.regions.length, 16);
  const byName = new Map(p.regions.map((r) => [r.name, r]));
  assert.equal(byName.get('between_plate_ramekin_region'), {
    name: 'between_plate_ramekin_region', target: 'main_table', ranges: [[-0.06, 0.19, -0.04, 0.21]], yawRotation: [], line: 33,
  });
  assert.equal(byName.get('cabinet_region')!.yawRotation, [[2.6613777765410678, 2.7242096296128633]]);
  assert.equal(byName.get('cabinet_region')!.ranges, [[0.02, -0.28, 0.04, -0.26]]);
  assert.equal(byName.get('cook_region'), { name: 'cook_region', target: 'flat_stove_1', ranges: [], yawRotation: [], line: 98 });
  assert.is(byName.get('top_side')!.target, 'wooden_cabinet_1');
});

test('libero_spatial file: typed lists share one category across several names', () => {
  const p = readBddl(SPATIAL);
  assert.equal(p.fixtures.map((f) => [f.name, f.category]), [
    ['main_table', 'table'], ['wooden_cabinet_1', 'wooden_cabinet'], ['flat_stove_1', 'flat_stove'],
  ]);
  assert.equal(p.objects.slice(0, 2), [
    { name: 'akita_black_bowl_1', category: 'akita_black_bowl', line: 110 },
    { name: 'akita_black_bowl_2', category: 'akita_black_bowl', line: 110 },
  ]);
  assert.equal(p.objects.map((o) => o.name).slice(2), ['cookies_1', 'glazed_rim_porcelain_ramekin_1', 'plate_1']);
  assert.equal(p.objOfInterest, ['akita_black_bowl_1', 'plate_1']);
});

test('libero_spatial file: init atoms and the goal conjunction', () => {
  const p = readBddl(SPATIAL);
  assert.is(p.init.length, 7);
  assert.equal(p.init[0], { predicate: 'on', args: ['akita_black_bowl_1', 'main_table_between_plate_ramekin_region'], line: 122 });
  assert.equal(p.init[6], { predicate: 'on', args: ['flat_stove_1', 'main_table_stove_region'], line: 128 });
  assert.equal(p.goal, [{ predicate: 'on', args: ['akita_black_bowl_1', 'plate_1'], line: 132 }]);
  checkBddl(p, VOCAB);
});

test('libero_object file: floor regions with long floats, the basket contain region, an In goal', () => {
  const p = readBddl(OBJECT);
  assert.is(p.problem, 'libero_floor_manipulation');
  assert.is(p.language, 'Pick the alphabet soup and place it in the basket');
  assert.is(p.regions.length, 8);
  assert.equal(p.regions[2].ranges, [[0.025, -0.125, 0.07500000000000001, -0.07500000000000001]]);
  assert.equal(p.regions[7], { name: 'contain_region', target: 'basket_1', ranges: [], yawRotation: [], line: 54 });
  assert.equal(p.fixtures, [{ name: 'floor', category: 'floor', line: 60 }]);
  assert.is(p.objects.length, 7);
  assert.equal(p.init[6], { predicate: 'on', args: ['basket_1', 'floor_bin_region'], line: 85 });
  assert.equal(p.goal, [{ predicate: 'in', args: ['alphabet_soup_1', 'basket_1_contain_region'], line: 89 }]);
  checkBddl(p, VOCAB);
});

test('keywords, predicates and names are case-insensitive; language keeps its case', () => {
  const p = parseBddl(`(DEFINE (PROBLEM Libero_Kitchen_Tabletop_Manipulation)
  (:DOMAIN RoboSuite)
  (:Language Turn ON the Stove)
  (:Fixtures Main_Table - TABLE Flat_Stove_1 - Flat_Stove)
  (:INIT (TurnOff FLAT_STOVE_1))
  (:GOAL (AND (TURNON flat_stove_1) (Up Flat_Stove_1))))`);
  assert.is(p.problem, 'libero_kitchen_tabletop_manipulation');
  assert.is(p.domain, 'robosuite');
  assert.is(p.language, 'Turn ON the Stove');
  assert.equal(p.fixtures.map((f) => f.category), ['table', 'flat_stove']);
  assert.equal(p.init, [{ predicate: 'turnoff', args: ['flat_stove_1'], line: 5 }]);
  assert.equal(p.goal.map((a) => a.predicate), ['turnon', 'up']);
  checkBddl(p, VOCAB);
});

test('comments run to the end of the line and keep line numbers; the language joins words with single spaces', () => {
  const p = parseBddl(`; a task (with parens in a comment
(define (problem Tiny) ; trailing (
  (:domain robosuite)
  (:language   Put   the bowl
     down)
  (:objects bowl_1 - akita_black_bowl) ; )))
  (:goal (On bowl_1 ; the bowl
          bowl_1)))`);
  assert.is(p.language, 'Put the bowl down');
  assert.equal(p.objects, [{ name: 'bowl_1', category: 'akita_black_bowl', line: 6 }]);
  assert.equal(p.goal, [{ predicate: 'on', args: ['bowl_1', 'bowl_1'], line: 7 }]);
});

test('sections in any order; regions, fixtures, objects, obj_of_interest, init and language may be absent', () => {
  const p = parseBddl('(define (:goal (Up plate_1)) (:domain robosuite) (problem Tiny))');
  assert.is(p.problem, 'tiny');
  assert.is(p.language, '');
  assert.equal([p.regions, p.fixtures, p.objects, p.objOfInterest, p.init], [[], [], [], [], []]);
  assert.equal(p.goal, [{ predicate: 'up', args: ['plate_1'], line: 1 }]);
});

test('a region may carry :rgba and several ranges; nested And is flattened', () => {
  const p = parseBddl(task(`  (:regions (drop_region (:target main_table) (:ranges ((0 0 0.1 0.1) (0.2 0.2 0.3 0.3))) (:rgba (0 0 1 0.5))))
  (:objects plate_1 - plate)
  (:goal (And (On plate_1 main_table_drop_region) (And (Up plate_1))))`));
  assert.equal(p.regions[0].ranges, [[0, 0, 0.1, 0.1], [0.2, 0.2, 0.3, 0.3]]);
  assert.equal(p.regions[0].rgba, [0, 0, 1, 0.5]);
  assert.equal(p.goal.map((a) => a.predicate), ['on', 'up']);
  checkBddl(p, VOCAB);
});

test('unbalanced parentheses: the message names the file and the line', () => {
  const open = errorOf(() => parseBddl(task('  (:objects plate_1 - plate)\n  (:goal (On plate_1 main_table)'), 'open.bddl'));
  assert.match(open, /^open\.bddl:1: unbalanced '\(' of \(define \.\.\.\) opened here is never closed; add the missing '\)'/);
  const unclosedAtom = errorOf(() => parseBddl('(define (problem T) (:domain robosuite)\n (:goal\n  (And (On a b)\n  (Up a', 'atom.bddl'));
  assert.is(unclosedAtom, "atom.bddl:4: unbalanced '(' of (up ...) opened here is never closed; add the missing ')'");
  const extra = errorOf(() => parseBddl(task('  (:goal (Up plate_1)))\n'), 'extra.bddl'));
  assert.match(extra, /^extra\.bddl:7: unbalanced '\)' with no matching '\('/);
});

test('a section that swallowed the next one points at the missing )', () => {
  const msg = errorOf(() => parseBddl(task('  (:init (Up plate_1)\n  (:goal (Up plate_1)))'), 'swallow.bddl'));
  assert.match(msg, /^swallow\.bddl:6: section \(:goal \.\.\.\) is inside \(:init \.\.\.\) opened on line 5; add the missing '\)'/);
});

test('missing problem, domain or goal', () => {
  assert.match(errorOf(() => parseBddl('(define (:domain robosuite) (:goal (Up a)))', 'p.bddl')), /^p\.bddl:1: \(define \.\.\.\) has no \(problem <ClassName>\)/);
  assert.match(errorOf(() => parseBddl('(define (problem T) (:goal (Up a)))')), /^<inline>:1: .*has no \(:domain robosuite\)/);
  assert.match(errorOf(() => parseBddl('(define (problem T)\n (:domain robosuite))')), /^<inline>:1: .*has no \(:goal \(And \.\.\.\)\)/);
  assert.match(errorOf(() => parseBddl('')), /^<inline>:1: no \(define \.\.\.\) found/);
  assert.match(errorOf(() => parseBddl('(problem T)')), /starts with \(define/);
});

test('bad numbers, ranges of the wrong length and min > max', () => {
  const region = (ranges: string) => task(`  (:regions\n    (r (:target main_table)\n       (:ranges ${ranges})))\n  (:goal (Up main_table))`);
  assert.match(errorOf(() => parseBddl(region('((0 0 0.1 0.1x))'), 'n.bddl')), /^n\.bddl:7: bad number '0\.1x' in :ranges of region 'r'; write a decimal/);
  assert.match(errorOf(() => parseBddl(region('((0 0 0.1))'))), /^<inline>:7: :ranges of region 'r' has 3 numbers where 4 are needed; write \(xmin ymin xmax ymax\)/);
  assert.match(errorOf(() => parseBddl(region('((0.2 0 0.1 0.1))'))), /^<inline>:7: :ranges of region 'r' has min > max .*min <= max/);
  assert.match(errorOf(() => parseBddl(region('(0 0 0.1 0.1)'))), /must be written \(:ranges \(\(xmin ymin xmax ymax\) \.\.\.\)\)/);
  const yaw = task('  (:regions (r (:target main_table) (:ranges ((0 0 1 1))) (:yaw_rotation ((0.1)))))\n  (:goal (Up main_table))');
  assert.match(errorOf(() => parseBddl(yaw)), /^<inline>:5: :yaw_rotation of region 'r' has 1 numbers where 2 are needed; write \(lo hi\)/);
  assert.match(errorOf(() => parseBddl(task('  (:regions (r (:ranges ((0 0 1 1)))))\n  (:goal (Up a))'))), /^<inline>:5: region 'r' has no \(:target \.\.\.\)/);
});

test('unknown sections and region attributes', () => {
  assert.match(errorOf(() => parseBddl(task('  (:objectz plate_1 - plate)\n  (:goal (Up plate_1))'), 's.bddl')), /^s\.bddl:5: unknown section ':objectz'; the sections are .*\(:objects \.\.\.\)/);
  assert.match(errorOf(() => parseBddl(task('  (:regions (r (:target main_table) (:size 1)))\n  (:goal (Up a))'))), /^<inline>:5: unknown region attribute ':size'.*:ranges/);
  assert.match(errorOf(() => parseBddl(task('  (:goal (Up a))\n  (:goal (Up b))'))), /^<inline>:6: section \(:goal \.\.\.\) appears twice \(first on line 5\)/);
});

test('typed lists: a name declared twice, names without a category, a dangling -', () => {
  assert.match(errorOf(() => parseBddl(task('  (:objects plate_1 - plate\n    plate_1 - akita_black_bowl)\n  (:goal (Up plate_1))'), 'd.bddl')), /^d\.bddl:6: 'plate_1' is declared twice \(first on line 5\)/);
  assert.match(errorOf(() => parseBddl(task('  (:objects main_table - plate)\n  (:goal (Up plate_1))'))), /^<inline>:5: 'main_table' is declared twice \(first on line 4\)/);
  assert.match(errorOf(() => parseBddl(task('  (:objects plate_1 - plate bowl_1)\n  (:goal (Up plate_1))'))), /^<inline>:5: 'bowl_1' in \(:objects \.\.\.\) has no category; add ` - <category>`/);
  assert.match(errorOf(() => parseBddl(task('  (:objects plate_1 -)\n  (:goal (Up plate_1))'))), /must be followed by a category/);
  const twice = task('  (:regions (r (:target main_table) (:ranges ((0 0 1 1))))\n    (r (:target main_table) (:ranges ((0 0 1 1)))))\n  (:goal (Up a))');
  assert.match(errorOf(() => parseBddl(twice)), /^<inline>:6: 'main_table_r' is declared twice \(first on line 5\)/);
  // The same region name on two targets registers two regions (a cabinet's and a wine rack's top_region).
  const two = task('  (:regions (top_region (:target cab_1))\n    (top_region (:target rack_1)))\n  (:goal (Up a))');
  assert.equal(parseBddl(two).regions.map((r) => `${r.target}_${r.name}`), ['cab_1_top_region', 'rack_1_top_region']);
});

test('Not and Or are rejected: only conjunctions of atoms are supported', () => {
  const not = errorOf(() => parseBddl(task('  (:goal (And (Up a)\n    (Not (Up b))))'), 'not.bddl'));
  assert.match(not, /^not\.bddl:6: \(Not \.\.\.\) is not supported in \(:goal \.\.\.\): only conjunctions of atoms are/);
  assert.match(errorOf(() => parseBddl(task('  (:goal (or (Up a) (Up b)))'))), /^<inline>:5: \(or \.\.\.\) is not supported/);
  assert.match(errorOf(() => parseBddl(task('  (:init (And (Up a)))\n  (:goal (Up a))'))), /^<inline>:5: \(And \.\.\.\) is not supported in \(:init \.\.\.\)/);
  assert.match(errorOf(() => parseBddl(task('  (:goal (Up a) (Up b))'))), /^<inline>:5: \(:goal \.\.\.\) must hold one expression, found 2/);
});

test('checkBddl: an unknown category names file, line, category and the sorted supported ones', () => {
  const p = readBddl(SPATIAL);
  const vocab = { ...VOCAB, categories: new Map([...VOCAB.categories].filter(([c]) => c !== 'cookies')) };
  const msg = errorOf(() => checkBddl(p, vocab));
  assert.ok(msg.startsWith(`${SPATIAL}:111: unknown category 'cookies' for 'cookies_1'; supported categories: `), msg);
  const listed = msg.split('supported categories: ')[1].split(', ');
  assert.equal(listed, [...vocab.categories.keys()].sort());
});

test('checkBddl: a fixture category under :objects is reported with the section to use', () => {
  const p = parseBddl(task('  (:objects stove - flat_stove)\n  (:goal (Up stove))'), 'k.bddl');
  assert.match(errorOf(() => checkBddl(p, VOCAB)), /^k\.bddl:5: 'stove' has category 'flat_stove', which is a fixture; declare it under \(:fixtures \.\.\.\)/);
});

test('checkBddl: unknown predicate or wrong arity lists the supported predicates', () => {
  const p = parseBddl(task('  (:objects plate_1 - plate)\n  (:goal (And (Up plate_1)\n    (Stack plate_1 main_table)))'), 'pred.bddl');
  const supported = 'close/1, in/2, on/2, open/1, turnoff/1, turnon/1, up/1';
  assert.is(errorOf(() => checkBddl(p, VOCAB)), `pred.bddl:7: unknown predicate 'stack' in (:goal ...); supported predicates: ${supported}`);
  const q = parseBddl(task('  (:objects plate_1 - plate)\n  (:init (On plate_1))\n  (:goal (Up plate_1))'), 'arity.bddl');
  assert.match(errorOf(() => checkBddl(q, VOCAB)), /^arity\.bddl:6: 'on' takes 2 argument\(s\), got 1 in \(:init \.\.\.\); supported predicates: close\/1/);
});

test('checkBddl: a region on an object must be one of its sites; the message lists them', () => {
  const text = readBddl(SPATIAL).text.replace('(top_side', '(side_shelf');
  const msg = errorOf(() => checkBddl(parseBddl(text, 'site.bddl'), VOCAB));
  assert.is(msg, "site.bddl:95: region 'side_shelf' is not a site of 'wooden_cabinet_1' (category wooden_cabinet); supported sites of wooden_cabinet: bottom_region, middle_region, top_region, top_side");
});

test('checkBddl: surface regions need ranges; region targets must be declared', () => {
  const bare = parseBddl(task('  (:regions (r (:target main_table)))\n  (:goal (Up main_table))'), 'surf.bddl');
  assert.match(errorOf(() => checkBddl(bare, VOCAB)), /^surf\.bddl:5: region 'r' on surface 'main_table' has no :ranges; add \(:ranges/);
  const lost = parseBddl(task('  (:regions (r (:target kitchen_table) (:ranges ((0 0 1 1)))))\n  (:goal (Up main_table))'));
  assert.match(errorOf(() => checkBddl(lost, VOCAB)), /^<inline>:5: region 'r' targets 'kitchen_table', which is not declared/);
});

test('checkBddl: atom arguments must be declared names or full region names', () => {
  const short = readBddl(SPATIAL).text.replace('(On plate_1 main_table_plate_region)', '(On plate_1 plate_region)');
  assert.match(
    errorOf(() => checkBddl(parseBddl(short, 'short.bddl'), VOCAB)),
    /^short\.bddl:124: 'plate_region' in \(:init \.\.\.\) is neither a declared object\/fixture nor a region; regions are named with their target: use 'main_table_plate_region'/,
  );
  const ghost = parseBddl(task('  (:goal (Up ghost_1))'), 'ghost.bddl');
  assert.match(errorOf(() => checkBddl(ghost, VOCAB)), /^ghost\.bddl:5: 'ghost_1' .*declare it in \(:objects \.\.\.\)/);
});

test('checkBddl: obj_of_interest names must be declared, reported at their line', () => {
  const p = parseBddl(task('  (:objects plate_1 - plate)\n  (:obj_of_interest plate_1\n    bowl_1)\n  (:goal (Up plate_1))'), 'ooi.bddl');
  assert.match(errorOf(() => checkBddl(p, VOCAB)), /^ooi\.bddl:7: 'bowl_1' in \(:obj_of_interest \.\.\.\) is neither/);
});

test('readBddl names the path when the file cannot be read', () => {
  try {
    readBddl('/nonexistent/task.bddl');
    assert.unreachable('expected an error');
  } catch (e) {
    assert.instance(e, RiptideError);
    assert.match((e as Error).message, /cannot read BDDL task file \/nonexistent\/task\.bddl/);
  }
});

test.run();
