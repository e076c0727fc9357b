import { describe, expect, it } from 'vitest';
import { finalizerAction, finalizersAfter, resolveBase, type BaseState } from '../../src/propagation/base.js';
import { copyManifest } from '../../src/propagation/desired-copy.js';
import { parseExcludeSelector, DEFAULT_PROPAGATION_EXCLUDE } from '../../src/propagation/exclude.js';
import { planNamespace, type Plan, type PlanInput } from '../../src/propagation/plan.js';
import type { SecretObject } from '../../src/propagation/types.js';
import { baseSecret, FINALIZER, NAME, namespace, OURS, OURS_VALUE, REMOTE, secretIn, SOURCE, SYSTEM_NS, USER_OPT_OUT } from './support.js';

const exclude = parseExcludeSelector(DEFAULT_PROPAGATION_EXCLUDE);
const present = resolveBase(baseSecret(), SYSTEM_NS);
const absent: BaseState = { kind: 'absent', why: 'missing' };
const held = resolveBase(baseSecret({ labels: { [REMOTE]: 'config', 'serverless.kyma-project.io/config': 'credentials', [OURS]: OURS_VALUE } }), SYSTEM_NS);

/** Our current copy in `ns`, as stored. */
function ourCopy(ns: string, edit?: (s: SecretObject) => void): SecretObject {
  if (present.kind !== 'present') throw new Error('fixture');
  const copy = copyManifest(present.desired, ns);
  const stored: SecretObject = { ...copy, metadata: { ...copy.metadata, uid: `copy-${ns}`, resourceVersion: '9' } };
  edit?.(stored);
  return stored;
}

function plan(input: Partial<PlanInput> & { namespace: string }): Plan {
  return planNamespace({
    systemNamespace: SYSTEM_NS,
    base: present,
    namespaceObject: namespace(input.namespace),
    exclude,
    existing: undefined,
    ...input,
  });
}

function summary(p: Plan): string {
  if (p.action === 'skip') return `skip:${p.reason}`;
  if (p.action === 'delete') return `delete:${p.why}`;
  if (p.action === 'update' || p.action === 'replace') return `${p.action}${p.takeover ? ':takeover' : ''}`;
  return p.action;
}

const userSecret = (ns: string) => secretIn(ns, { labels: { [REMOTE]: 'config', [USER_OPT_OUT]: 'user' } });
const foreignCopy = (ns: string) => secretIn(ns, { labels: { [REMOTE]: 'config', [OURS]: OURS_VALUE }, annotations: { [SOURCE]: 'other-system/serverless-registry-config@3' } });
const strangerSecret = (ns: string) => secretIn(ns); // same name, no opt-out, not ours

