// `npm run bench`: every benchmark, printing numbers and ratios against baselines measured in the same run.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const order = ['webhook.mjs', 'metrics.mjs', 'resolver.mjs'];
const only = process.argv[2];
for (const file of order) {
  if (only && !file.startsWith(only)) continue;
  if (!readdirSync(here).includes(file)) continue;
  const module = await import(`./${file}`);
  const run = Object.entries(module).find(([name, value]) => name.startsWith('bench') && typeof value === 'function');
  if (run) await run[1]();
}
