import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

/** Debian's chromium (scripts/setup.sh installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string | null {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'])
    if (p && existsSync(p)) return p;
  return null;
}

export interface PageCheck {
  /** Console messages of type error, uncaught exceptions and failed requests. */
  errors: string[];
  /** Per canvas id: Chart.js's chart type and its datasets as the browser holds them. */
  charts: Record<string, { type: string; labels: unknown[]; datasets: { label: string; data: unknown[] }[] }>;
}

/** Opens an HTML file in headless Chromium and reads back what its charts hold. */
export async function openInChromium(file: string, canvasIds: string[]): Promise<PageCheck> {
  const exe = chromiumPath();
  if (!exe) throw new Error('chromium is not installed (bash scripts/setup.sh installs it)');
  const browser = await puppeteer.launch({
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const charts = await page.evaluate((ids: string[]) => {
      const C = (
        globalThis as unknown as {
          Chart: {
            getChart(
              el: unknown,
            ): { config: { type: string }; data: { labels?: unknown[]; datasets: { label: string; data: unknown[] }[] } } | undefined;
          };
        }
      ).Chart;
      const out: Record<string, unknown> = {};
      for (const id of ids) {
        const ch = C.getChart(document.getElementById(id));
        if (ch)
          out[id] = {
            type: ch.config.type,
            labels: ch.data.labels ?? [],
            datasets: ch.data.datasets.map((d) => ({ label: d.label, data: d.data })),
          };
      }
      return out;
    }, canvasIds);
    return { errors, charts: charts as PageCheck['charts'] };
  } finally {
    await browser.close();
  }
}
