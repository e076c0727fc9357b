/**
 * The chart's side of issue 12: the HTTPS port's limits reach the server, the memory limit covers the
 * heap flag plus what those limits may hold (the arithmetic of the chart README), and the optional
 * NetworkPolicy.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { helmTemplateRaw, type K8sObject, NAMESPACE, ofKind, only, renderChart } from './helm.js';
import { validateObject } from './validate.js';

const MiB = 1024 * 1024;

function literalEnv(objects: K8sObject[]): Record<string, string> {
  const env = only(objects, 'Deployment').spec.template.spec.containers[0].env as { name: string; value?: string }[];
  return Object.fromEntries(env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}

function bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected quantity ${quantity}`);
  return Number(match[1]) * { Ki: 1024, Mi: MiB, Gi: 1024 * MiB }[match[2] as 'Ki' | 'Mi' | 'Gi'];
}

describe('limits of the HTTPS port', () => {
  it('reach the server as HEADERS_TIMEOUT, REQUEST_TIMEOUT, MAX_CONNECTIONS and BODY_BUDGET', async () => {
    const objects = await renderChart({ values: { config: { limits: { headersTimeout: '3s', requestTimeout: '20s', maxConnections: 500, bodyBudget: '64Mi' } } } });
    const config = parseConfig([], literalEnv(objects), { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE });
    expect([config.headersTimeoutMs, config.requestTimeoutMs, config.maxConnections, config.bodyBudgetBytes]).toEqual([3000, 20_000, 500, 64 * MiB]);
  });

  it('the schema refuses a size without a unit the server reads', async () => {
    const result = await helmTemplateRaw({ values: { config: { limits: { bodyBudget: '32MB' } } } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/bodyBudget/);
  });

  it('by default the memory limit covers the heap flag plus what the limits may hold (chart README, "Memory budget")', async () => {
    const objects = await renderChart();
    const env = literalEnv(objects);
    const config = parseConfig([], env, { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE });
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]) * MiB;
    const limit = bytes(only(objects, 'Deployment').spec.template.spec.containers[0].resources.limits.memory);
    // Measured with `npm run bench -- hostile` (see docs/security.md): RSS outside the V8 heap at rest
    // 66 MiB; one idle TLS connection 44-51 KiB (50 KiB taken); young generation 32 MiB; a body is
    // briefly held twice while it is joined (one 7 MiB body at a time).
    const worstCase = 66 * MiB + 32 * MiB + oldSpace + config.maxConnections * 50 * 1024 + config.bodyBudgetBytes + 7 * MiB;
    expect(worstCase).toBeLessThan(limit);
  });
});

describe('networkPolicy', () => {
  it('is off by default', async () => {
    expect(ofKind(await renderChart(), 'NetworkPolicy')).toHaveLength(0);
  });

  it('enabled: the HTTPS port only from the API server and resolver clients, probes open, egress to the API server and DNS', async () => {
    const objects = await renderChart({
      values: {
        networkPolicy: {
          enabled: true,
          webhookFrom: [{ ipBlock: { cidr: '10.0.0.0/24' } }],
          resolverFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'serverless' } } }],
          apiServerTo: [{ ipBlock: { cidr: '10.0.0.1/32' } }],
        },
      },
    });
    const policy = only(objects, 'NetworkPolicy');
    validateObject(policy);
    const deployment = only(objects, 'Deployment');
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const [https, probes] = policy.spec.ingress;
    expect(https.ports).toEqual([{ protocol: 'TCP', port: 8443 }]);
    expect(https.from).toEqual([{ ipBlock: { cidr: '10.0.0.0/24' } }, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'serverless' } } }]);
    expect(probes).toEqual({ ports: [{ protocol: 'TCP', port: 9090 }] });
    const [apiServer, dns] = policy.spec.egress;
    expect(apiServer).toEqual({ ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }], to: [{ ipBlock: { cidr: '10.0.0.1/32' } }] });
    expect(dns.ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
  });

  it('enabled without peers: ports are still limited, sources are not', async () => {
    const policy = only(await renderChart({ set: { 'networkPolicy.enabled': true } }), 'NetworkPolicy');
    validateObject(policy);
    expect(policy.spec.ingress.map((rule: { from?: unknown }) => rule.from)).toEqual([undefined, undefined]);
  });
});
