/**
 * Which registry configuration applies to a namespace: the product's precedence rules over plain
 * "entries", the little the resolver keeps per Secret. An entry never holds username or password.
 *
 * For namespace N, in this order:
 * 1. cluster-wide: `serverless-registry-config` in the system namespace, labelled
 *    `remote-registry: config` and `config: credentials`;
 * 2. namespace: `serverless-registry-config` in N, labelled `remote-registry: config`;
 *    when it is also labelled `managed-by: user` (the upstream opt-out) it comes before rule 1;
 * 3. default: `serverless-registry-config-default` in the system namespace (labels do not matter:
 *    upstream's carries none of ours);
 * 4. nothing applies.
 * An invalid Secret is passed over and the answer lists why (`skipped`).
 *
 * The system namespace itself: its `serverless-registry-config` is either the cluster-wide Secret
 * (so it resolves to source "cluster") or, without `config: credentials`, its namespace-scoped one.
 */
import type { SecretObject } from '../kube/objects.js';
import { decodeBase64Utf8 } from './base64.js';
import { describeProblems, readRegistryCredentials, type KeyProblem } from './credentials.js';
import { isRecord, ownValue } from './guards.js';
import { DEFAULT_REGISTRY_SECRET_NAME, REGISTRY_SECRET_NAME } from './labels.js';
import type { RegistryConfig, RegistryConfigNotFound, RegistryFields, RegistrySource, SecretName } from './registry-config.js';
import { isClusterRegistryConfigSecret, isRegistryConfigSecret, isUserManagedSecret, nameOf, namespaceOf } from './secret-labels.js';

export type { RegistryConfig, RegistryConfigNotFound, RegistryFields, RegistrySource, SecretName } from './registry-config.js';

interface RegistryEntryBase {
  /** The rule this Secret can satisfy; fixed by name, namespace and labels. */
  role: RegistrySource;
  ref: SecretName;
  uid: string;
  resourceVersion: string;
  /** `uid:resourceVersion`, see revisionOf; kept so lookups do not build it again. */
  revision: string;
  /** Labelled `managed-by: user`: a namespace-scoped Secret that wins over the cluster-wide one. */
  userManaged: boolean;
}

/** What the index holds per relevant Secret: identity, role, validity and non-secret fields. */
export type RegistryEntry = RegistryEntryBase & ({ valid: true; fields: RegistryFields } | { valid: false; reason: string });

export type Resolution = { found: true; config: RegistryConfig } | { found: false; notFound: RegistryConfigNotFound };

/** The entries that can apply to one namespace. */
export interface PrecedenceInputs {
  cluster: RegistryEntry | undefined;
  /** The namespace's own `serverless-registry-config` (role "namespace"). */
  namespace: RegistryEntry | undefined;
  default: RegistryEntry | undefined;
}

/**
 * The role a Secret plays, or undefined when resolution ignores it (another name, missing label,
 * cluster-wide labels outside the system namespace, ...). Reads name, namespace and labels only.
 */
export function registryRoleOf(secret: SecretObject, systemNamespace: string): RegistrySource | undefined {
  const name = nameOf(secret);
  const namespace = namespaceOf(secret);
  if (name === undefined || namespace === undefined) return undefined;
  if (name === DEFAULT_REGISTRY_SECRET_NAME) return namespace === systemNamespace ? 'default' : undefined;
  if (name !== REGISTRY_SECRET_NAME || !isRegistryConfigSecret(secret)) return undefined;
  return isClusterRegistryConfigSecret(secret, systemNamespace) ? 'cluster' : 'namespace';
}

