/** `config.auth.audiences`: rendered as AUTH_AUDIENCES only when set, read by the server as the list, checked by the schema. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { helmTemplateRaw, type K8sObject, NAMESPACE, only, type RenderOptions, renderChart } from './helm.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

function containerEnv(objects: K8sObject[]): EnvVar[] {
  const containers = only(objects, 'Deployment').spec.template.spec.containers as { env: EnvVar[] }[];
  expect(containers).toHaveLength(1);
  return (containers[0] as { env: EnvVar[] }).env;
}

/** The literal env values, as the server would read them (fieldRefs left out: not needed here). */
function literalEnv(objects: K8sObject[]): Record<string, string> {
  return Object.fromEntries(containerEnv(objects).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}

describe('config.auth.audiences', () => {
  it('unset (the default): no AUTH_AUDIENCES, so the server uses the API server audiences', async () => {
    const objects = await renderChart();
    expect(containerEnv(objects).map((e) => e.name)).not.toContain('AUTH_AUDIENCES');
    expect(parseConfig([], literalEnv(objects), { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE }).authAudiences).toBeUndefined();
    // An explicit empty list is the same as unset.
    const empty = await renderChart({ values: { config: { auth: { audiences: [] } } } });
    expect(containerEnv(empty).map((e) => e.name)).not.toContain('AUTH_AUDIENCES');
  });

  it.each<[string, RenderOptions]>([
    ['a values file', { values: { config: { auth: { audiences: ['registry-config-webhook', 'other'] } } } }],
    ['--set with a list', { set: { 'config.auth.audiences': '{registry-config-webhook,other}' } }],
  ])('set in %s: AUTH_AUDIENCES joined with ",", read back by the server as the same list', async (_how, options) => {
    const objects = await renderChart(options);
    const entries = containerEnv(objects).filter((e) => e.name === 'AUTH_AUDIENCES');
    expect(entries).toEqual([{ name: 'AUTH_AUDIENCES', value: 'registry-config-webhook,other' }]);
    const config = parseConfig([], literalEnv(objects), { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE });
    expect(config.authAudiences).toEqual(['registry-config-webhook', 'other']);
  });

  it.each<[string, unknown, RegExp]>([
    ['an empty string item', ['registry-config-webhook', ''], /config\.auth\.audiences\.1: String length must be greater than or equal to 1/],
    ['an item with a comma (it would split into two audiences)', ['a,b'], /config\.auth\.audiences\.0: Does not match pattern/],
    ['a whitespace-only item', [' '], /config\.auth\.audiences\.0: Does not match pattern/],
    ['a string instead of a list', 'registry-config-webhook', /config\.auth\.audiences: Invalid type\. Expected: array, given: string/],
  ])('the schema rejects %s', async (_name, audiences, message) => {
    const result = await helmTemplateRaw({ values: { config: { auth: { audiences } } } });
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});
