import { describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/propagation/object-cache.js';
import { namespaceEssentials, type NamespaceObject, type SecretObject } from '../../src/propagation/types.js';

interface Obj {
  metadata: { name: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> };
}

const obj = (name: string, uid: string, rv: string, labels?: Record<string, string>): Obj => ({
  metadata: { name, uid, resourceVersion: rv, ...(labels ? { labels } : {}) },
});

function cacheWithLog() {
  const cache = new ObjectCache<Obj>((o) => o.metadata.name, (o) => o.metadata.labels?.ours === 'yes');
  const changes: string[] = [];
  cache.onChange = (key, current, previous) => changes.push(`${key}:${previous?.metadata.resourceVersion ?? '-'}->${current?.metadata.resourceVersion ?? '-'}`);
  return { cache, changes };
}

describe('ObjectCache', () => {
  it('reports adds, changes and removals of a re-list, but not unchanged objects', () => {
    const { cache, changes } = cacheWithLog();
    cache.replaceAll([obj('a', 'u1', '1'), obj('b', 'u2', '2')]);
    cache.replaceAll([obj('a', 'u1', '1'), obj('b', 'u2', '3'), obj('c', 'u3', '4')]);
    cache.replaceAll([obj('c', 'u3', '4')]);
    expect(changes).toEqual(['a:-->1', 'b:-->2', 'b:2->3', 'c:-->4', 'a:1->-', 'b:3->-']);
    expect(cache.hasSynced()).toBe(true);
  });

  it('ignores a delayed older version of an object it already has (our write applied first)', () => {
    const { cache, changes } = cacheWithLog();
    cache.applyWritten(obj('a', 'u1', '10'));
    cache.upsert(obj('a', 'u1', '9'));
    expect(cache.get('a')?.metadata.resourceVersion).toBe('10');
    cache.upsert(obj('a', 'u1', '10')); // the watch echo of our own write
    expect(changes).toEqual(['a:-->10']);
    cache.upsert(obj('a', 'u2', '5')); // a new object of the same name: accepted
    expect(cache.get('a')?.metadata.uid).toBe('u2');
  });

  it('a delayed DELETED of the replaced object does not drop its successor', () => {
    const { cache } = cacheWithLog();
    cache.upsert(obj('a', 'old', '1'));
    cache.applyDeleted('a', 'old');
    cache.applyWritten(obj('a', 'new', '3'));
    cache.remove(obj('a', 'old', '2'));
    expect(cache.get('a')?.metadata.uid).toBe('new');
    cache.remove(obj('a', 'new', '4'));
    expect(cache.get('a')).toBeUndefined();
  });

  it("a write's response arriving after the watch reported later changes does not resurrect the old object", () => {
    const { cache } = cacheWithLog();
    // The watch is faster than the response to our create: created (10), deleted (11), replaced by someone (12).
    cache.upsert(obj('a', 'ours', '10'));
    cache.remove(obj('a', 'ours', '11'));
    cache.upsert(obj('a', 'theirs', '12'));
    cache.applyWritten(obj('a', 'ours', '10'));
    expect(cache.get('a')?.metadata.uid).toBe('theirs');
    cache.remove(obj('a', 'theirs', '13'));
    cache.applyWritten(obj('a', 'ours', '10'));
    expect(cache.get('a')).toBeUndefined();
    cache.applyWritten(obj('a', 'ours-again', '14')); // newer than anything seen: applied
    expect(cache.get('a')?.metadata.uid).toBe('ours-again');
  });

  it('keeps a running count of matching objects', () => {
    const { cache } = cacheWithLog();
    cache.replaceAll([obj('a', 'u1', '1', { ours: 'yes' }), obj('b', 'u2', '1')]);
    expect(cache.countedSize).toBe(1);
    cache.upsert(obj('b', 'u2', '2', { ours: 'yes' }));
    expect(cache.countedSize).toBe(2);
    cache.upsert(obj('a', 'u1', '2'));
    cache.remove(obj('b', 'u2', '3'));
    expect(cache.countedSize).toBe(0);
  });

  it('keeps what it needs of each object: no managedFields; for namespaces name, uid, version, labels, deletion and phase', () => {
    const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }];
    const secrets = new ObjectCache<SecretObject>((s) => s.metadata?.namespace);
    secrets.upsert({ metadata: { name: 'x', namespace: 'a', uid: 'u', resourceVersion: '3', managedFields, annotations: { keep: 'me' } }, data: { k: 'dg==' } });
    expect(secrets.get('a')).toEqual({ metadata: { name: 'x', namespace: 'a', uid: 'u', resourceVersion: '3', annotations: { keep: 'me' } }, data: { k: 'dg==' } });

    const namespaces = new ObjectCache<NamespaceObject>((ns) => ns.metadata?.name, () => false, namespaceEssentials);
    namespaces.replaceAll([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'a', uid: 'n', resourceVersion: '9', labels: { team: 'x' }, managedFields, creationTimestamp: '2026-12-06T00:00:00Z', deletionTimestamp: '2026-12-06T01:00:00Z' },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Terminating' },
      },
    ]);
    expect(namespaces.get('a')).toEqual({
      metadata: { name: 'a', uid: 'n', resourceVersion: '9', labels: { team: 'x' }, deletionTimestamp: '2026-12-06T01:00:00Z' },
      status: { phase: 'Terminating' },
    });
  });
});
