import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecretObject } from '../../src/kube/objects.js';
import { registryEntryFromSecret, resolveRegistryConfig, type RegistryEntry, type Resolution } from '../../src/registry/precedence.js';
import { RegistryIndex, type IndexChange } from '../../src/resolver/registry-index.js';
import {
  CANARY_PASSWORD,
  CLUSTER,
  clusterSecret,
  DEFAULT_NAME,
  defaultSecret,
  MANAGED_BY,
  NAME,
  namespaceSecret,
  refOf,
  REMOTE,
  SYSTEM,
} from './secrets.js';

const newIndex = () => new RegistryIndex({ systemNamespace: SYSTEM });

function recorder(index: RegistryIndex, namespace: string): Resolution[] {
  const seen: Resolution[] = [];
  index.subscribe(namespace, (resolution) => seen.push(resolution));
  return seen;
}

const sourceOf = (r: Resolution | undefined) => (r?.found ? r.config.source : 'none');

describe('RegistryIndex', () => {
  it('resolves per namespace and counts what it holds', () => {
    const index = newIndex();
    index.replaceAll([defaultSecret(), namespaceSecret('a'), namespaceSecret('b'), namespaceSecret('c', { name: 'other' }), clusterSecret({ drop: ['password'] })]);
    expect(sourceOf(index.resolve('a'))).toBe('namespace');
    expect(sourceOf(index.resolve('zzz'))).toBe('default');
    expect(index.size()).toEqual({ secrets: 4, namespaces: 2 });
    expect(JSON.stringify([...index.entries()])).not.toContain(CANARY_PASSWORD);
  });

  it('notifies a namespace only when its answer changes', () => {
    const index = newIndex();
    index.replaceAll([clusterSecret(), defaultSecret()]);
    const a = recorder(index, 'a');
    index.upsert(namespaceSecret('a')); // shadowed by the cluster-wide Secret: same answer
    index.upsert(namespaceSecret('b'));
    index.upsert(defaultSecret({ rv: '2' })); // not consulted: cluster-wide applies
    expect(a).toHaveLength(0);

    index.upsert(clusterSecret({ rv: '2' }));
    expect(a).toHaveLength(1);
    expect(a[0]?.found && a[0].config.revision).toBe(`uid-${SYSTEM}-${NAME}:2`);

    index.upsert(clusterSecret({ rv: '2' })); // same again: nothing
    expect(a).toHaveLength(1);
  });

  it('the revision follows the resourceVersion of the effective Secret', () => {
    const index = newIndex();
    const a = recorder(index, 'a');
    index.upsert(namespaceSecret('a', { rv: '10' }));
    index.upsert(namespaceSecret('a', { rv: '11' }));
    index.upsert(namespaceSecret('a', { rv: '11', uid: 'recreated' }));
    expect(a.map((r) => r.found && r.config.revision)).toEqual([`uid-a-${NAME}:10`, `uid-a-${NAME}:11`, 'recreated:11']);
  });

  it('deleting the cluster-wide Secret falls back, per namespace, and opt-out namespaces hear nothing', () => {
    const index = newIndex();
    index.replaceAll([clusterSecret(), defaultSecret(), namespaceSecret('a'), namespaceSecret('u', { userManaged: true })]);
    const a = recorder(index, 'a');
    const c = recorder(index, 'c');
    const u = recorder(index, 'u');
    index.delete(refOf(clusterSecret()));
    expect(a.map(sourceOf)).toEqual(['namespace']);
    expect(c.map(sourceOf)).toEqual(['default']);
    expect(u).toHaveLength(0);
  });

  it('namespace deletion (its Secret deleted) falls back to default; label removal counts as deletion', () => {
    const index = newIndex();
    index.replaceAll([defaultSecret(), namespaceSecret('a'), namespaceSecret('b')]);
    const a = recorder(index, 'a');
    const b = recorder(index, 'b');
    index.delete({ namespace: 'a', name: NAME });
    const unlabelled = namespaceSecret('b', { rv: '2' });
    delete unlabelled.metadata?.labels?.[REMOTE];
    index.upsert(unlabelled);
    expect(a.map(sourceOf)).toEqual(['default']);
    expect(b.map(sourceOf)).toEqual(['default']);
    expect(index.size()).toEqual({ secrets: 1, namespaces: 0 });
  });

  it('replaceAll applies only the difference', () => {
    const index = newIndex();
    const secrets = [defaultSecret(), namespaceSecret('a'), namespaceSecret('b')];
    index.replaceAll(secrets);
    const a = recorder(index, 'a');
    const b = recorder(index, 'b');
    const changes: IndexChange[] = [];
    index.subscribe('*', (change) => changes.push(change));

    index.replaceAll(structuredClone(secrets)); // a re-list with nothing new
    expect([a, b, changes].map((x) => x.length)).toEqual([0, 0, 0]);

    index.replaceAll([defaultSecret(), namespaceSecret('b', { rv: '2' })]); // a gone, b modified
    expect(a.map(sourceOf)).toEqual(['default']);
    expect(b.map((r) => r.found && r.config.revision)).toEqual([`uid-b-${NAME}:2`]);
    expect(changes).toEqual(expect.arrayContaining([{ type: 'namespace', namespace: 'a' }, { type: 'namespace', namespace: 'b' }]));
    expect(changes).toHaveLength(2);

    index.replaceAll([defaultSecret({ rv: '9' }), namespaceSecret('b', { rv: '2' })]);
    expect(changes.at(-1)).toEqual({ type: 'global' });
    expect(a.map(sourceOf)).toEqual(['default', 'default']);
  });

  it('"*" subscribers hear about a namespace only when its answer changed', () => {
    const index = newIndex();
    index.replaceAll([clusterSecret()]);
    const changes: IndexChange[] = [];
    index.subscribe('*', (change) => changes.push(change));
    index.upsert(namespaceSecret('a')); // shadowed
    expect(changes).toEqual([]);
    const optOut = namespaceSecret('a', { userManaged: true, rv: '2' });
    index.upsert(optOut);
    expect(changes).toEqual([{ type: 'namespace', namespace: 'a' }]);
  });

  it('unsubscribing leaves no subscriber; a throwing listener does not stop the others', () => {
    const errors: unknown[] = [];
    const index = new RegistryIndex({ systemNamespace: SYSTEM, onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    const off1 = index.subscribe('a', () => {
      throw new Error('boom');
    });
    const off2 = index.subscribe('a', () => seen.push('second'));
    const off3 = index.subscribe('*', () => seen.push('star'));
    expect(index.subscriberCount()).toBe(3);
    index.upsert(namespaceSecret('a'));
    expect(seen).toEqual(['second', 'star']);
    expect(errors).toHaveLength(1);
    off1();
    off2();
    off3();
    off3();
    expect(index.subscriberCount()).toBe(0);
  });

  it('ignores Secrets without name or namespace and unknown names', () => {
    const index = newIndex();
    index.upsert({ kind: 'Secret', metadata: { name: NAME } });
    index.upsert(namespaceSecret('a', { name: 'serverless-registry-config-old' }));
    index.delete({ namespace: 'a', name: 'whatever' });
    expect(index.size()).toEqual({ secrets: 0, namespaces: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: after any sequence of upserts, deletes and re-lists, the index answers exactly what a
// naive scan of the current Secret set answers, and subscribers heard exactly the changes.

const NAMESPACES = [SYSTEM, 'a', 'b'] as const;

/** The candidates found by scanning every Secret, written from the rules, not from the index. */
function naiveResolve(secrets: Iterable<SecretObject>, namespace: string): Resolution {
  let cluster: RegistryEntry | undefined;
  let own: RegistryEntry | undefined;
  let fallback: RegistryEntry | undefined;
  for (const secret of secrets) {
    const m = secret.metadata ?? {};
    const labels = m.labels ?? {};
    const entry = () => registryEntryFromSecret(secret, SYSTEM);
    const remote = labels[REMOTE] === 'config';
    if (m.namespace === SYSTEM && m.name === DEFAULT_NAME) fallback = entry();
    else if (m.name === NAME && remote && m.namespace === SYSTEM && labels[CLUSTER] === 'credentials') cluster = entry();
    else if (m.name === NAME && remote && m.namespace === namespace) own = entry();
  }
  return resolveRegistryConfig(namespace, { cluster, namespace: own, default: fallback }, SYSTEM);
}

const secretArbitrary: fc.Arbitrary<SecretObject> = fc
  .record({
    namespace: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom(NAME, NAME, DEFAULT_NAME, 'other'),
    remote: fc.boolean(),
    cluster: fc.boolean(),
    userManaged: fc.boolean(),
    valid: fc.boolean(),
    address: fc.constantFrom('r1.example.com', 'r2.example.com'),
  })
  .map(({ namespace, name, remote, cluster, userManaged, valid, address }) => {
    // Like the API server: the same resourceVersion always means the same content.
    const rv = [remote, cluster, userManaged, valid].map(Number).join('') + address.slice(0, 2);
    const labels: Record<string, string> = {};
    if (remote) labels[REMOTE] = 'config';
    if (cluster) labels[CLUSTER] = 'credentials';
    if (userManaged) labels[MANAGED_BY] = 'user';
    const base = name === DEFAULT_NAME ? defaultSecret({ namespace }) : namespaceSecret(namespace, { name });
    const secret = structuredClone(base);
    secret.metadata = { ...secret.metadata, labels, resourceVersion: String(rv) };
    secret.data = { ...secret.data, registryAddress: Buffer.from(address).toString('base64') };
    if (!valid) delete secret.data.serverAddress;
    return secret;
  });

type Op = { type: 'upsert'; secret: SecretObject } | { type: 'delete'; namespace: string; name: string } | { type: 'replaceAll'; secrets: SecretObject[] };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: secretArbitrary.map((secret) => ({ type: 'upsert' as const, secret })) },
  {
    weight: 3,
    arbitrary: fc.record({ namespace: fc.constantFrom(...NAMESPACES), name: fc.constantFrom(NAME, DEFAULT_NAME) }).map((r) => ({ type: 'delete' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.array(secretArbitrary, { maxLength: 6 }).map((secrets) => ({ type: 'replaceAll' as const, secrets })) },
);

describe('RegistryIndex property', () => {
  it('equals a naive recomputation after any sequence of events, and notifies exactly on change', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 30 }), (ops) => {
        const index = newIndex();
        const watched = [...NAMESPACES, 'zzz'];
        const heard = new Map<string, number>(watched.map((ns) => [ns, 0]));
        for (const ns of watched) index.subscribe(ns, () => heard.set(ns, (heard.get(ns) ?? 0) + 1));
        const truth = new Map<string, SecretObject>();
        const key = (ns: string | undefined, name: string | undefined) => `${ns}/${name}`;
        for (const op of ops) {
          const before = new Map(watched.map((ns) => [ns, JSON.stringify(naiveResolve(truth.values(), ns))]));
          const heardBefore = new Map(heard);
          if (op.type === 'upsert') {
            truth.set(key(op.secret.metadata?.namespace, op.secret.metadata?.name), op.secret);
            index.upsert(op.secret);
          } else if (op.type === 'delete') {
            truth.delete(key(op.namespace, op.name));
            index.delete({ namespace: op.namespace, name: op.name });
          } else {
            truth.clear();
            for (const s of op.secrets) truth.set(key(s.metadata?.namespace, s.metadata?.name), s);
            index.replaceAll(op.secrets);
          }
          for (const ns of watched) {
            const expected = naiveResolve(truth.values(), ns);
            expect(index.resolve(ns)).toEqual(expected);
            const changed = JSON.stringify(expected) !== before.get(ns);
            expect((heard.get(ns) ?? 0) - (heardBefore.get(ns) ?? 0)).toBe(changed ? 1 : 0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
