// LIBERO's BDDL task dialect: parseBddl turns a task file into plain data that keeps source lines, and checkBddl
// validates it against the categories, sites and predicates our scenes implement (libero.md section 3).
import { readFileSync } from 'node:fs';

import { RiptideError } from '../errors.ts';

export interface BddlRegion {
  name: string;
  target: string;
  ranges: [number, number, number, number][];
  yawRotation: [number, number][];
  rgba?: [number, number, number, number];
  line: number;
}
export interface BddlInstance { name: string; category: string; line: number }
export interface BddlAtom { predicate: string; args: string[]; line: number }
export interface BddlProblem {
  file: string; // the path (or '<inline>') used in messages
  text: string;
  problem: string; // lower-cased problem class, e.g. 'libero_tabletop_manipulation'
  domain: string;
  language: string; // source case kept: prompts are built from it
  regions: BddlRegion[];
  fixtures: BddlInstance[];
  objects: BddlInstance[];
  objOfInterest: string[];
  init: BddlAtom[];
  goal: BddlAtom[]; // the atoms of the goal conjunction
}
export interface BddlVocabulary {
  categories: Map<string, { kind: 'object' | 'fixture'; sites: string[] }>;
  predicates: Map<string, number>; // lower-case name -> arity
  surfaces: string[]; // fixture categories whose regions are rectangles given by :ranges
}

/** A BDDL input error; the message always starts with `${file}:${line}: `. */
export class BddlError extends RiptideError {
  override name = 'BddlError';
}

// `text` is lower-cased as LIBERO's bddl.parsing.scan_tokens does; `raw` keeps the source case for :language.
interface Sym { kind: 'sym'; text: string; raw: string; line: number }
interface List { kind: 'list'; items: Node[]; line: number }
type Node = Sym | List;

const SECTIONS = [':domain', ':language', ':regions', ':fixtures', ':objects', ':obj_of_interest', ':init', ':goal'];
// LIBERO's parser accepts these and our scenes have no use for them.
const IGNORED_SECTIONS = [':requirements', ':scene_properties'];
const CONNECTIVES = new Set(['and', 'not', 'or', 'imply', 'exists', 'forall', 'when']);
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/;

type Fail = (line: number, msg: string) => never;

function head(n: Node): string {
  return n.kind === 'list' && n.items[0]?.kind === 'sym' ? n.items[0].text : '';
}

function readTree(text: string, fail: Fail): Node[] {
  const root: List = { kind: 'list', items: [], line: 1 };
  const stack: List[] = [root];
  let line = 1;
  for (const [tok] of text.matchAll(/;[^\n]*|\n|[()]|[^\s();]+/g)) {
    if (tok === '\n') line++;
    else if (tok[0] === ';') continue;
    else if (tok === '(') {
      const list: List = { kind: 'list', items: [], line };
      stack[stack.length - 1].items.push(list);
      stack.push(list);
    } else if (tok === ')') {
      if (stack.length === 1) fail(line, `unbalanced ')' with no matching '('; remove it or add the missing '('`);
      stack.pop();
    } else stack[stack.length - 1].items.push({ kind: 'sym', text: tok.toLowerCase(), raw: tok, line });
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1];
    fail(open.line, `unbalanced '(' of (${head(open) || '...'} ...) opened here is never closed; add the missing ')'`);
  }
  return root.items;
}