/** The entry for a Secret, or undefined when resolution ignores it (see registryRoleOf). */
export function registryEntryFromSecret(secret: SecretObject, systemNamespace: string): RegistryEntry | undefined {
  const role = registryRoleOf(secret, systemNamespace);
  if (role === undefined) return undefined;
  const ref = { namespace: namespaceOf(secret) as string, name: nameOf(secret) as string };
  const uid = metadataString(secret, 'uid');
  const resourceVersion = metadataString(secret, 'resourceVersion');
  const revision = revisionOf({ uid, resourceVersion });
  const userManaged = role === 'namespace' && isUserManagedSecret(secret);
  const read = role === 'default' ? readInternalRegistryFields(secret) : readExternalRegistryFields(secret);
  const optional = readOptionalFields(secret);
  // Object literals with one key order, never spreads: spread copies can land in V8's slow
  // dictionary mode, which made every lookup ten times slower.
  if (read.addresses === undefined || optional.problems.length > 0) {
    const reason = describeEntryProblems(ref, read.problems, optional.problems);
    return { role, ref, uid, resourceVersion, revision, userManaged, valid: false, reason };
  }
  const { registryAddress, serverAddress } = read.addresses;
  const fields: RegistryFields = {
    registryAddress,
    serverAddress,
    isInternal: optional.isInternal,
    pushRegAddress: optional.pushRegAddr ?? registryAddress,
    pullRegAddress: optional.pullRegAddr ?? registryAddress,
  };
  return { role, ref, uid, resourceVersion, revision, userManaged, valid: true, fields };
}

/** The opaque revision of an entry: uid and resourceVersion (a hash of the data would let anyone test password guesses). */
export function revisionOf(entry: { uid: string; resourceVersion: string }): string {
  return `${entry.uid}:${entry.resourceVersion}`;
}

/** Whether two entries would give identical answers (same identity, role, validity and fields). */
export function sameEntry(a: RegistryEntry | undefined, b: RegistryEntry | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (
    a.role !== b.role ||
    a.uid !== b.uid ||
    a.resourceVersion !== b.resourceVersion ||
    a.userManaged !== b.userManaged ||
    a.ref.namespace !== b.ref.namespace ||
    a.ref.name !== b.ref.name
  ) {
    return false;
  }
  if (!a.valid || !b.valid) return !a.valid && !b.valid && a.reason === b.reason;
  const x = a.fields;
  const y = b.fields;
  return (
    x.registryAddress === y.registryAddress &&
    x.serverAddress === y.serverAddress &&
    x.isInternal === y.isInternal &&
    x.pushRegAddress === y.pushRegAddress &&
    x.pullRegAddress === y.pullRegAddress
  );
}

const ROLE_WORDS: Record<RegistrySource, string> = {
  cluster: 'cluster-wide',
  namespace: 'namespace',
  default: 'default',
};

/**
 * The answer for `namespace`. Opt-out namespaces try their own Secret first, then the cluster-wide
 * one (an invalid own Secret falls through to the next rule like any other), then the default.
 */
export function resolveRegistryConfig(namespace: string, inputs: PrecedenceInputs, systemNamespace: string): Resolution {
  const own = inputs.namespace;
  const optOut = own !== undefined && own.userManaged;
  // No per-call arrays: this runs on every lookup (over a million per second).
  let skipped: string[] | undefined;
  for (let rank = 0; rank < 3; rank++) {
    const entry = rank === 0 ? (optOut ? own : inputs.cluster) : rank === 1 ? (optOut ? inputs.cluster : own) : inputs.default;
    if (entry === undefined) continue;
    if (!entry.valid) {
      (skipped ??= []).push(`${ROLE_WORDS[entry.role]} Secret skipped: ${entry.reason}`);
      continue;
    }
    const { fields, ref } = entry;
    return {
      found: true,
      config: {
        namespace,
        source: entry.role,
        secret: { namespace: ref.namespace, name: ref.name },
        registryAddress: fields.registryAddress,
        serverAddress: fields.serverAddress,
        isInternal: fields.isInternal,
        pushRegAddress: fields.pushRegAddress,
        pullRegAddress: fields.pullRegAddress,
        revision: entry.revision,
        skipped: skipped ?? [],
      },
    };
  }
  const looked =
    `${systemNamespace}/${REGISTRY_SECRET_NAME} (cluster-wide), ${namespace}/${REGISTRY_SECRET_NAME} (namespace), ` +
    `${systemNamespace}/${DEFAULT_REGISTRY_SECRET_NAME} (default)`;
  const why = skipped ? 'every candidate Secret is invalid' : 'none of these Secrets exists';
  return {
    found: false,
    notFound: { namespace, reason: `no registry config applies to namespace ${namespace}: ${why}: ${looked}`, skipped: skipped ?? [] },
  };
}

