// `npm run bench`: every benchmark, each in its own process, printing numbers and ratios against
// baselines measured in the same run. `npm run bench -- webhook` runs only the ones starting so.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const benches = ['webhook.mjs', 'metrics.mjs', 'resolver.mjs', 'hostile.mjs', 'token-flood.mjs', 'propagation.mjs'];
const only = process.argv[2];
let failed = false;
for (const file of benches) {
  if (only && !file.startsWith(only)) continue;
  const result = spawnSync(process.execPath, [here(`./${file}`)], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
