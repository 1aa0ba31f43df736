// The raw VecEnv binding (cpp/addon/sim_binding.cc). src/sim/vec-env.ts wraps it; nothing else should call it.
// Shapes: K numEnvs, O objects, H x W render size. All bulk data goes through caller-owned typed arrays
// (SharedArrayBuffer-backed ones included).

export interface NativeVecEnvOptions {
  mjcf: string;
  numEnvs: number;
  name?: string;
  objects?: string[];
  render?: { width: number; height: number; msaa?: boolean };
  stepMode?: 'fast' | 'rs14';
}

export interface NativeVecEnv {
  readonly numEnvs: number;
  readonly nq: number;
  readonly nv: number;
  readonly stateSize: number; // 1 + nq + nv
  readonly nmocap: number;
  readonly numObjects: number;
  readonly renderWidth: number; // 0 without a render context
  readonly renderHeight: number;
  reset(k: number, initState?: Float64Array, fixturePoses?: Float64Array /* nmocap*7 */): void;
  step(actions: Float32Array /* K*7 */, active?: Uint8Array /* K */): void;
  runNativeLoop(actions: Float32Array /* T*K*7 */, steps: number): number;
  getState(k: number, out: Float64Array /* stateSize */): void;
  getMocap(k: number, out: Float64Array /* nmocap*7: pos + quat wxyz */): void;
  robotState(out: Float64Array /* K*26 */): void;
  objectPoses(out: Float64Array /* K*O*7 */): void;
  bodyId(name: string): number;
  siteId(name: string): number;
  jointId(name: string): number;
  cameraId(name: string): number;
  jointQposAddress(name: string): number;
  jointDofAddress(name: string): number;
  bodyPose(k: number, id: number, out: Float64Array /* 7 */): void;
  sitePose(k: number, id: number, out: Float64Array /* 12 */): void;
  jointQpos(k: number, id: number, out: Float64Array /* 7 */): number;
  inContact(k: number, bodyA: number, bodyB: number): boolean;
  contactCount(k: number): number;
  render(k: number, camera: string, out: Uint8Array /* H*W*3 */, flip180: boolean): void;
  warnings(k: number): number;
  warningText(k: number): string;
  close(): void;
}

export interface NativeSim {
  VecEnv: new (opts: NativeVecEnvOptions) => NativeVecEnv;
  mujocoVersion: string;
}
