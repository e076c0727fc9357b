import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type WebhookConfigurationLike, caBundleDiffers, caBundlePatch, commonCaBundle } from '../../../src/kube/webhook-configuration.js';
import { APISERVER_HTTP_DIR } from '../../support/fixtures.js';

interface Exchange {
  request: { body: unknown };
  response: { body: WebhookConfigurationLike };
}
const fixture = (file: string) => JSON.parse(readFileSync(join(APISERVER_HTTP_DIR, file), 'utf8')) as Exchange;

const created = fixture('mwc-create.json').response.body;
const recordedPatch = fixture('mwc-patch-cabundle.json').request.body as { op: string; path: string; value: string }[];
const patched = fixture('mwc-patch-cabundle.json').response.body;
const bundlePem = Buffer.from(recordedPatch[1]?.value as string, 'base64').toString('utf8');

describe('caBundlePatch', () => {
  it('is exactly the recorded patch for the recorded configuration: a resourceVersion test, then every entry', () => {
    expect(caBundlePatch(created, bundlePem)).toEqual(recordedPatch);
  });

  it('is nothing when every entry already carries the bundle', () => {
    expect(caBundlePatch(patched, bundlePem)).toBeUndefined();
    expect(caBundleDiffers(patched, bundlePem)).toBe(false);
    expect(commonCaBundle(patched)).toBe(bundlePem);
  });

  it('touches only the entries that differ, keeping every entry', () => {
    const oneWiped = structuredClone(patched);
    delete oneWiped.webhooks?.[1]?.clientConfig?.caBundle;
    expect(caBundlePatch(oneWiped, bundlePem)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: patched.metadata?.resourceVersion },
      { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: recordedPatch[2]?.value },
    ]);
    expect(commonCaBundle(oneWiped)).toBeUndefined();
    expect(caBundleDiffers(oneWiped, bundlePem)).toBe(true);
  });

  it('replaces another bundle and reports none for a configuration without webhooks', () => {
    const other = structuredClone(patched);
    for (const hook of other.webhooks ?? []) if (hook.clientConfig) hook.clientConfig.caBundle = Buffer.from('other').toString('base64');
    expect(caBundlePatch(other, bundlePem)?.map((op) => op.path)).toEqual(['/metadata/resourceVersion', '/webhooks/0/clientConfig/caBundle', '/webhooks/1/clientConfig/caBundle']);
    expect(commonCaBundle({ metadata: { resourceVersion: '1' }, webhooks: [] })).toBeUndefined();
    expect(caBundlePatch({ metadata: { resourceVersion: '1' } }, bundlePem)).toBeUndefined();
  });
});
