// Writes docs/openapi.json from the built document (`npm run openapi` builds first).
// test/resolver/openapi.test.ts fails while the committed file differs from what the server serves.
import { writeFileSync } from 'node:fs';
import { resolverOpenApiDocument } from '../dist/resolver/openapi.js';

const target = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(resolverOpenApiDocument, null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
