import { describe, expect, it } from 'vitest';
import { dockerConfigJsonPatch, mutateRegistrySecret } from '../../src/registry/index.js';
import {
  applyPatch,
  b64,
  GOOD_PLAIN,
  LABEL,
  README_DOCKER_CONFIG_JSON,
  registrySecret,
  secretRequest,
  storedDockerConfigText,
} from './support.js';

const CANARY = 'CANARY-p4ss-7f3a';
const PATH = '/data/.dockerconfigjson';

/** Written out by hand from the kubectl format, for a password other than GOOD_PLAIN's. */
function dockerConfigJsonFor(password: string): string {
  return `{"auths":{"registry.example.com:5000":{"username":"admin","password":"${password}","auth":"${b64(`admin:${password}`)}"}}}`;
}

describe('mutateRegistrySecret on labelled Secrets', () => {
  it('adds .dockerconfigjson when it is absent', () => {
    const secret = registrySecret(GOOD_PLAIN);
    const decision = mutateRegistrySecret(secretRequest('CREATE', secret));
    expect(decision).toEqual({ allowed: true, patch: [{ op: 'add', path: PATH, value: b64(README_DOCKER_CONFIG_JSON) }] });
    expect(storedDockerConfigText(applyPatch(secret, decision.patch ?? []))).toBe(README_DOCKER_CONFIG_JSON);
  });

  it('sends no patch and nothing else when the stored value is already byte-identical', () => {
    const secret = registrySecret(GOOD_PLAIN, { rawData: { '.dockerconfigjson': b64(README_DOCKER_CONFIG_JSON) } });
    expect(mutateRegistrySecret(secretRequest('UPDATE', secret, secret))).toEqual({ allowed: true });
    expect(mutateRegistrySecret(secretRequest('CREATE', secret))).toEqual({ allowed: true });
  });

  it('replaces the value derived from the old password after a password change, without a warning', () => {
    const old = registrySecret(
      { ...GOOD_PLAIN, password: 'old-pass' },
      { rawData: { '.dockerconfigjson': b64(dockerConfigJsonFor('old-pass')) } },
    );
    const changed = registrySecret(
      { ...GOOD_PLAIN, password: 'n3w-pass' },
      { rawData: { '.dockerconfigjson': b64(dockerConfigJsonFor('old-pass')) } },
    );
    const decision = mutateRegistrySecret(secretRequest('UPDATE', changed, old));
    expect(decision).toEqual({
      allowed: true,
      patch: [{ op: 'replace', path: PATH, value: b64(dockerConfigJsonFor('n3w-pass')) }],
    });
    expect(storedDockerConfigText(applyPatch(changed, decision.patch ?? []))).toBe(dockerConfigJsonFor('n3w-pass'));
  });

  it('replaces a hand-written .dockerconfigjson and says so, without leaking a value', () => {
    const handWritten = `{"auths":{"other.example.com":{"username":"x","password":"${CANARY}","auth":"eDp5"}}}`;
    const secret = registrySecret(
      { ...GOOD_PLAIN, password: CANARY },
      { rawData: { '.dockerconfigjson': b64(handWritten) } },
    );
    const decision = mutateRegistrySecret(secretRequest('CREATE', secret));
    expect(decision.allowed).toBe(true);
    expect(decision.patch).toEqual([{ op: 'replace', path: PATH, value: b64(dockerConfigJsonFor(CANARY)) }]);
    expect(decision.warnings).toHaveLength(1);
    expect(decision.warnings?.[0]).toContain('data[.dockerconfigjson]');
    expect(JSON.stringify(decision.warnings)).not.toContain(CANARY);
  });

  it.each([
    ['garbage', 'not base64 at all'],
    ['base64 of non-JSON', b64('hello')],
    ['null', null],
  ])('replaces a .dockerconfigjson that is %s, with a warning', (_label, stored) => {
    const secret = registrySecret(GOOD_PLAIN, { rawData: { '.dockerconfigjson': stored } });
    const decision = mutateRegistrySecret(secretRequest('CREATE', secret));
    expect(decision.patch).toEqual([{ op: 'replace', path: PATH, value: b64(README_DOCKER_CONFIG_JSON) }]);
    expect(decision.warnings).toEqual([expect.stringContaining('data[.dockerconfigjson]')]);
    expect(storedDockerConfigText(applyPatch(secret, decision.patch ?? []))).toBe(README_DOCKER_CONFIG_JSON);
  });

  it('normalises the same content in another formatting, without a warning', () => {
    const pretty = JSON.stringify(JSON.parse(README_DOCKER_CONFIG_JSON), null, 2);
    const secret = registrySecret(GOOD_PLAIN, { rawData: { '.dockerconfigjson': b64(pretty) } });
    expect(mutateRegistrySecret(secretRequest('UPDATE', secret, secret))).toEqual({
      allowed: true,
      patch: [{ op: 'replace', path: PATH, value: b64(README_DOCKER_CONFIG_JSON) }],
    });
  });

  it('adds warnings next to the patch, and says nothing once no patch is needed', () => {
    const plain = { ...GOOD_PLAIN, password: `${CANARY}\n` };
    const secret = registrySecret(plain, { type: 'Opaque' });
    const first = mutateRegistrySecret(secretRequest('CREATE', secret));
    expect(first.patch).toHaveLength(1);
    expect(first.warnings).toEqual([
      expect.stringContaining('data[password]'),
      expect.stringContaining('"Opaque"'),
    ]);
    expect(JSON.stringify(first.warnings)).not.toContain(CANARY);
    const patched = applyPatch(secret, first.patch ?? []);
    expect(mutateRegistrySecret(secretRequest('UPDATE', patched, patched))).toEqual({ allowed: true });
  });

  it('denies a Secret with a missing key, naming the Secret and the key', () => {
    const { password: _omitted, ...withoutPassword } = GOOD_PLAIN;
    const decision = mutateRegistrySecret(secretRequest('CREATE', registrySecret(withoutPassword)));
    expect(decision).toEqual({
      allowed: false,
      status: {
        code: 400,
        reason: 'BadRequest',
        message: 'registry config Secret default/serverless-registry-config: missing password',
      },
    });
  });

  it('denies an UPDATE that breaks a key too', () => {
    const good = registrySecret(GOOD_PLAIN, { rawData: { '.dockerconfigjson': b64(README_DOCKER_CONFIG_JSON) } });
    const broken = registrySecret({ ...GOOD_PLAIN, username: '' });
    const decision = mutateRegistrySecret(secretRequest('UPDATE', broken, good));
    expect(decision.allowed).toBe(false);
    expect(decision.status?.message).toBe('registry config Secret default/serverless-registry-config: empty username');
    expect(decision.patch).toBeUndefined();
  });

  it('denies a labelled Secret without data, naming all four keys', () => {
    const { data: _data, ...withoutData } = registrySecret(GOOD_PLAIN);
    expect(mutateRegistrySecret(secretRequest('CREATE', withoutData)).status?.message).toBe(
      'registry config Secret default/serverless-registry-config: missing username, password, serverAddress, registryAddress',
    );
  });

  it('names the Secret from the request when metadata has no name yet (generateName)', () => {
    const secret = registrySecret({});
    const metadata = secret['metadata'] as Record<string, unknown>;
    delete metadata['name'];
    delete metadata['namespace'];
    metadata['generateName'] = 'registry-';
    const fromRequest = mutateRegistrySecret(secretRequest('CREATE', secret, null, { name: 'registry-x7k2p', namespace: 'ns' }));
    expect(fromRequest.status?.message).toMatch(/^registry config Secret ns\/registry-x7k2p: missing /);
    const unnamed = mutateRegistrySecret(secretRequest('CREATE', secret, null, { name: '', namespace: 'ns' }));
    expect(unnamed.status?.message).toMatch(/^registry config Secret ns\/<generated>: missing /);
  });

  it('gives a dry run the same answer', () => {
    for (const secret of [registrySecret(GOOD_PLAIN), registrySecret({})]) {
      expect(mutateRegistrySecret(secretRequest('CREATE', secret, null, { dryRun: true }))).toEqual(
        mutateRegistrySecret(secretRequest('CREATE', secret)),
      );
    }
  });

  it('leaves a terminating Secret alone, so finalizers can still be removed', () => {
    const secret = registrySecret({});
    (secret['metadata'] as Record<string, unknown>)['deletionTimestamp'] = '2026-11-27T17:16:42Z';
    expect(mutateRegistrySecret(secretRequest('UPDATE', secret, secret))).toEqual({ allowed: true });
  });
});

