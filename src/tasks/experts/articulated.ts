// Articulated fixtures: cabinet drawers (open by hooking the handle, close by pushing the front), the microwave
// door (close by sweeping it shut) and the stove knob (turn by pushing its fin).
import type { Ctx, Skill, View } from './core.ts';

export function* drawer(v: View, c: Ctx, joint: string, open: boolean): Skill {
  void v;
  void c;
  void joint;
  void open;
}

export function* door(v: View, c: Ctx, joint: string, open: boolean): Skill {
  void v;
  void c;
  void joint;
  void open;
}

export function* knob(v: View, c: Ctx, joint: string, on: boolean): Skill {
  void v;
  void c;
  void joint;
  void on;
}
