import { describe, expect, it } from 'vitest';
import type { SecretObject } from '../../src/kube/objects.js';
import {
  registryEntryFromSecret,
  registryRoleOf,
  resolveRegistryConfig,
  type RegistryEntry,
  type Resolution,
} from '../../src/registry/precedence.js';
import {
  b64,
  CANARY_PASSWORD,
  CANARY_USERNAME,
  CLUSTER,
  clusterSecret,
  defaultSecret,
  MANAGED_BY,
  NAME,
  namespaceSecret,
  REMOTE,
  SYSTEM,
} from '../resolver/secrets.js';

/** Resolution straight from a list of Secrets, finding each candidate by scanning (no index). */
function resolveFrom(secrets: SecretObject[], namespace: string, systemNamespace = SYSTEM): Resolution {
  const entries = secrets.map((s) => registryEntryFromSecret(s, systemNamespace)).filter((e): e is RegistryEntry => e !== undefined);
  return resolveRegistryConfig(
    namespace,
    {
      cluster: entries.find((e) => e.role === 'cluster'),
      namespace: entries.find((e) => e.role === 'namespace' && e.ref.namespace === namespace),
      default: entries.find((e) => e.role === 'default'),
    },
    systemNamespace,
  );
}

type Expected =
  | { source: 'cluster' | 'namespace' | 'default'; secret: string; skipped?: RegExp[] }
  | { none: RegExp; skipped?: RegExp[] };

interface Case {
  name: string;
  secrets: SecretObject[];
  systemNamespace?: string;
  expect: Record<string, Expected>;
}

const CLUSTER_REF = `${SYSTEM}/${NAME}`;
const DEFAULT_REF = `${SYSTEM}/serverless-registry-config-default`;
const withoutLabel = (secret: SecretObject, label: string): SecretObject => {
  const copy = structuredClone(secret);
  delete copy.metadata?.labels?.[label];
  return copy;
};

