/**
 * A controller author's program, type-checked and run by client-package.test.ts in a fresh
 * project that installed the packed tarball: `node main.js URL CA_FILE NAMESPACE`. Prints one JSON
 * line per thing it learns; closes the client and exits when its standard input ends.
 * (Not part of the repository's own type-check: it imports the package by its published name.)
 */
import { readFileSync } from 'node:fs';
import { createRegistryConfigClient, RegistryConfigError, type RegistryConfig, type RegistryConfigEvent } from 'registry-config-webhook/client';

const [url, caFile, namespace] = process.argv.slice(2);
if (!url || !caFile || !namespace) throw new Error('usage: main.js URL CA_FILE NAMESPACE');

const print = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const client = createRegistryConfigClient({ url, ca: readFileSync(caFile), backoffMinMs: 100, backoffMaxMs: 400 });

const config: RegistryConfig | null = await client.get(namespace);
print({ kind: 'get', registryAddress: config?.registryAddress ?? null, source: config?.source ?? null });

const invalid = await client.get('Not_A_Namespace').then(
  () => undefined,
  (error: unknown) => error,
);
if (invalid instanceof RegistryConfigError) print({ kind: 'error', status: invalid.status ?? null, code: invalid.code ?? null });

// @ts-expect-error: an answer carries no credential, and the declared types say so.
print({ kind: 'never', password: config?.password });

const watch = client.watch(
  namespace,
  (current: RegistryConfig | null, event: Exclude<RegistryConfigEvent, { type: 'HEARTBEAT' }>) => {
    print({ kind: 'watch', type: event.type, registryAddress: current?.registryAddress ?? null });
  },
  { onError: (error: Error) => print({ kind: 'watch-error', message: error.message }) },
);

process.stdin.resume();
process.stdin.once('end', () => {
  watch.close();
  client.close();
  // Nothing else holds the event loop: the process ends by itself.
});
