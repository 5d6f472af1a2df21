/**
 * Cycle counts of the generated engines, shared by the plan, the cycle simulator and the tests
 * that compare both with RTL simulation.
 *
 * Every engine issues one tap per cycle from its start pulse on: a tap reads one input word (and,
 * for conv/dense, one weight word) and updates every lane. The last tap's result reaches the
 * output buffer PIPELINE_DEPTH cycles later, in the cycle the engine pulses `done`; the controller
 * starts the next engine in the following cycle.
 */
export const PIPELINE_DEPTH = { linear: 2, pool: 2, add: 1 } as const;
/** Cycles between the last input word's handshake and the first engine's start (beyond the next cycle). */
export const LOAD_TO_START_CYCLES = 0;
/** Idle cycles between one engine's done and the next engine's start (beyond the next cycle). */
export const HANDOFF_CYCLES = 0;

/**
 * What an engine's cycle count depends on. plan.ts's EnginePlan has these fields (the compiler
 * checks it where the plan calls engineCycles); kept here so the plan imports the cycle counts and
 * not the other way round.
 */
export type EngineShape =
  | { kind: 'linear'; cout: number; pe: number; k: number; win: { ho: number; wo: number } }
  | { kind: 'pool'; c: number; lanes: number; win: { ho: number; wo: number; kh: number; kw: number } }
  | { kind: 'add'; words: number };

/** Taps an engine issues per image: one per cycle. */
export function engineTaps(e: EngineShape): number {
  switch (e.kind) {
    case 'linear': return (e.cout / e.pe) * e.win.ho * e.win.wo * e.k;
    case 'pool': return (e.c / e.lanes) * e.win.ho * e.win.wo * e.win.kh * e.win.kw;
    case 'add': return e.words;
  }
}

/** Cycles from an engine's start pulse to its done pulse, both included. */
export const engineCycles = (e: EngineShape): number => engineTaps(e) + PIPELINE_DEPTH[e.kind];
