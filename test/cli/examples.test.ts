import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EXIT_ALLOWED, runReview } from '../../src/cli/review.js';

const DIR = new URL('../../examples/secrets/', import.meta.url);
/** Every Secret of every example file, one document each, as `kubectl apply` would send them. */
const secrets = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, DIR), 'utf8')).map((doc) => {
      const secret = doc.toJS() as { metadata: { namespace: string; name: string } };
      return { label: `${file}: ${secret.metadata.namespace}/${secret.metadata.name}`, json: JSON.stringify(secret) };
    }),
  );

describe('the example Secrets that npm start serves', () => {
  it('are there', () => expect(secrets.length).toBeGreaterThanOrEqual(4));

  it.each(secrets)('$label is one the webhook allows', async ({ json }) => {
    const result = await runReview(json, { showSecrets: false, output: 'text' });
    expect(result.stdout).toMatch(/^Decision: ALLOWED/);
    expect(result.exitCode).toBe(EXIT_ALLOWED);
  });
});