describe('mutateRegistrySecret leaves everything else alone', () => {
  const broken = registrySecret({});

  it('an UPDATE that removes the label, even with keys missing', () => {
    const unlabelled = registrySecret({}, { labels: { other: 'x' } });
    expect(mutateRegistrySecret(secretRequest('UPDATE', unlabelled, broken))).toEqual({ allowed: true });
  });

  it.each([
    ['another value', { [LABEL]: 'Config' }],
    ['an empty value', { [LABEL]: '' }],
    ['no labels', {}],
  ])('a Secret whose label has %s', (_label, labels) => {
    expect(mutateRegistrySecret(secretRequest('CREATE', registrySecret({}, { labels })))).toEqual({ allowed: true });
  });

  it.each([
    ['ConfigMap', { group: '', version: 'v1', kind: 'ConfigMap' }],
    ['a Secret of another group', { group: 'example.com', version: 'v1', kind: 'Secret' }],
    ['a Secret of another version', { group: '', version: 'v2', kind: 'Secret' }],
  ])('%s', (_label, kind) => {
    expect(mutateRegistrySecret(secretRequest('CREATE', broken, null, { kind }))).toEqual({ allowed: true });
  });

  it('DELETE, where object is null', () => {
    expect(mutateRegistrySecret(secretRequest('DELETE', null, broken))).toEqual({ allowed: true });
  });

  it('DELETE and CONNECT even when an object is present', () => {
    expect(mutateRegistrySecret(secretRequest('DELETE', broken, broken))).toEqual({ allowed: true });
    expect(mutateRegistrySecret(secretRequest('CONNECT', broken))).toEqual({ allowed: true });
  });
});

describe('dockerConfigJsonPatch', () => {
  it('adds data itself when the Secret has none, and the patch applies', () => {
    const secret = { metadata: { name: 'x' } };
    const patch = dockerConfigJsonPatch(secret, 'dmFsdWU=');
    expect(applyPatch(secret, patch)).toEqual({ metadata: { name: 'x' }, data: { '.dockerconfigjson': 'dmFsdWU=' } });
  });

  it('replaces a data that is not an object', () => {
    const secret = { data: null };
    expect(applyPatch(secret, dockerConfigJsonPatch(secret, 'dmFsdWU='))).toEqual({
      data: { '.dockerconfigjson': 'dmFsdWU=' },
    });
  });

  it('replaces a key whose value is not a string', () => {
    const secret = { data: { '.dockerconfigjson': 7 } };
    const patch = dockerConfigJsonPatch(secret, 'dmFsdWU=');
    expect(patch).toEqual([{ op: 'replace', path: PATH, value: 'dmFsdWU=' }]);
    expect(applyPatch(secret, patch)).toEqual({ data: { '.dockerconfigjson': 'dmFsdWU=' } });
  });
});
