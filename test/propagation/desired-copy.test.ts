import { describe, expect, it } from 'vitest';
import { mutateRegistrySecret } from '../../src/registry/index.js';
import {
  copyForUpdate,
  copyManifest,
  copyMatches,
  needsReplacement,
  sourceOf,
} from '../../src/propagation/desired-copy.js';
import { resolveBase } from '../../src/propagation/base.js';
import type { SecretObject } from '../../src/propagation/types.js';
import { b64, baseSecret, CONFIG, dockerConfigJsonOf, NAME, OURS, OURS_VALUE, PLAIN, REMOTE, SOURCE, SYSTEM_NS, USER_OPT_OUT } from './support.js';

function desiredOf(base: SecretObject) {
  const state = resolveBase(base, SYSTEM_NS);
  if (state.kind !== 'present') throw new Error(`base not present: ${state.kind}`);
  return state.desired;
}

function updateReview(object: SecretObject, oldObject: SecretObject) {
  return {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Secret' },
    namespace: object.metadata?.namespace,
    name: object.metadata?.name,
    operation: 'UPDATE',
    object,
    oldObject,
  };
}

describe('desiredCopy', () => {
  it('copies type and data, drops the config label, adds ours and names the source with its resourceVersion', () => {
    const base = baseSecret({ labels: { [REMOTE]: 'config', [CONFIG]: 'credentials', team: 'platform' }, rv: '4711' });
    const copy = copyManifest(desiredOf(base), 'team-a');
    expect(copy).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: NAME,
        namespace: 'team-a',
        labels: { [REMOTE]: 'config', team: 'platform', [OURS]: OURS_VALUE },
        annotations: { [SOURCE]: `${SYSTEM_NS}/${NAME}@4711` },
      },
      type: 'kubernetes.io/dockerconfigjson',
      data: base.data,
    });
  });

  it('never copies the user opt-out label (a copy carrying it would lock itself)', () => {
    const base = baseSecret({ labels: { [REMOTE]: 'config', [CONFIG]: 'credentials', [USER_OPT_OUT]: 'user' } });
    expect(desiredOf(base).labels).not.toHaveProperty(USER_OPT_OUT);
  });

  it("derives .dockerconfigjson as the webhook does, even for a base stored without it", () => {
    const base = baseSecret({ withDockerConfig: false });
    expect(desiredOf(base).data['.dockerconfigjson']).toBe(dockerConfigJsonOf(PLAIN));
  });

  it('replaces a stale .dockerconfigjson of the base by the derived one', () => {
    const base = baseSecret();
    (base.data as Record<string, string>)['.dockerconfigjson'] = b64('{"auths":{}}');
    expect(desiredOf(base).data['.dockerconfigjson']).toBe(dockerConfigJsonOf(PLAIN));
  });

  it('defaults a missing type to Opaque, as the API server does', () => {
    const base = baseSecret();
    delete base.type;
    expect(desiredOf(base).type).toBe('Opaque');
  });

  it('never copies annotations of the base (last-applied-configuration may hold the data in clear)', () => {
    const base = baseSecret();
    (base.metadata as Record<string, unknown>).annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"password":"x"}}' };
    expect(copyManifest(desiredOf(base), 'a').metadata?.annotations).toEqual({ [SOURCE]: `${SYSTEM_NS}/${NAME}@100` });
  });
});

describe('copies pass our own webhook without a patch', () => {
  it.each([
    ['a base with .dockerconfigjson', baseSecret()],
    ['a base stored before the webhook (no .dockerconfigjson)', baseSecret({ withDockerConfig: false })],
    ['an Opaque base', baseSecret({ type: 'Opaque' })],
  ])('%s', (_label, base) => {
    const desired = desiredOf(base);
    const created = copyManifest(desired, 'team-a');
    const stored = { ...created, metadata: { ...created.metadata, uid: 'c1', resourceVersion: '9' } };
    const createDecision = mutateRegistrySecret({ ...updateReview(created, created), operation: 'CREATE', oldObject: null });
    expect(createDecision).toEqual({ allowed: true });
    const updated = copyForUpdate(desired, stored);
    expect(mutateRegistrySecret(updateReview(updated, stored))).toEqual({ allowed: true });
  });
});

