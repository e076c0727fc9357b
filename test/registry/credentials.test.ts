import { describe, expect, it } from 'vitest';
import { describeProblems, readRegistryCredentials } from '../../src/registry/index.js';
import { b64, GOOD_PLAIN, registrySecret } from './support.js';

const CANARY = 'CANARY-p4ss-7f3a';

describe('readRegistryCredentials', () => {
  it('decodes the four keys from data', () => {
    expect(readRegistryCredentials(registrySecret(GOOD_PLAIN))).toEqual({ ok: true, credentials: GOOD_PLAIN });
  });

  it('keeps values verbatim: whitespace, newlines, colons, non-ASCII', () => {
    const plain = { ...GOOD_PLAIN, username: ' us:er ', password: `${CANARY}\n`, serverAddress: 'regístry.example' };
    expect(readRegistryCredentials(registrySecret(plain))).toEqual({ ok: true, credentials: plain });
  });

  it('reports each kind of problem for the key it concerns, all at once', () => {
    const secret = registrySecret(
      { username: '', serverAddress: 'registry.example.com:5000' },
      { rawData: { serverAddress: 'not base64!', registryAddress: Buffer.from([0xff, 0xfe]).toString('base64') } },
    );
    expect(readRegistryCredentials(secret)).toEqual({
      ok: false,
      problems: [
        { key: 'username', kind: 'empty' },
        { key: 'password', kind: 'missing' },
        { key: 'serverAddress', kind: 'base64' },
        { key: 'registryAddress', kind: 'utf8' },
      ],
    });
  });

  it('treats a value that is not a string as missing', () => {
    const secret = registrySecret(GOOD_PLAIN, { rawData: { password: 42, username: null, serverAddress: { a: 1 } } });
    const result = readRegistryCredentials(secret);
    expect(result).toEqual({
      ok: false,
      problems: [
        { key: 'username', kind: 'missing' },
        { key: 'password', kind: 'missing' },
        { key: 'serverAddress', kind: 'missing' },
      ],
    });
  });

  it('never reads stringData (the API server has merged it into data already)', () => {
    const secret = { ...registrySecret({}), stringData: GOOD_PLAIN };
    const result = readRegistryCredentials(secret);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.kind)).toEqual(['missing', 'missing', 'missing', 'missing']);
  });

  it.each([
    ['no data', { metadata: {} }],
    ['data null', { data: null }],
    ['data an array', { data: [b64('admin')] }],
    ['data a string', { data: 'username' }],
    ['not an object', 'Secret'],
    ['null', null],
  ])('reports every key missing for %s', (_label, secret) => {
    const result = readRegistryCredentials(secret);
    expect(!result.ok && result.problems).toEqual([
      { key: 'username', kind: 'missing' },
      { key: 'password', kind: 'missing' },
      { key: 'serverAddress', kind: 'missing' },
      { key: 'registryAddress', kind: 'missing' },
    ]);
  });

  it('does not find keys through the prototype', () => {
    const data = Object.create({ username: b64('admin') }) as Record<string, string>;
    const result = readRegistryCredentials({ data });
    expect(!result.ok && result.problems[0]).toEqual({ key: 'username', kind: 'missing' });
  });
});

describe('describeProblems', () => {
  const ref = { namespace: 'default', name: 'serverless-registry-config' };

  it('names the Secret and the missing keys', () => {
    expect(
      describeProblems(ref, [
        { key: 'password', kind: 'missing' },
        { key: 'registryAddress', kind: 'missing' },
      ]),
    ).toBe('registry config Secret default/serverless-registry-config: missing password, registryAddress');
  });

  it('groups the kinds in one sentence, keys in their documented order', () => {
    expect(
      describeProblems(ref, [
        { key: 'registryAddress', kind: 'utf8' },
        { key: 'serverAddress', kind: 'base64' },
        { key: 'username', kind: 'empty' },
        { key: 'password', kind: 'missing' },
      ]),
    ).toBe(
      'registry config Secret default/serverless-registry-config: ' +
        'missing password; empty username; not valid base64: serverAddress; not UTF-8: registryAddress',
    );
  });

  it('orders keys of one kind as username, password, serverAddress, registryAddress', () => {
    expect(
      describeProblems(ref, [
        { key: 'registryAddress', kind: 'empty' },
        { key: 'username', kind: 'empty' },
      ]),
    ).toBe('registry config Secret default/serverless-registry-config: empty username, registryAddress');
  });

  it('says <generated> when the name is not known yet', () => {
    expect(describeProblems({ namespace: 'ns' }, [{ key: 'password', kind: 'missing' }])).toBe(
      'registry config Secret ns/<generated>: missing password',
    );
  });

  it('never contains a value, whatever the problems', () => {
    const secret = registrySecret(
      { password: CANARY, serverAddress: '' },
      { rawData: { registryAddress: `${b64(CANARY)}!` } },
    );
    const result = readRegistryCredentials(secret);
    if (result.ok) throw new Error('expected problems');
    const message = describeProblems(ref, result.problems);
    expect(message).toBe(
      'registry config Secret default/serverless-registry-config: ' +
        'missing username; empty serverAddress; not valid base64: registryAddress',
    );
    expect(message).not.toContain(CANARY);
    expect(message).not.toContain(b64(CANARY));
  });
});
