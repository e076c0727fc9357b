/**
 * The four required keys of a registry-config Secret, read from `data` (the API server has already
 * merged `stringData` into `data` before admission, so `stringData` is never consulted).
 */
import { decodeBase64Utf8 } from './base64.js';
import { isRecord, ownValue } from './guards.js';
import { REQUIRED_KEYS, type RequiredKey } from './labels.js';

export interface RegistryCredentials {
  username: string;
  password: string;
  /** The registry host (and port) that `.dockerconfigjson` authenticates against, used verbatim. */
  serverAddress: string;
  /** Where images are pushed, e.g. `registry.example.com:5000/kyma`. */
  registryAddress: string;
}

/** Why a required key is unusable. `missing` also covers a value that is not a string. */
export type KeyProblemKind = 'missing' | 'empty' | 'base64' | 'utf8';

export interface KeyProblem {
  key: RequiredKey;
  kind: KeyProblemKind;
}

export type CredentialsResult =
  | { ok: true; credentials: RegistryCredentials }
  | { ok: false; problems: KeyProblem[] };

/** Decodes every required key of `secret.data`; reports all bad keys at once, in REQUIRED_KEYS order. */
export function readRegistryCredentials(secret: unknown): CredentialsResult {
  const data = isRecord(secret) ? ownValue(secret, 'data') : undefined;
  const decoded: Partial<Record<RequiredKey, string>> = {};
  const problems: KeyProblem[] = [];
  for (const key of REQUIRED_KEYS) {
    const raw = isRecord(data) ? ownValue(data, key) : undefined;
    if (typeof raw !== 'string') {
      problems.push({ key, kind: 'missing' });
      continue;
    }
    const result = decodeBase64Utf8(raw);
    if (!result.ok) problems.push({ key, kind: result.problem });
    else if (result.text === '') problems.push({ key, kind: 'empty' });
    else decoded[key] = result.text;
  }
  const { username, password, serverAddress, registryAddress } = decoded;
  if (
    problems.length > 0 ||
    username === undefined ||
    password === undefined ||
    serverAddress === undefined ||
    registryAddress === undefined
  ) {
    return { ok: false, problems };
  }
  return { ok: true, credentials: { username, password, serverAddress, registryAddress } };
}

export interface SecretRef {
  namespace?: string | undefined;
  name?: string | undefined;
}

/** Placeholder when a CREATE carries only `generateName` and the API server has not named it yet. */
export const GENERATED_NAME_PLACEHOLDER = '<generated>';

/** How the Secret is named in messages: `namespace/name`, or just `name` for a cluster-less reference. */
export function formatSecretRef(ref: SecretRef): string {
  const name = ref.name || GENERATED_NAME_PLACEHOLDER;
  return ref.namespace ? `${ref.namespace}/${name}` : name;
}

/** Problem kinds in the order they are reported, each with the words that introduce its keys. */
const PROBLEM_PHRASES: ReadonlyArray<readonly [KeyProblemKind, string]> = [
  ['missing', 'missing '],
  ['empty', 'empty '],
  ['base64', 'not valid base64: '],
  ['utf8', 'not UTF-8: '],
];

/**
 * One message naming the Secret and every bad key, never a value, e.g.
 * `registry config Secret default/serverless-registry-config: missing password; empty username`.
 */
export function describeProblems(secretRef: SecretRef, problems: readonly KeyProblem[]): string {
  const parts: string[] = [];
  for (const [kind, phrase] of PROBLEM_PHRASES) {
    const keys = REQUIRED_KEYS.filter((key) => problems.some((p) => p.key === key && p.kind === kind));
    if (keys.length > 0) parts.push(phrase + keys.join(', '));
  }
  return `registry config Secret ${formatSecretRef(secretRef)}: ${parts.join('; ')}`;
}
