/**
 * `config.auth.reviewsPerSecond` / `reviewsInFlight` and `webhook.clientCertificates`: rendered as
 * the server's environment (and the CA bundle's volume), read back by the server, checked by the schema.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { helmTemplateRaw, type K8sObject, NAMESPACE, only, renderChart } from './helm.js';

interface EnvVar {
  name: string;
  value?: string;
}

function podSpec(objects: K8sObject[]): { containers: { env: EnvVar[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[]; volumes: { name: string; [key: string]: unknown }[] } {
  return only(objects, 'Deployment').spec.template.spec;
}

function config(objects: K8sObject[]) {
  const env = Object.fromEntries((podSpec(objects).containers[0]?.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
  return parseConfig([], env, { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE });
}

describe('config.auth review budget', () => {
  it('defaults to 20 per second and 10 in flight, as the server reads them', async () => {
    const parsed = config(await renderChart());
    expect([parsed.authReviewsPerSecond, parsed.authReviewsInFlight]).toEqual([20, 10]);
  });

  it('passes set values through', async () => {
    const parsed = config(await renderChart({ set: { 'config.auth.reviewsPerSecond': 5, 'config.auth.reviewsInFlight': 2 } }));
    expect([parsed.authReviewsPerSecond, parsed.authReviewsInFlight]).toEqual([5, 2]);
  });

  it.each([['reviewsPerSecond', 0], ['reviewsInFlight', -1], ['reviewsPerSecond', 'fast']])('the schema rejects %s=%s', async (key, value) => {
    const result = await helmTemplateRaw({ values: { config: { auth: { [key]: value } } } });
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toMatch(new RegExp(`config\\.auth\\.${key}`));
  });
});

describe('webhook.clientCertificates', () => {
  it('off by default: no WEBHOOK_CLIENT_CA, no volume', async () => {
    const objects = await renderChart();
    expect(config(objects).webhookClientCa).toBeUndefined();
    expect(podSpec(objects).volumes.map((v) => v.name)).not.toContain('client-ca');
  });

  it('a ConfigMap name mounts its key as the CA bundle file WEBHOOK_CLIENT_CA names', async () => {
    const objects = await renderChart({ values: { webhook: { clientCertificates: { caConfigMap: 'apiserver-client-ca', caConfigMapKey: 'bundle.pem' } } } });
    const spec = podSpec(objects);
    const path = config(objects).webhookClientCa;
    const mount = spec.containers[0]?.volumeMounts.find((m) => m.name === 'client-ca');
    expect(mount).toMatchObject({ readOnly: true });
    expect(path).toBe(`${mount?.mountPath}/ca.crt`);
    expect(spec.volumes.find((v) => v.name === 'client-ca')).toEqual({
      name: 'client-ca',
      configMap: { name: 'apiserver-client-ca', items: [{ key: 'bundle.pem', path: 'ca.crt' }] },
    });
  });

  it('the schema rejects a ConfigMap name that is not a DNS subdomain', async () => {
    const result = await helmTemplateRaw({ values: { webhook: { clientCertificates: { caConfigMap: 'Not_A_Name' } } } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/webhook\.clientCertificates\.caConfigMap/);
  });
});
