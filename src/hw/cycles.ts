/**
 * The controller's share of the cycles (templates/top.v.hbs), used by the plan and the cycle
 * simulator; each engine's own cycles (its taps, one per cycle, plus its pipeline depth: the last
 * tap's result reaches the output buffer in the cycle the engine pulses `done`) come from its
 * module under src/hw/engines/ (engineCycles in src/hw/engines/index.ts).
 */

/** Cycles between the last input word's handshake and the first engine's start (beyond the next cycle). */
export const LOAD_TO_START_CYCLES = 0;
/** Idle cycles between one engine's done and the next engine's start (beyond the next cycle). */
export const HANDOFF_CYCLES = 0;
/** Cycles between the last engine's done and the first logit offered (the streamer's fetch). */
export const SEND_FETCH_CYCLES = 1;
