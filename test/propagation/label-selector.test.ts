import { describe, expect, it } from 'vitest';
import { DEFAULT_PROPAGATION_EXCLUDE, parseExcludeSelector, PropagationExcludeError } from '../../src/propagation/exclude.js';
import { LabelSelectorError, parseLabelSelector } from '../../src/propagation/label-selector.js';

const labels = { env: 'prod', tier: 'web', 'example.com/team': 'a', empty: '' };

describe('parseLabelSelector matching', () => {
  it.each([
    ['env=prod', true],
    ['env==prod', true],
    ['env=dev', false],
    ['env!=dev', true],
    ['env!=prod', false],
    ['missing!=x', true], // != matches an absent key, as in Kubernetes
    ['env', true],
    ['missing', false],
    ['!missing', true],
    ['!env', false],
    ['env in (dev,prod)', true],
    ['env in (dev, qa)', false],
    ['missing in (a)', false],
    ['env notin (dev,qa)', true],
    ['env notin (prod)', false],
    ['missing notin (a)', true], // notin matches an absent key
    ['example.com/team=a', true],
    ['empty=', true],
    ['empty', true],
    ['env=prod,tier=web', true],
    ['env=prod, tier=db', false],
    ['  env = prod ,  tier in ( web , db )  ', true],
    ['env in(prod)', true],
    ['', true], // the empty selector matches everything
  ])('%s -> %s', (text, expected) => {
    expect(parseLabelSelector(text).matches(labels)).toBe(expected);
  });

  it('treats undefined labels as none', () => {
    expect(parseLabelSelector('!a').matches(undefined)).toBe(true);
    expect(parseLabelSelector('a').matches(undefined)).toBe(false);
  });

  it('does not consult the prototype for a key named like an Object property', () => {
    expect(parseLabelSelector('constructor').matches({})).toBe(false);
    expect(parseLabelSelector('toString!=x').matches({})).toBe(true);
  });

  it('parses requirements into a structure', () => {
    expect(parseLabelSelector('a in (x,y),!b,c!=d').requirements).toEqual([
      { key: 'a', operator: 'in', values: ['x', 'y'] },
      { key: 'b', operator: 'not-exists', values: [] },
      { key: 'c', operator: 'not-equals', values: ['d'] },
    ]);
  });
});

describe('parseLabelSelector errors', () => {
  it.each([
    ['env=prod,', 'trailing'],
    [',env', 'expected a label key'],
    ['env in prod', 'expected "("'],
    ['env in (a', 'expected "," or ")"'],
    ['env in ()', 'expected a value'],
    ['env in (a,)', 'expected a value'],
    ['!env=prod', 'expected ","'],
    ['env prod', 'expected an operator'],
    ['-bad=x', 'label key "-bad"'],
    ['Bad_Prefix/x=y', 'prefix must be a DNS subdomain'],
    [`k=${'v'.repeat(64)}`, 'label value'],
    ['k=a b', 'expected ","'],
    ['=x', 'expected a label key'],
  ])('%s', (text, fragment) => {
    let error: unknown;
    try {
      parseLabelSelector(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LabelSelectorError);
    expect((error as Error).message).toContain(fragment);
  });
});

describe('parseExcludeSelector (PROPAGATION_EXCLUDE)', () => {
  it('excludes the Kubernetes namespaces by default', () => {
    const selector = parseExcludeSelector(DEFAULT_PROPAGATION_EXCLUDE);
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease']) {
      expect(selector.matches({ 'kubernetes.io/metadata.name': ns })).toBe(true);
    }
    expect(selector.matches({ 'kubernetes.io/metadata.name': 'default' })).toBe(false);
  });

  it('names PROPAGATION_EXCLUDE in a parse error', () => {
    expect(() => parseExcludeSelector('a in (b')).toThrow(PropagationExcludeError);
    expect(() => parseExcludeSelector('a in (b')).toThrow(/^invalid PROPAGATION_EXCLUDE "a in \(b": expected/);
  });

  it('refuses a blank selector, which would exclude every namespace', () => {
    expect(() => parseExcludeSelector('  ')).toThrow(/PROPAGATION_EXCLUDE.*every namespace/);
  });
});