const CASES: Case[] = [
  {
    name: 'nothing at all',
    secrets: [],
    expect: { a: { none: /no registry config applies to namespace a: none of these Secrets exists/ } },
  },
  {
    name: 'default only',
    secrets: [defaultSecret()],
    expect: { a: { source: 'default', secret: DEFAULT_REF }, [SYSTEM]: { source: 'default', secret: DEFAULT_REF } },
  },
  {
    name: 'namespace Secret beats default, only in its namespace',
    secrets: [defaultSecret(), namespaceSecret('a')],
    expect: { a: { source: 'namespace', secret: 'a/serverless-registry-config' }, b: { source: 'default', secret: DEFAULT_REF } },
  },
  {
    name: 'cluster-wide beats namespace and default everywhere',
    secrets: [defaultSecret(), namespaceSecret('a'), clusterSecret()],
    expect: {
      a: { source: 'cluster', secret: CLUSTER_REF },
      b: { source: 'cluster', secret: CLUSTER_REF },
      [SYSTEM]: { source: 'cluster', secret: CLUSTER_REF },
    },
  },
  {
    name: 'opt-out: managed-by user keeps the namespace Secret',
    secrets: [defaultSecret(), clusterSecret(), namespaceSecret('a', { userManaged: true }), namespaceSecret('b')],
    expect: {
      a: { source: 'namespace', secret: 'a/serverless-registry-config' },
      b: { source: 'cluster', secret: CLUSTER_REF },
    },
  },
  {
    name: 'after deleting the cluster-wide Secret: back to namespace and default',
    secrets: [defaultSecret(), namespaceSecret('a')],
    expect: { a: { source: 'namespace', secret: 'a/serverless-registry-config' }, c: { source: 'default', secret: DEFAULT_REF } },
  },
  {
    name: 'after deleting namespace a (its Secret is gone): default',
    secrets: [defaultSecret(), namespaceSecret('b')],
    expect: { a: { source: 'default', secret: DEFAULT_REF } },
  },
  {
    name: 'invalid cluster-wide falls through, and says why',
    secrets: [defaultSecret(), clusterSecret({ drop: ['password'] }), namespaceSecret('a')],
    expect: {
      a: {
        source: 'namespace',
        secret: 'a/serverless-registry-config',
        skipped: [/^cluster-wide Secret skipped: registry config Secret kyma-system\/serverless-registry-config: missing password$/],
      },
      c: { source: 'default', secret: DEFAULT_REF, skipped: [/cluster-wide Secret skipped: .*missing password/] },
    },
  },
  {
    name: 'invalid namespace Secret falls through to default',
    secrets: [defaultSecret(), namespaceSecret('a', { raw: { username: 'not base64!' } })],
    expect: {
      a: { source: 'default', secret: DEFAULT_REF, skipped: [/^namespace Secret skipped: registry config Secret a\/serverless-registry-config: not valid base64: username$/] },
    },
  },
  {
    name: 'invalid opt-out Secret falls through to the cluster-wide one',
    secrets: [clusterSecret(), namespaceSecret('a', { userManaged: true, plain: { username: '' } })],
    expect: { a: { source: 'cluster', secret: CLUSTER_REF, skipped: [/namespace Secret skipped: .*empty username/] } },
  },
  {
    name: 'everything invalid: none, with every reason',
    secrets: [clusterSecret({ drop: ['password'] }), namespaceSecret('a', { drop: ['username'] }), defaultSecret({ drop: ['serverAddress'] })],
    expect: {
      a: {
        none: /every candidate Secret is invalid/,
        skipped: [/cluster-wide.*missing password/, /namespace.*missing username/, /default Secret skipped: .*missing serverAddress/],
      },
    },
  },
  {
    name: 'remote-registry label removed from the namespace Secret: ignored',
    secrets: [defaultSecret(), withoutLabel(namespaceSecret('a'), REMOTE)],
    expect: { a: { source: 'default', secret: DEFAULT_REF } },
  },
  {
    name: 'config label removed from the cluster-wide Secret: it is only the system namespace\'s own',
    secrets: [defaultSecret(), withoutLabel(clusterSecret(), CLUSTER)],
    expect: { a: { source: 'default', secret: DEFAULT_REF }, [SYSTEM]: { source: 'namespace', secret: CLUSTER_REF } },
  },
  {
    name: 'cluster-wide labels outside the system namespace make only a namespace Secret',
    secrets: [defaultSecret(), clusterSecret({ namespace: 'a' })],
    expect: { a: { source: 'namespace', secret: 'a/serverless-registry-config' }, b: { source: 'default', secret: DEFAULT_REF } },
  },
  {
    name: 'other names and a default outside the system namespace are ignored',
    secrets: [namespaceSecret('a', { name: 'serverless-registry-config-old' }), defaultSecret({ namespace: 'a' })],
    expect: { a: { none: /none of these Secrets exists/ } },
  },
  {
    name: 'managed-by user on the cluster-wide Secret changes nothing',
    secrets: [clusterSecret({ labels: { [REMOTE]: 'config', [CLUSTER]: 'credentials', [MANAGED_BY]: 'user' } }), namespaceSecret('a')],
    expect: { a: { source: 'cluster', secret: CLUSTER_REF }, [SYSTEM]: { source: 'cluster', secret: CLUSTER_REF } },
  },
  {
    name: 'another system namespace: kyma-system Secrets are ordinary',
    systemNamespace: 'my-system',
    secrets: [clusterSecret(), defaultSecret(), defaultSecret({ namespace: 'my-system' })],
    expect: {
      a: { source: 'default', secret: 'my-system/serverless-registry-config-default' },
      [SYSTEM]: { source: 'namespace', secret: CLUSTER_REF },
    },
  },
];

describe('precedence table', () => {
  for (const testCase of CASES) {
    for (const [namespace, expected] of Object.entries(testCase.expect)) {
      it(`${testCase.name}: ${namespace}`, () => {
        const resolution = resolveFrom(testCase.secrets, namespace, testCase.systemNamespace);
        const skipped = resolution.found ? resolution.config.skipped : resolution.notFound.skipped;
        if ('none' in expected) {
          expect(resolution.found).toBe(false);
          if (!resolution.found) expect(resolution.notFound.reason).toMatch(expected.none);
        } else {
          expect(resolution.found).toBe(true);
          if (resolution.found) {
            expect(resolution.config.source).toBe(expected.source);
            expect(`${resolution.config.secret.namespace}/${resolution.config.secret.name}`).toBe(expected.secret);
            expect(resolution.config.namespace).toBe(namespace);
          }
        }
        const patterns = expected.skipped ?? [];
        expect(skipped).toHaveLength(patterns.length);
        patterns.forEach((pattern, i) => expect(skipped[i]).toMatch(pattern));
      });
    }
  }
});