// ---------------------------------------------------------------------------------------------

type AddressKey = 'registryAddress' | 'serverAddress';
type OptionalKey = 'isInternal' | 'pushRegAddr' | 'pullRegAddr';
interface OptionalProblem {
  key: OptionalKey;
  kind: 'base64' | 'utf8';
}

/** The two addresses, or the problems that keep the Secret from being used. */
interface AddressRead {
  addresses: Record<AddressKey, string> | undefined;
  problems: KeyProblem[];
}

/** Cluster-wide and namespace Secrets: exactly the webhook's validation (all four keys). */
function readExternalRegistryFields(secret: SecretObject): AddressRead {
  const result = readRegistryCredentials(secret);
  if (!result.ok) return { addresses: undefined, problems: result.problems };
  const { registryAddress, serverAddress } = result.credentials;
  return { addresses: { registryAddress, serverAddress }, problems: [] };
}

/** The default Secret is an internal registry: no username/password needed, only the two addresses. */
function readInternalRegistryFields(secret: SecretObject): AddressRead {
  const problems: KeyProblem[] = [];
  const addresses: Partial<Record<AddressKey, string>> = {};
  for (const key of ['serverAddress', 'registryAddress'] as const) {
    const raw = dataValue(secret, key);
    if (raw === undefined) {
      problems.push({ key, kind: 'missing' });
      continue;
    }
    const decoded = decodeBase64Utf8(raw);
    if (!decoded.ok) problems.push({ key, kind: decoded.problem });
    else if (decoded.text === '') problems.push({ key, kind: 'empty' });
    else addresses[key] = decoded.text;
  }
  const { registryAddress, serverAddress } = addresses;
  if (registryAddress === undefined || serverAddress === undefined) return { addresses: undefined, problems };
  return { addresses: { registryAddress, serverAddress }, problems };
}

/** `isInternal`, `pushRegAddr`, `pullRegAddr`: absent or empty means "not set"; undecodable makes the Secret invalid. */
function readOptionalFields(secret: SecretObject): {
  isInternal: boolean;
  pushRegAddr: string | undefined;
  pullRegAddr: string | undefined;
  problems: OptionalProblem[];
} {
  const problems: OptionalProblem[] = [];
  const text = (key: OptionalKey): string | undefined => {
    const raw = dataValue(secret, key);
    if (raw === undefined) return undefined;
    const decoded = decodeBase64Utf8(raw);
    if (!decoded.ok) {
      problems.push({ key, kind: decoded.problem });
      return undefined;
    }
    return decoded.text === '' ? undefined : decoded.text;
  };
  const isInternal = text('isInternal');
  return {
    // Go's strconv.ParseBool true values: the serverless module parses it that way.
    isInternal: isInternal !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(isInternal.trim()),
    pushRegAddr: text('pushRegAddr'),
    pullRegAddr: text('pullRegAddr'),
    problems,
  };
}

function describeEntryProblems(ref: SecretName, problems: readonly KeyProblem[], optional: readonly OptionalProblem[]): string {
  const optionalText = optional
    .map((p) => `${p.kind === 'base64' ? 'not valid base64' : 'not UTF-8'}: ${p.key}`)
    .join('; ');
  if (problems.length === 0) return `registry config Secret ${ref.namespace}/${ref.name}: ${optionalText}`;
  const required = describeProblems(ref, problems);
  return optionalText === '' ? required : `${required}; ${optionalText}`;
}

function dataValue(secret: SecretObject, key: string): string | undefined {
  const data = ownValue(secret as Record<string, unknown>, 'data');
  if (!isRecord(data)) return undefined;
  const value = ownValue(data, key);
  return typeof value === 'string' ? value : undefined;
}

function metadataString(secret: SecretObject, field: 'uid' | 'resourceVersion'): string {
  const metadata = ownValue(secret as Record<string, unknown>, 'metadata');
  if (!isRecord(metadata)) return '';
  const value = ownValue(metadata, field);
  return typeof value === 'string' ? value : '';
}