describe('copyMatches', () => {
  const base = baseSecret({ rv: '100' });
  const desired = desiredOf(base);
  const stored = (): SecretObject => {
    const copy = copyManifest(desired, 'team-a');
    return { ...copy, metadata: { ...copy.metadata, uid: 'c1', resourceVersion: '9' } };
  };

  it('matches the copy it made', () => {
    expect(copyMatches(stored(), desired)).toBe(true);
  });

  it("ignores the base's resourceVersion: a metadata-only change of the base rewrites no copy", () => {
    const later = desiredOf(baseSecret({ rv: '101', finalizers: ['x'] }));
    expect(copyMatches(stored(), later)).toBe(true);
  });

  it('ignores key order and foreign annotations', () => {
    const s = stored();
    s.data = Object.fromEntries(Object.entries(s.data ?? {}).reverse());
    (s.metadata as Record<string, unknown>).annotations = { other: 'x', [SOURCE]: `${SYSTEM_NS}/${NAME}@1` };
    expect(copyMatches(s, desired)).toBe(true);
  });

  it.each<[string, (s: SecretObject) => void]>([
    ['a changed password', (s) => void ((s.data as Record<string, string>).password = b64('edited'))],
    ['an added data key', (s) => void ((s.data as Record<string, string>).extra = b64('x'))],
    ['a removed data key', (s) => void delete (s.data as Record<string, string>).username],
    ['another type', (s) => void (s.type = 'Opaque')],
    ['an added label', (s) => void ((s.metadata?.labels as Record<string, string>).extra = 'x')],
    ['a removed label', (s) => void delete (s.metadata?.labels as Record<string, string>)[REMOTE]],
    ['no source annotation', (s) => void delete (s.metadata?.annotations as Record<string, string>)[SOURCE]],
    ['another source', (s) => void ((s.metadata?.annotations as Record<string, string>)[SOURCE] = 'other/x@1')],
  ])('does not match after %s', (_label, edit) => {
    const s = stored();
    s.data = { ...s.data };
    s.metadata = { ...s.metadata, labels: { ...s.metadata?.labels }, annotations: { ...s.metadata?.annotations } };
    edit(s);
    expect(copyMatches(s, desired)).toBe(false);
  });
});

describe('copyForUpdate', () => {
  it('keeps identity, resourceVersion, finalizers, owners and foreign annotations; sets labels exactly', () => {
    const desired = desiredOf(baseSecret({ rv: '100' }));
    const existing: SecretObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: NAME,
        namespace: 'team-a',
        uid: 'u1',
        resourceVersion: '55',
        labels: { [REMOTE]: 'config', extra: 'x' },
        annotations: { keep: 'me' },
        finalizers: ['f'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'o1' }],
        managedFields: [{ manager: 'kubectl' }],
        creationTimestamp: '2026-11-27T18:06:47Z',
      },
      type: 'kubernetes.io/dockerconfigjson',
      data: { password: b64('old') },
    };
    expect(copyForUpdate(desired, existing)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: NAME,
        namespace: 'team-a',
        uid: 'u1',
        resourceVersion: '55',
        labels: desired.labels,
        annotations: { keep: 'me', [SOURCE]: `${SYSTEM_NS}/${NAME}@100` },
        finalizers: ['f'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'o1' }],
      },
      type: desired.type,
      data: desired.data,
    });
  });
});

describe('needsReplacement and sourceOf', () => {
  const desired = desiredOf(baseSecret());
  it('replaces on a type change or an immutable Secret', () => {
    expect(needsReplacement({ type: 'Opaque' }, desired)).toBe(true);
    expect(needsReplacement({ type: desired.type, immutable: true }, desired)).toBe(true);
    expect(needsReplacement({ type: desired.type }, desired)).toBe(false);
  });

  it('splits the annotation at the last @', () => {
    expect(sourceOf({ metadata: { annotations: { [SOURCE]: 'ns/name@12' } } })).toEqual({ ref: 'ns/name', resourceVersion: '12' });
    expect(sourceOf({ metadata: { annotations: { [SOURCE]: 'ns/name' } } })).toEqual({ ref: 'ns/name', resourceVersion: '' });
    expect(sourceOf({ metadata: {} })).toBeUndefined();
  });
});