describe('answers', () => {
  it('an external registry pushes and pulls at registryAddress; revision is uid:resourceVersion', () => {
    const resolution = resolveFrom([namespaceSecret('a', { uid: 'u-1', rv: '42' })], 'a');
    expect(resolution).toEqual({
      found: true,
      config: {
        namespace: 'a',
        source: 'namespace',
        secret: { namespace: 'a', name: NAME },
        registryAddress: 'a.registry.example.com/kyma',
        serverAddress: 'a.registry.example.com',
        isInternal: false,
        pushRegAddress: 'a.registry.example.com/kyma',
        pullRegAddress: 'a.registry.example.com/kyma',
        revision: 'u-1:42',
        skipped: [],
      },
    });
  });

  it('the internal default registry has its own push and pull addresses and no credentials', () => {
    const resolution = resolveFrom([defaultSecret()], 'x');
    expect(resolution.found && resolution.config).toMatchObject({
      source: 'default',
      isInternal: true,
      registryAddress: 'localhost:32137',
      pushRegAddress: 'internal-registry.kyma-system.svc:5000',
      pullRegAddress: 'localhost:32137',
    });
  });

  it('pushRegAddr/pullRegAddr fall back to registryAddress; isInternal parses like Go', () => {
    for (const [value, internal] of [['true', true], ['1', true], ['True', true], ['false', false], ['yes', false]] as const) {
      const secret = defaultSecret({ plain: { isInternal: value }, drop: ['pushRegAddr', 'pullRegAddr'] });
      const resolution = resolveFrom([secret], 'x');
      expect(resolution.found && resolution.config).toMatchObject({ isInternal: internal, pushRegAddress: 'localhost:32137', pullRegAddress: 'localhost:32137' });
    }
  });

  it('an undecodable optional key makes the Secret invalid, naming the key', () => {
    const resolution = resolveFrom([defaultSecret({ raw: { pushRegAddr: b64('\u00ff').slice(0, 2) + '==' } })], 'x');
    expect(resolution.found).toBe(false);
    if (!resolution.found) expect(resolution.notFound.skipped[0]).toMatch(/pushRegAddr/);
  });
});

describe('entries', () => {
  it('hold neither username nor password, in plain or base64', () => {
    const entries = [clusterSecret(), namespaceSecret('a'), namespaceSecret('b', { drop: ['serverAddress'] })].map((s) => registryEntryFromSecret(s, SYSTEM));
    const text = JSON.stringify(entries);
    for (const value of [CANARY_PASSWORD, CANARY_USERNAME, b64(CANARY_PASSWORD), b64(CANARY_USERNAME)]) expect(text).not.toContain(value);
    expect(entries.every((e) => e !== undefined)).toBe(true);
  });

  it('roles follow name, namespace and labels', () => {
    expect(registryRoleOf(clusterSecret(), SYSTEM)).toBe('cluster');
    expect(registryRoleOf(namespaceSecret('a'), SYSTEM)).toBe('namespace');
    expect(registryRoleOf(defaultSecret(), SYSTEM)).toBe('default');
    expect(registryRoleOf(defaultSecret({ namespace: 'a' }), SYSTEM)).toBeUndefined();
    expect(registryRoleOf({ kind: 'Secret', metadata: { name: NAME } }, SYSTEM)).toBeUndefined();
    expect(registryRoleOf({ kind: 'Secret' }, SYSTEM)).toBeUndefined();
  });

  it('default needs only the two addresses, and says which are missing', () => {
    const ok = registryEntryFromSecret(defaultSecret({ drop: ['isInternal', 'pushRegAddr', 'pullRegAddr'] }), SYSTEM);
    expect(ok?.valid).toBe(true);
    const bad = registryEntryFromSecret(defaultSecret({ drop: ['registryAddress', 'serverAddress'] }), SYSTEM);
    expect(bad).toMatchObject({ valid: false, reason: 'registry config Secret kyma-system/serverless-registry-config-default: missing serverAddress, registryAddress' });
  });
});
