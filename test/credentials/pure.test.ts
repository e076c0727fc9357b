/** The pure parts of the login check: challenges, endpoints as docker reads them, token claims. */
import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../src/credentials/challenge.js';
import { endpointUrl, probeRepository, registryEndpoint } from '../../src/credentials/endpoint.js';
import { pushGrantedBy } from '../../src/credentials/login.js';
import { registryErrorCode } from '../../src/credentials/outcome.js';

describe('parseChallenges', () => {
  it('reads the challenges registries send', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io' } },
    ]);
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseChallenges(['Basic realm="a"', 'Bearer realm="https://x/t",scope="repository:a/b:pull"'])).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', scope: 'repository:a/b:pull' } },
    ]);
  });

  it('handles escapes, token values, odd spacing and garbage without throwing', () => {
    expect(parseChallenges('Bearer  realm = "a\\"b" , service=svc')).toEqual([{ scheme: 'bearer', params: { realm: 'a"b', service: 'svc' } }]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(() => parseChallenges('"""===,,,\u0000')).not.toThrow();
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: {} }]);
  });
});

describe('registryEndpoint', () => {
  it.each([
    ['https://index.docker.io/v1/', 'https://registry-1.docker.io/v2/'],
    ['docker.io', 'https://registry-1.docker.io/v2/'],
    ['registry.example.com', 'https://registry.example.com/v2/'],
    ['registry.example.com:5000', 'https://registry.example.com:5000/v2/'],
    ['https://registry.example.com/v2/', 'https://registry.example.com/v2/'],
    ['http://registry.example.com', 'http://registry.example.com/v2/'],
    ['[fd00::1]:5000', 'https://[fd00::1]:5000/v2/'],
  ])('%s is asked at %s', (serverAddress, url) => {
    const result = registryEndpoint(serverAddress);
    if (!result.ok) throw new Error(result.reason);
    expect(endpointUrl(result.endpoint, '/v2/').href).toBe(url);
  });

  it('uses http without a scheme only for the internal registry', () => {
    const internal = registryEndpoint('localhost:32137', { plainHttpDefault: true });
    expect(internal.ok && internal.endpoint.scheme).toBe('http');
  });

  it('refuses what is not a registry address, with a reason', () => {
    expect(registryEndpoint('ftp://x')).toMatchObject({ ok: false, reason: expect.stringContaining('ftp') });
    expect(registryEndpoint('user:pw@registry.example.com')).toMatchObject({ ok: false });
    expect(registryEndpoint('  ')).toMatchObject({ ok: false });
    expect(registryEndpoint('a b')).toMatchObject({ ok: false });
  });
});

describe('probeRepository', () => {
  it('is the probe name under the path of registryAddress, without its host', () => {
    expect(probeRepository('registry.example.com:5000/kyma/functions')).toBe('kyma/functions/registry-config-webhook-credential-check');
    expect(probeRepository('registry.example.com')).toBe('registry-config-webhook-credential-check');
    expect(probeRepository('myuser')).toBe('myuser/registry-config-webhook-credential-check');
    expect(probeRepository('localhost/Team')).toBe('team/registry-config-webhook-credential-check');
  });
});

describe('pushGrantedBy', () => {
  const token = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  it('reads the access claim of docker distribution tokens', () => {
    expect(pushGrantedBy(token({ access: [{ type: 'repository', name: 'a/p', actions: ['pull', 'push'] }] }), 'a/p')).toBe(true);
    expect(pushGrantedBy(token({ access: [{ type: 'repository', name: 'a/p', actions: ['pull'] }] }), 'a/p')).toBe(false);
    expect(pushGrantedBy(token({ access: [] }), 'a/p')).toBe(false);
    expect(pushGrantedBy(token({ sub: 'x' }), 'a/p')).toBeNull();
    expect(pushGrantedBy('opaque-token', 'a/p')).toBeNull();
    expect(pushGrantedBy('a.!!!.b', 'a/p')).toBeNull();
  });
});

describe('registryErrorCode', () => {
  it('keeps the code, never the message (which may echo input)', () => {
    expect(registryErrorCode(Buffer.from('{"errors":[{"code":"UNAUTHORIZED","message":"user robot:secret"}]}'))).toBe('UNAUTHORIZED');
    expect(registryErrorCode(Buffer.from('{"errors":[{"code":"not a code: secret"}]}'))).toBeNull();
    expect(registryErrorCode(Buffer.from('<html>'))).toBeNull();
  });
});
