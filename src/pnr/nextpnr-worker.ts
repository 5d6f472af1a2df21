import { parentPort, workerData } from 'node:worker_threads';

/**
 * Runs nextpnr-ice40 (WebAssembly) in its own thread, so that the caller can stop it: a design
 * that barely fits can keep the router busy for a long time, and WebAssembly running on the main
 * thread cannot be interrupted. Log lines go to the caller as they come.
 */
const { args, files } = workerData as { args: string[]; files: Record<string, string> };
const port = parentPort!;
const dec = new TextDecoder();
const sink = (b: Uint8Array | null) => {
  if (b) port.postMessage({ log: dec.decode(b) });
};
const mod = await import('@yowasp/nextpnr-ice40');
try {
  const out = (await mod.runNextpnrIce40(args, files, { stdout: sink, stderr: sink })) as Record<string, unknown>;
  port.postMessage({ done: { report: out['report.json'], asc: out['design.asc'] } });
} catch (e) {
  port.postMessage({ failed: (e as Error).message });
}
