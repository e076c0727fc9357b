/** `config.propagation.concurrency` and `.writesPerSecond`: rendered as env, read back by the server, bounded by the schema. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { helmTemplateRaw, NAMESPACE, only, renderChart, type K8sObject } from './helm.js';

interface EnvVar {
  name: string;
  value?: string;
}

function literalEnv(objects: K8sObject[]): Record<string, string> {
  const containers = only(objects, 'Deployment').spec.template.spec.containers as { env: EnvVar[] }[];
  return Object.fromEntries((containers[0]?.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}

const machine = { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE };

describe('config.propagation.concurrency and writesPerSecond', () => {
  it('default: 16 writes in flight, no writes-per-second ceiling', async () => {
    const env = literalEnv(await renderChart());
    expect(env).toMatchObject({ PROPAGATION_CONCURRENCY: '16', PROPAGATION_WRITES_PER_SECOND: '0' });
    expect(parseConfig([], env, machine)).toMatchObject({ propagationConcurrency: 16, propagationWritesPerSecond: 0 });
  });

  it('set: rendered as integers (no 1e+05) and read back by the server', async () => {
    const env = literalEnv(await renderChart({ values: { config: { propagation: { concurrency: 64, writesPerSecond: 100000 } } } }));
    expect(env).toMatchObject({ PROPAGATION_CONCURRENCY: '64', PROPAGATION_WRITES_PER_SECOND: '100000' });
    expect(parseConfig([], env, machine)).toMatchObject({ propagationConcurrency: 64, propagationWritesPerSecond: 100000 });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no writes in flight', { concurrency: 0 }, /config\.propagation\.concurrency: Must be greater than or equal to 1/],
    ['more than 1000 in flight', { concurrency: 1001 }, /config\.propagation\.concurrency: Must be less than or equal to 1000/],
    ['a fractional ceiling', { writesPerSecond: 2.5 }, /config\.propagation\.writesPerSecond: Invalid type\. Expected: integer, given: number/],
    ['a negative ceiling', { writesPerSecond: -1 }, /config\.propagation\.writesPerSecond: Must be greater than or equal to 0/],
  ])('the schema rejects %s', async (_name, propagation, message) => {
    const result = await helmTemplateRaw({ values: { config: { propagation } } });
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});
