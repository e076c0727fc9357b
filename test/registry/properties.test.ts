/** Property tests of the webhook decision over generated credentials and generated garbage. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutateRegistrySecret } from '../../src/registry/index.js';
import {
  applyPatch,
  b64,
  LABEL,
  registrySecret,
  SECRET_KIND,
  secretRequest,
  storedDockerConfigText,
  unb64,
} from './support.js';

/** Characters that break naive JSON, auth splitting or base64 handling, mixed with any code point. */
const tricky = fc.constantFrom(
  ...['"', ':', '\\', '/', '~', '=', '%', '<', '>', '&'],
  ...['\u{1F600}', '\u0000', '\u001f', '\n', '\r', '\t', '\u2028', '\u2029', '\ufeff'],
);
const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const unit = fc.oneof(tricky, anyCodePoint);
const credentialText = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit, minLength: 1, maxLength: 64 }) },
  // Up to 10 KB of UTF-8 (a code point takes at most 4 bytes).
  { weight: 1, arbitrary: fc.string({ unit, minLength: 1, maxLength: 2500 }) },
);
const serverAddress = fc.oneof(
  fc.string({ unit, minLength: 1, maxLength: 64 }),
  fc.constantFrom('__proto__', 'constructor', 'https://index.docker.io/v1/'),
);

describe('for any credentials', () => {
  it('the patched .dockerconfigjson holds exactly them, and auth decodes to username:password', () => {
    fc.assert(
      fc.property(credentialText, credentialText, serverAddress, (username, password, server) => {
        const plain = { username, password, serverAddress: server, registryAddress: 'registry.example.com/kyma' };
        const secret = registrySecret(plain);
        const decision = mutateRegistrySecret(secretRequest('CREATE', secret));
        expect(decision.allowed).toBe(true);
        const patched = applyPatch(secret, decision.patch ?? []);

        const parsed = JSON.parse(storedDockerConfigText(patched)) as { auths: Record<string, Record<string, string>> };
        expect(Object.keys(parsed)).toEqual(['auths']);
        expect(Object.keys(parsed.auths)).toEqual([server]);
        const entry = Object.getOwnPropertyDescriptor(parsed.auths, server)?.value as Record<string, string>;
        expect(Object.keys(entry)).toEqual(['username', 'password', 'auth']);
        expect(entry['username']).toBe(username);
        expect(entry['password']).toBe(password);
        expect(Buffer.from(entry['auth'] ?? '', 'base64')).toEqual(Buffer.from(`${username}:${password}`, 'utf8'));
        expect(unb64(entry['auth'] ?? '')).toBe(`${username}:${password}`);

        // The patched Secret, written again, is left alone; warnings never quote the password.
        expect(mutateRegistrySecret(secretRequest('UPDATE', patched, patched))).toEqual({ allowed: true });
        for (const warning of decision.warnings ?? []) {
          expect(warning.length).toBeLessThan(120);
          if (password.length >= 8) expect(warning).not.toContain(password);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('for any input', () => {
  const anything = fc.anything({
    withNullPrototype: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withDate: true,
  });
  /** Mostly values that look like Secret data, so the deep paths run too. */
  const dataValue = fc.oneof(
    { weight: 12, arbitrary: fc.string({ unit, minLength: 1, maxLength: 20 }).map(b64) },
    fc.constantFrom(b64(''), 'YQ', '%%%', Buffer.from([0xff]).toString('base64')),
    fc.string(),
    anything,
  );
  const dataKey = fc.oneof(
    fc.constantFrom('username', 'password', 'serverAddress', 'registryAddress', '.dockerconfigjson', '__proto__'),
    fc.string(),
  );
  const secretLike = fc.record(
    {
      metadata: fc.record(
        {
          name: fc.oneof(fc.string(), anything),
          namespace: fc.oneof(fc.string(), anything),
          labels: fc.oneof({ weight: 3, arbitrary: fc.constant({ [LABEL]: 'config' }) }, anything),
          deletionTimestamp: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, anything),
        },
        { requiredKeys: ['labels'] },
      ),
      data: fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record(
            {
              username: dataValue,
              password: dataValue,
              serverAddress: dataValue,
              registryAddress: dataValue,
              '.dockerconfigjson': dataValue,
            },
            { requiredKeys: ['username', 'password', 'serverAddress', 'registryAddress'] },
          ),
        },
        fc.record({ username: dataValue, password: dataValue, serverAddress: dataValue, registryAddress: dataValue }),
        fc.dictionary(dataKey, dataValue),
        anything,
      ),
      type: fc.oneof(fc.constantFrom('Opaque', 'kubernetes.io/dockerconfigjson'), anything),
    },
    { requiredKeys: ['metadata'] },
  );
  const object = fc.oneof({ weight: 4, arbitrary: secretLike }, fc.jsonValue(), anything);
  const operation = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('CREATE', 'UPDATE') },
    fc.constantFrom('DELETE', 'CONNECT'),
    fc.string(),
  );
  const kind = fc.oneof({ weight: 4, arbitrary: fc.constant(SECRET_KIND) }, anything);

  it('the decision never throws, and any patch applies to request.object', () => {
    const seen = { patched: 0, denied: 0 };
    fc.assert(
      fc.property(object, object, operation, kind, (obj, oldObj, op, k) => {
        const request = { ...secretRequest(op, obj, oldObj), kind: k as typeof SECRET_KIND };
        const decision = mutateRegistrySecret(request);
        expect(typeof decision.allowed).toBe('boolean');
        if (!decision.allowed) seen.denied++;
        if (decision.patch !== undefined) {
          seen.patched++;
          expect(decision.allowed).toBe(true);
          // Only JSON can carry a patch over the wire; garbage in a Map or a Date never arrives.
          const asJson = JSON.parse(JSON.stringify(obj)) as unknown;
          expect(() => applyPatch(asJson, decision.patch ?? [])).not.toThrow();
        }
        for (const warning of decision.warnings ?? []) expect(warning.length).toBeLessThan(120);
      }),
      { numRuns: 1000 },
    );
    // The generators must reach the deep paths, or this test proves little.
    expect(seen.patched).toBeGreaterThan(20);
    expect(seen.denied).toBeGreaterThan(50);
  });

  it('the decision never throws for garbage in place of the whole request', () => {
    fc.assert(
      fc.property(anything, (request) => {
        expect(typeof mutateRegistrySecret(request as never).allowed).toBe('boolean');
      }),
    );
  });
});