export function parseBddl(text: string, file = '<inline>'): BddlProblem {
  const fail: Fail = (line, msg) => {
    throw new BddlError(`${file}:${line}: ${msg}`);
  };
  const where = (n: Node): string => (n.kind === 'sym' ? `'${n.raw}'` : `(${head(n) || '...'} ...)`);
  // A section keyword inside another section almost always means that section lost its ')'.
  const misplaced = (n: Node, sec: List, expected: string): never => {
    const h = head(n);
    if (SECTIONS.includes(h) || IGNORED_SECTIONS.includes(h))
      fail(n.line, `section (${h} ...) is inside (${head(sec)} ...) opened on line ${sec.line}; add the missing ')' that closes (${head(sec)} ...) before line ${n.line}`);
    return fail(n.line, `unexpected ${where(n)} in (${head(sec)} ...); expected ${expected}`);
  };
  const sym = (n: Node | undefined, sec: List, expected: string): Sym => {
    if (n === undefined) fail(sec.line, `(${head(sec)} ...) is missing ${expected}`);
    return n.kind === 'sym' ? n : misplaced(n, sec, expected);
  };
  const single = (sec: List, expected: string): string => {
    if (sec.items.length > 2) fail(sec.items[2].line, `(${head(sec)} ...) takes one ${expected}; remove ${where(sec.items[2])}`);
    return sym(sec.items[1], sec, expected).text;
  };
  const num = (n: Node, sec: List, what: string): number => {
    const s = sym(n, sec, `a number in ${what}`);
    if (!NUMBER.test(s.text)) fail(s.line, `bad number '${s.raw}' in ${what}; write a decimal such as -0.075`);
    return Number(s.text);
  };
  // (:ranges ((a b c d) ...)) and (:yaw_rotation ((lo hi) ...)): one wrapper list of n-number tuples.
  const tuples = (attr: List, n: number, what: string, shape: string): number[][] => {
    const wrap = attr.items[1];
    if (attr.items.length !== 2 || wrap.kind !== 'list' || wrap.items.some((t) => t.kind !== 'list'))
      fail(attr.line, `${what} must be written (${head(attr)} (${shape} ...))`);
    return (wrap as List).items.map((t) => {
      const items = (t as List).items;
      if (items.length !== n) fail(t.line, `${what} has ${items.length} numbers where ${n} are needed; write ${shape}`);
      return items.map((x) => num(x, attr, what));
    });
  };

  const region = (n: Node, sec: List): BddlRegion => {
    const expected = 'a region (name (:target fixture_or_object) ...)';
    if (n.kind !== 'list' || head(n) === '' || head(n).startsWith(':')) return misplaced(n, sec, expected);
    const r: BddlRegion = { name: head(n), target: '', ranges: [], yawRotation: [], line: n.line };
    const what = (attr: string) => `${attr} of region '${r.name}'`;
    for (const attr of n.items.slice(1)) {
      const key = head(attr);
      if (attr.kind !== 'list' || !key.startsWith(':'))
        fail(attr.line, `unexpected ${where(attr)} in region '${r.name}'; attributes are (:target ...), (:ranges ...), (:yaw_rotation ...), (:rgba ...)`);
      if (key === ':target') r.target = single(attr, 'fixture or object name');
      else if (key === ':ranges') {
        r.ranges = tuples(attr, 4, what(key), '(xmin ymin xmax ymax)') as BddlRegion['ranges'];
        for (const [x0, y0, x1, y1] of r.ranges)
          if (x0 > x1 || y0 > y1) fail(attr.line, `${what(key)} has min > max in (${x0} ${y0} ${x1} ${y1}); write (xmin ymin xmax ymax) with min <= max`);
      } else if (key === ':yaw_rotation') r.yawRotation = tuples(attr, 2, what(key), '(lo hi)') as BddlRegion['yawRotation'];
      else if (key === ':rgba') {
        const c = attr.items[1];
        if (attr.items.length !== 2 || c.kind !== 'list' || c.items.length !== 4) fail(attr.line, `${what(key)} must be written (:rgba (r g b a))`);
        r.rgba = (c as List).items.map((x) => num(x, attr, what(key))) as BddlRegion['rgba'];
      } else fail(attr.line, `unknown region attribute '${key}' in region '${r.name}'; use :target, :ranges, :yaw_rotation or :rgba`);
    }
    if (!r.target) fail(n.line, `region '${r.name}' has no (:target ...); add the fixture or object it lies on or in`);
    return r;
  };

  // `a b - cat c - cat2`: every name before a '-' takes the category after it.
  const typedList = (sec: List): BddlInstance[] => {
    const out: BddlInstance[] = [];
    let pending: Sym[] = [];
    for (let i = 1; i < sec.items.length; i++) {
      const s = sym(sec.items[i], sec, 'names typed as `name1 name2 - category`');
      if (s.text !== '-') pending.push(s);
      else {
        const cat = sec.items[++i];
        if (pending.length === 0) fail(s.line, `'-' in (${head(sec)} ...) has no names before it; write \`name - category\``);
        if (cat === undefined || cat.kind !== 'sym' || cat.text === '-')
          fail(s.line, `'-' in (${head(sec)} ...) must be followed by a category; write \`name - category\``);
        out.push(...pending.map((p) => ({ name: p.text, category: cat.text, line: p.line })));
        pending = [];
      }
    }
    if (pending.length > 0)
      fail(pending[0].line, `'${pending.map((p) => p.raw).join(' ')}' in (${head(sec)} ...) has no category; add \` - <category>\` after it`);
    return out;
  };

  const atom = (n: Node, sec: List): BddlAtom => {
    const expected = 'an atom (Predicate arg ...)';
    if (n.kind !== 'list' || head(n) === '' || head(n).startsWith(':')) return misplaced(n, sec, expected);
    const p = n.items[0] as Sym;
    if (CONNECTIVES.has(p.text))
      fail(n.line, `(${p.raw} ...) is not supported in (${head(sec)} ...): only conjunctions of atoms are, as in LIBERO's suites; write (:goal (And (Pred a b) ...)) and plain atoms in (:init ...)`);
    const args = n.items.slice(1).map((a) => {
      if (a.kind === 'list') fail(a.line, `atom (${p.raw} ...) has a nested list; its arguments are plain names`);
      return a.text;
    });
    return { predicate: p.text, args, line: n.line };
  };

  const goal = (sec: List): BddlAtom[] => {
    if (sec.items.length !== 2)
      fail(sec.line, `(:goal ...) must hold one expression, found ${sec.items.length - 1}; write (:goal (And (Pred a b) ...))`);
    const out: BddlAtom[] = [];
    const walk = (n: Node): void => {
      if (head(n) === 'and') (n as List).items.slice(1).forEach(walk);
      else out.push(atom(n, sec));
    };
    walk(sec.items[1]);
    if (out.length === 0) fail(sec.line, `(:goal ...) has no atoms; write (:goal (And (Pred a b) ...))`);
    return out;
  };

  const top = readTree(text, fail);
  const define = top[0];
  if (define === undefined) fail(1, `no (define ...) found; a BDDL task is (define (problem X) (:domain robosuite) ...)`);
  if (head(define) !== 'define') fail(define.line, `a BDDL task starts with (define (problem X) ...), found ${where(define)}`);
  if (top.length > 1) fail(top[1].line, `${where(top[1])} after the closing ')' of (define ...); move it inside or remove it`);

  const p: BddlProblem = {
    file, text, problem: '', domain: '', language: '', regions: [], fixtures: [], objects: [], objOfInterest: [], init: [], goal: [],
  };
  const seen = new Map<string, number>();
  const root = define as List;
  for (const sec of root.items.slice(1)) {
    const key = head(sec);
    if (sec.kind !== 'list' || key === '') fail(sec.line, `unexpected ${where(sec)} in (define ...); expected a section such as (:init ...)`);
    if (seen.has(key)) fail(sec.line, `section (${key} ...) appears twice (first on line ${seen.get(key)}); merge them into one`);
    seen.set(key, sec.line);
    const body = (sec as List).items.slice(1);
    if (key === 'problem') p.problem = single(sec as List, 'problem class name');
    else if (key === ':domain') p.domain = single(sec as List, 'domain name');
    else if (key === ':language') p.language = body.map((w) => sym(w, sec as List, 'plain words').raw).join(' ');
    else if (key === ':regions') p.regions = body.map((r) => region(r, sec as List));
    else if (key === ':fixtures') p.fixtures = typedList(sec as List);
    else if (key === ':objects') p.objects = typedList(sec as List);
    else if (key === ':obj_of_interest') p.objOfInterest = body.map((o) => sym(o, sec as List, 'object names').text);
    else if (key === ':init') p.init = body.map((a) => atom(a, sec as List));
    else if (key === ':goal') p.goal = goal(sec as List);
    else if (!IGNORED_SECTIONS.includes(key))
      fail(sec.line, `unknown section '${key}'; the sections are (problem X), ${SECTIONS.map((s) => `(${s} ...)`).join(', ')}`);
  }
  for (const [key, fix] of [['problem', '(problem <ClassName>)'], [':domain', '(:domain robosuite)'], [':goal', '(:goal (And ...))']])
    if (!seen.has(key)) fail(root.line, `(define ...) has no ${fix}; add it`);

  // Regions are registered as `${target}_${name}`, so two fixtures may each offer a `top_region`; the check below
  // catches a region declared twice for the same target.
  const declared = new Map<string, number>();
  for (const d of [...p.fixtures, ...p.objects, ...p.regions.map((r) => ({ ...r, name: `${r.target}_${r.name}` }))]) {
    if (declared.has(d.name)) fail(d.line, `'${d.name}' is declared twice (first on line ${declared.get(d.name)}); rename or remove one`);
    declared.set(d.name, d.line);
  }
  return p;
}