describe('planNamespace', () => {
  it.each<[string, Partial<PlanInput> & { namespace: string }, string]>([
    ['new namespace', { namespace: 'a' }, 'create'],
    ['copy up to date', { namespace: 'a', existing: ourCopy('a') }, 'skip:up-to-date'],
    ['copy edited (data)', { namespace: 'a', existing: ourCopy('a', (s) => void (s.data = { ...s.data, password: 'eA==' })) }, 'update'],
    ['copy edited (label removed)', { namespace: 'a', existing: ourCopy('a', (s) => void (s.metadata = { ...s.metadata, labels: { [OURS]: OURS_VALUE } })) }, 'update'],
    ['copy without source annotation is still ours', { namespace: 'a', existing: ourCopy('a', (s) => void (s.metadata = { ...s.metadata, annotations: {} })) }, 'update'],
    ['copy of another type', { namespace: 'a', existing: ourCopy('a', (s) => void (s.type = 'Opaque')) }, 'replace'],
    ['immutable stale copy', { namespace: 'a', existing: ourCopy('a', (s) => void ((s.immutable = true), (s.data = {}))) }, 'replace'],
    ['copy being deleted', { namespace: 'a', existing: ourCopy('a', (s) => void (s.metadata = { ...s.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' })) }, 'skip:copy-terminating'],
    ['user-managed Secret', { namespace: 'a', existing: userSecret('a') }, 'skip:user-managed'],
    ['our copy later opted out by the user', { namespace: 'a', existing: ourCopy('a', (s) => void (s.metadata = { ...s.metadata, labels: { ...s.metadata?.labels, [USER_OPT_OUT]: 'user' } })) }, 'skip:user-managed'],
    ['same-named Secret without opt-out', { namespace: 'a', existing: strangerSecret('a') }, 'update:takeover'],
    ['same-named Opaque Secret without opt-out', { namespace: 'a', existing: secretIn('a', { type: 'Opaque' }) }, 'replace:takeover'],
    ['copy of another installation', { namespace: 'a', existing: foreignCopy('a') }, 'skip:not-ours'],
    ['system namespace', { namespace: SYSTEM_NS, existing: baseSecret() }, 'skip:system-namespace'],
    ['system namespace even without a Secret', { namespace: SYSTEM_NS }, 'skip:system-namespace'],
    ['kube-system (default exclude)', { namespace: 'kube-system' }, 'skip:excluded'],
    ['kube-public holding our copy', { namespace: 'kube-public', existing: ourCopy('kube-public') }, 'delete:excluded'],
    ['excluded namespace with a stranger Secret', { namespace: 'kube-node-lease', existing: strangerSecret('kube-node-lease') }, 'skip:excluded'],
    ['terminating namespace', { namespace: 'a', namespaceObject: namespace('a', { terminating: true }) }, 'skip:terminating'],
    ['terminating namespace with a stale copy', { namespace: 'a', namespaceObject: namespace('a', { terminating: true }), existing: ourCopy('a', (s) => void (s.data = {})) }, 'skip:terminating'],
    ['unknown namespace', { namespace: 'a', namespaceObject: undefined }, 'skip:namespace-missing'],
    ['no base, our copy', { namespace: 'a', base: absent, existing: ourCopy('a') }, 'delete:base-gone'],
    ['no base, our copy in a terminating namespace', { namespace: 'a', base: absent, namespaceObject: namespace('a', { terminating: true }), existing: ourCopy('a') }, 'delete:base-gone'],
    ['no base, our copy in an unknown namespace', { namespace: 'a', base: absent, namespaceObject: undefined, existing: ourCopy('a') }, 'delete:base-gone'],
    ['no base, user-managed', { namespace: 'a', base: absent, existing: userSecret('a') }, 'skip:user-managed'],
    ['no base, stranger Secret', { namespace: 'a', base: absent, existing: strangerSecret('a') }, 'skip:no-base'],
    ['no base, nothing there', { namespace: 'a', base: absent }, 'skip:no-base'],
    ['no base, another installation\'s copy', { namespace: 'a', base: absent, existing: foreignCopy('a') }, 'skip:not-ours'],
    ['held base', { namespace: 'a', base: held, existing: ourCopy('a', (s) => void (s.data = {})) }, 'skip:base-held'],
    ['Secret of another name (never ours)', { namespace: 'a', existing: { ...ourCopy('a'), metadata: { ...ourCopy('a').metadata, name: 'other' } } }, 'skip:not-ours'],
  ])('%s', (_label, input, expected) => {
    expect(summary(plan(input))).toBe(expected);
  });

  it('honours a custom PROPAGATION_EXCLUDE on namespace labels', () => {
    const custom = parseExcludeSelector('env in (sandbox)');
    expect(summary(plan({ namespace: 'a', exclude: custom, namespaceObject: namespace('a', { labels: { env: 'sandbox' } }) }))).toBe('skip:excluded');
    expect(summary(plan({ namespace: 'kube-system', exclude: custom }))).toBe('create');
  });

  it('assumes kubernetes.io/metadata.name even when the namespace object lacks it', () => {
    const ns = namespace('kube-system');
    ns.metadata = { ...ns.metadata, labels: {} };
    expect(summary(plan({ namespace: 'kube-system', namespaceObject: ns }))).toBe('skip:excluded');
  });

  it('creates exactly the manifest in the namespace, never anywhere else', () => {
    const p = plan({ namespace: 'team-a' });
    expect(p.action).toBe('create');
    if (p.action !== 'create') return;
    expect(p.body.metadata?.namespace).toBe('team-a');
    expect(p.body.metadata?.name).toBe(NAME);
  });

  it('updates a takeover with its uid and resourceVersion (a concurrent change is a 409)', () => {
    const p = plan({ namespace: 'a', existing: strangerSecret('a') });
    if (p.action !== 'update') throw new Error(p.action);
    expect(p.body.metadata).toMatchObject({ uid: 'uid-a', resourceVersion: '7', labels: { [OURS]: OURS_VALUE } });
  });
});

describe('resolveBase', () => {
  it.each<[string, SecretObject | undefined, string]>([
    ['none', undefined, 'absent:missing'],
    ['valid', baseSecret(), 'present'],
    ['being deleted', baseSecret({ deletionTimestamp: '2026-01-01T00:00:00Z' }), 'absent:deleting'],
    ['labels removed', baseSecret({ labels: {} }), 'absent:unlabelled'],
    ['only remote-registry label', baseSecret({ labels: { [REMOTE]: 'config' } }), 'absent:unlabelled'],
    ['in another namespace (never a base)', baseSecret({ namespace: 'team-a' }), 'absent:missing'],
    ['carrying our copy label (never a base)', baseSecret({ labels: { [REMOTE]: 'config', 'serverless.kyma-project.io/config': 'credentials', [OURS]: OURS_VALUE } }), 'held:labelled-as-copy'],
    ['bad credentials', { ...baseSecret(), data: { username: 'YQ==' } }, 'held:invalid-credentials'],
  ])('%s -> %s', (_label, candidate, expected) => {
    const state = resolveBase(candidate, SYSTEM_NS);
    expect(state.kind === 'present' ? 'present' : `${state.kind}:${state.why}`).toBe(expected);
  });

  it('names the bad keys of a held base without their values', () => {
    const state = resolveBase({ ...baseSecret(), data: { username: 'YQ==', password: '' } }, SYSTEM_NS);
    if (state.kind !== 'held') throw new Error(state.kind);
    expect(state.detail).toContain('password');
    expect(state.detail).not.toContain('YQ==');
  });
});

describe('finalizer decisions', () => {
  it.each<[string, BaseState, number, string]>([
    ['present without finalizer', resolveBase(baseSecret(), SYSTEM_NS), 0, 'add'],
    ['present with finalizer', resolveBase(baseSecret({ finalizers: [FINALIZER] }), SYSTEM_NS), 0, 'none'],
    ['deleting, copies left', resolveBase(baseSecret({ finalizers: [FINALIZER], deletionTimestamp: 'x' }), SYSTEM_NS), 3, 'none'],
    ['deleting, no copies left', resolveBase(baseSecret({ finalizers: [FINALIZER], deletionTimestamp: 'x' }), SYSTEM_NS), 0, 'remove'],
    ['unlabelled, no copies left', resolveBase(baseSecret({ finalizers: [FINALIZER], labels: {} }), SYSTEM_NS), 0, 'remove'],
    ['unlabelled without our finalizer', resolveBase(baseSecret({ finalizers: ['other'], labels: {} }), SYSTEM_NS), 0, 'none'],
    ['gone', { kind: 'absent', why: 'missing' }, 0, 'none'],
    ['held keeps its finalizer', resolveBase({ ...baseSecret({ finalizers: [FINALIZER] }), data: {} }, SYSTEM_NS), 0, 'none'],
  ])('%s -> %s', (_label, state, copies, expected) => {
    expect(finalizerAction(state, copies)).toBe(expected);
  });

  it('adds and removes only ours, keeping the others in order', () => {
    expect(finalizersAfter(baseSecret({ finalizers: ['a', 'b'] }), 'add')).toEqual(['a', 'b', FINALIZER]);
    expect(finalizersAfter(baseSecret({ finalizers: ['a', FINALIZER, 'b'] }), 'remove')).toEqual(['a', 'b']);
    expect(finalizersAfter(baseSecret(), 'add')).toEqual([FINALIZER]);
  });
});
