import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Path of a compiled worker script next to the calling module. Tests run the TypeScript sources
 * (src/ or sim/), where only the compiled copy under dist/ exists, so fall back to it.
 */
export function workerScript(moduleUrl: string, name: string): string {
  const here = fileURLToPath(new URL(`./${name}.js`, moduleUrl));
  if (existsSync(here)) return here;
  return here.replace(/[\\/](src|sim)[\\/](?!.*[\\/](?:src|sim)[\\/])/, '/dist/$1/');
}
