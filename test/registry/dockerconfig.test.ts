import { describe, expect, it } from 'vitest';
import { dockerConfigJson, encodedDockerConfigJson, parseEncodedDockerConfigJson } from '../../src/registry/index.js';
import { b64, GOOD_PLAIN, README_DOCKER_CONFIG_JSON } from './support.js';

/** `.dockerconfigjson` from the recording of `kubectl create secret docker-registry regcred ...`. */
const KUBECTL_WROTE =
  'eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbTo1MDAwIjp7InVzZXJuYW1lIjoiYWRtaW4iLCJwYXNzd29yZCI6InMzY3IzdC1wYXNzIiwiYXV0aCI6IllXUnRhVzQ2Y3pOamNqTjBMWEJoYzNNPSJ9fX0=';

describe('dockerConfigJson', () => {
  it('is the compact JSON the API server stored in the end-to-end run', () => {
    expect(dockerConfigJson(GOOD_PLAIN)).toBe(README_DOCKER_CONFIG_JSON);
  });

  it('encodes to exactly what kubectl create secret docker-registry wrote', () => {
    expect(encodedDockerConfigJson(GOOD_PLAIN)).toBe(KUBECTL_WROTE);
  });

  it('uses serverAddress verbatim as the key, scheme and path included', () => {
    const json = dockerConfigJson({ username: 'u', password: 'p', serverAddress: 'https://index.docker.io/v1/' });
    expect(json).toBe('{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p","auth":"dTpw"}}}');
  });

  it('escapes like Go encoding/json: quotes, backslashes, controls, and <, >, &, U+2028, U+2029', () => {
    const username = 'a"b\\c\n\t\u0001<>&\u2028\u2029';
    const json = dockerConfigJson({ username, password: 'p', serverAddress: 'r' });
    const escaped = String.raw`a\"b\\c\n\t\u0001\u003c\u003e\u0026\u2028\u2029`;
    expect(json).toBe(`{"auths":{"r":{"username":"${escaped}","password":"p","auth":"${b64(`${username}:p`)}"}}}`);
    expect(JSON.parse(json)).toEqual({ auths: { r: { username, password: 'p', auth: b64(`${username}:p`) } } });
  });

  it('keeps a serverAddress of __proto__ as an ordinary key', () => {
    const parsed = JSON.parse(dockerConfigJson({ username: 'u', password: 'p', serverAddress: '__proto__' })) as {
      auths: Record<string, unknown>;
    };
    expect(Object.keys(parsed.auths)).toEqual(['__proto__']);
  });

  it('builds auth from the UTF-8 bytes of username:password', () => {
    const json = dockerConfigJson({ username: 'j\u00fcrgen', password: '\u{1F511}', serverAddress: 'r' });
    const auth = (JSON.parse(json) as { auths: { r: { auth: string } } }).auths.r.auth;
    expect(Buffer.from(auth, 'base64')).toEqual(Buffer.from('j\u00fcrgen:\u{1F511}', 'utf8'));
  });
});

describe('parseEncodedDockerConfigJson', () => {
  it('parses a stored value and gives undefined for anything unusable', () => {
    expect(parseEncodedDockerConfigJson(KUBECTL_WROTE)).toEqual(JSON.parse(README_DOCKER_CONFIG_JSON));
    expect(parseEncodedDockerConfigJson(b64('not json'))).toBeUndefined();
    expect(parseEncodedDockerConfigJson('%%%')).toBeUndefined();
    expect(parseEncodedDockerConfigJson(7)).toBeUndefined();
  });
});
