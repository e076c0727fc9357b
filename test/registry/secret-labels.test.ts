import { describe, expect, it } from 'vitest';
import {
  hasLabel,
  isClusterRegistryConfigSecret,
  isRegistryConfigSecret,
  isUserManagedSecret,
  labelsOf,
  labelValue,
  nameOf,
  namespaceOf,
} from '../../src/registry/index.js';

const withLabels = (labels: unknown, namespace = 'kyma-system') => ({ metadata: { name: 's', namespace, labels } });

describe('isRegistryConfigSecret', () => {
  it('matches label serverless.kyma-project.io/remote-registry: config', () => {
    expect(isRegistryConfigSecret(withLabels({ 'serverless.kyma-project.io/remote-registry': 'config' }))).toBe(true);
  });

  it.each([
    ['another value', withLabels({ 'serverless.kyma-project.io/remote-registry': 'CONFIG' })],
    ['a similar key', withLabels({ 'serverless.kyma-project.io/remote-registry ': 'config' })],
    ['labels an array', withLabels([['serverless.kyma-project.io/remote-registry', 'config']])],
    ['labels a string', withLabels('serverless.kyma-project.io/remote-registry=config')],
    ['metadata null', { metadata: null }],
    ['no metadata', {}],
    ['null', null],
    ['a string', 'Secret'],
    ['the label inherited, not own', withLabels(Object.create({ 'serverless.kyma-project.io/remote-registry': 'config' }))],
  ])('does not match %s', (_label, obj) => {
    expect(isRegistryConfigSecret(obj)).toBe(false);
  });
});

describe('isClusterRegistryConfigSecret', () => {
  const labels = { 'serverless.kyma-project.io/remote-registry': 'config', 'serverless.kyma-project.io/config': 'credentials' };

  it('needs both labels and the system namespace', () => {
    expect(isClusterRegistryConfigSecret(withLabels(labels), 'kyma-system')).toBe(true);
    expect(isClusterRegistryConfigSecret(withLabels(labels, 'default'), 'kyma-system')).toBe(false);
    expect(
      isClusterRegistryConfigSecret(withLabels({ 'serverless.kyma-project.io/remote-registry': 'config' }), 'kyma-system'),
    ).toBe(false);
    expect(isClusterRegistryConfigSecret(withLabels({ 'serverless.kyma-project.io/config': 'credentials' }), 'kyma-system')).toBe(
      false,
    );
  });
});

describe('label helpers', () => {
  it('isUserManagedSecret reads managed-by: user', () => {
    expect(isUserManagedSecret(withLabels({ 'serverless.kyma-project.io/managed-by': 'user' }))).toBe(true);
    expect(isUserManagedSecret(withLabels({ 'serverless.kyma-project.io/managed-by': 'serverless' }))).toBe(false);
  });

  it('labelsOf keeps string labels only, as a fresh object', () => {
    const raw = { a: '1', b: 2, c: null, d: '' };
    const obj = withLabels(raw);
    const labels = labelsOf(obj);
    expect(labels).toEqual({ a: '1', d: '' });
    labels['a'] = 'changed';
    expect(raw.a).toBe('1');
    expect(labelsOf(null)).toEqual({});
  });

  it('labelsOf keeps a label named __proto__ as a plain entry', () => {
    const obj = withLabels(JSON.parse('{"__proto__":"x"}'));
    const labels = labelsOf(obj);
    expect(Object.keys(labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it('labelValue and hasLabel', () => {
    const obj = withLabels({ a: '1', b: 2 });
    expect(labelValue(obj, 'a')).toBe('1');
    expect(labelValue(obj, 'b')).toBeUndefined();
    expect(hasLabel(obj, 'a', '1')).toBe(true);
    expect(hasLabel(obj, 'a', '2')).toBe(false);
  });

  it('nameOf and namespaceOf ignore empty and non-string values', () => {
    expect(nameOf({ metadata: { name: 'n', namespace: 'ns' } })).toBe('n');
    expect(namespaceOf({ metadata: { name: 'n', namespace: 'ns' } })).toBe('ns');
    expect(nameOf({ metadata: { name: '' } })).toBeUndefined();
    expect(namespaceOf({ metadata: { namespace: 3 } })).toBeUndefined();
    expect(nameOf(undefined)).toBeUndefined();
  });
});