export function readBddl(path: string): BddlProblem {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RiptideError(`cannot read BDDL task file ${path}: ${(e as Error).message}; check the path`);
  }
  return parseBddl(text, path);
}

/** Throws a BddlError at the first category, predicate, name or region our scenes cannot build or evaluate. */
export function checkBddl(p: BddlProblem, vocab: BddlVocabulary): void {
  const fail: Fail = (line, msg) => {
    throw new BddlError(`${p.file}:${line}: ${msg}`);
  };
  const instances = new Map<string, BddlInstance>();
  const categories = [...vocab.categories.keys()].sort().join(', ');
  for (const [kind, list] of [['fixture', p.fixtures], ['object', p.objects]] as const) {
    for (const inst of list) {
      const cat = vocab.categories.get(inst.category);
      if (cat === undefined) fail(inst.line, `unknown category '${inst.category}' for '${inst.name}'; supported categories: ${categories}`);
      if (cat.kind !== kind)
        fail(inst.line, `'${inst.name}' has category '${inst.category}', which is a ${cat.kind}; declare it under (:${cat.kind}s ...)`);
      instances.set(inst.name, inst);
    }
  }
  const regions = new Set<string>(); // registered as `${target}_${name}`, the way LIBERO names region sites
  for (const r of p.regions) {
    const t = instances.get(r.target);
    if (t === undefined)
      fail(r.line, `region '${r.name}' targets '${r.target}', which is not declared; declare it in (:fixtures ...) or (:objects ...)`);
    if (vocab.surfaces.includes(t.category)) {
      if (r.ranges.length === 0) fail(r.line, `region '${r.name}' on surface '${r.target}' has no :ranges; add (:ranges ((xmin ymin xmax ymax)))`);
    } else {
      const sites = [...vocab.categories.get(t.category)!.sites].sort();
      if (!sites.includes(r.name))
        fail(r.line, `region '${r.name}' is not a site of '${r.target}' (category ${t.category}); supported sites of ${t.category}: ${sites.join(', ') || '(none)'}`);
    }
    regions.add(`${r.target}_${r.name}`);
  }
  const resolve = (name: string, line: number, where: string): void => {
    if (instances.has(name) || regions.has(name)) return;
    const bare = p.regions.find((r) => r.name === name);
    const fix = bare ? `regions are named with their target: use '${bare.target}_${bare.name}'` : 'declare it in (:objects ...) or (:fixtures ...)';
    fail(line, `'${name}' in ${where} is neither a declared object/fixture nor a region; ${fix}`);
  };
  const predicates = [...vocab.predicates].sort(([a], [b]) => a.localeCompare(b)).map(([n, k]) => `${n}/${k}`).join(', ');
  for (const [sec, atoms] of [[':init', p.init], [':goal', p.goal]] as const) {
    for (const a of atoms) {
      const arity = vocab.predicates.get(a.predicate);
      if (arity === undefined) fail(a.line, `unknown predicate '${a.predicate}' in (${sec} ...); supported predicates: ${predicates}`);
      if (a.args.length !== arity)
        fail(a.line, `'${a.predicate}' takes ${arity} argument(s), got ${a.args.length} in (${sec} ...); supported predicates: ${predicates}`);
      for (const arg of a.args) resolve(arg, a.line, `(${sec} ...)`);
    }
  }
  // objOfInterest carries no lines; find each name after the section keyword so the message can point at it.
  const lower = p.text.toLowerCase();
  const start = Math.max(0, lower.indexOf(':obj_of_interest'));
  for (const name of p.objOfInterest) {
    const at = lower.slice(start).search(new RegExp(`(^|[\\s()])${name.replace(/[^\w]/g, '\\$&')}($|[\\s()])`));
    resolve(name, lower.slice(0, start + Math.max(0, at) + 1).split('\n').length, '(:obj_of_interest ...)');
  }
}
