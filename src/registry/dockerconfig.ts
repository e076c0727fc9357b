/**
 * The `.dockerconfigjson` value derived from a registry-config Secret, byte-for-byte what
 * `kubectl create secret docker-registry` writes for the same credentials.
 */
import { decodeBase64Utf8, encodeBase64Utf8 } from './base64.js';
import type { RegistryCredentials } from './credentials.js';

export interface DockerConfigAuth {
  username: string;
  password: string;
  /** base64 of the UTF-8 bytes of `username:password`. */
  auth: string;
}

export interface DockerConfig {
  auths: Record<string, DockerConfigAuth>;
}

type DockerCredentials = Pick<RegistryCredentials, 'username' | 'password' | 'serverAddress'>;

/** The docker config object, members in kubectl's order: username, password, auth. */
export function dockerConfig(credentials: DockerCredentials): DockerConfig {
  const { username, password, serverAddress } = credentials;
  const entry: DockerConfigAuth = { username, password, auth: encodeBase64Utf8(`${username}:${password}`) };
  // fromEntries: a serverAddress of `__proto__` must become a key, not the prototype.
  return { auths: Object.fromEntries([[serverAddress, entry]]) };
}

/**
 * Go's encoding/json (which kubectl uses) additionally escapes `<`, `>`, `&`, U+2028 and U+2029.
 * These characters only occur inside strings of JSON.stringify output, so replacing them there is
 * safe and makes the output identical to kubectl's; idempotency compares bytes.
 */
const GO_EXTRA_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Compact JSON: `{"auths":{"<serverAddress>":{"username":"…","password":"…","auth":"…"}}}`. */
export function dockerConfigJson(credentials: DockerCredentials): string {
  return JSON.stringify(dockerConfig(credentials)).replace(/[<>&\u2028\u2029]/g, (c) => GO_EXTRA_ESCAPES[c] ?? c);
}

/** What belongs in `data[".dockerconfigjson"]`: base64 of dockerConfigJson. */
export function encodedDockerConfigJson(credentials: DockerCredentials): string {
  return encodeBase64Utf8(dockerConfigJson(credentials));
}

/** The parsed JSON inside a stored `.dockerconfigjson` value; undefined when it is not base64 of JSON. */
export function parseEncodedDockerConfigJson(encoded: unknown): unknown {
  if (typeof encoded !== 'string') return undefined;
  const decoded = decodeBase64Utf8(encoded);
  if (!decoded.ok) return undefined;
  try {
    return JSON.parse(decoded.text) as unknown;
  } catch {
    return undefined;
  }
}
