/**
 * A one-line progress bar with rate and ETA on stderr. It draws only on a terminal, so piped and
 * --json output stays clean, and redraws at most every 100 ms.
 */
export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'images',
    enabled = true,
  ) {
    this.enabled = enabled && Boolean(process.stderr.isTTY);
  }

  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const secs = (now - this.start) / 1000;
    const rate = done / Math.max(secs, 1e-9);
    const eta = done > 0 ? (this.total - done) / rate : NaN;
    const width = 28;
    const filled = Math.round((done / this.total) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const etaText = Number.isFinite(eta) ? `ETA ${fmtDuration(eta)}` : 'ETA --';
    // Fractional progress (a sweep's configurations part-way through their search) shows one decimal.
    const shown = Number.isInteger(done) ? String(done) : done.toFixed(1);
    const rateText = rate >= 10 || rate === 0 ? rate.toFixed(0) : rate.toPrecision(2);
    process.stderr.write(`\r${this.label} [${bar}] ${shown}/${this.total} ${this.unit} ${rateText}/s ${etaText}  `);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}

export function fmtDuration(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/**
 * One bar per stage of a multi-stage command, created when the stage first reports and cleared
 * when it completes; `enabled` false (--json) draws nothing.
 */
export function stageBars(enabled: boolean, unitOf: (stage: string) => string): (stage: string, done: number, total: number) => void {
  const bars = new Map<string, Progress>();
  return (stage, done, total) => {
    if (!enabled) return;
    let b = bars.get(stage);
    if (!b) {
      b = new Progress(stage, total, unitOf(stage));
      bars.set(stage, b);
    }
    b.update(done);
    if (done === total) b.done();
  };
}
