import { describe, expect, it } from 'vitest';
import { registryWarnings, type RegistryCredentials } from '../../src/registry/index.js';
import { GOOD_PLAIN } from './support.js';

const CANARY = 'CANARY-p4ss-7f3a';
const DOCKER_TYPE = 'kubernetes.io/dockerconfigjson';

function warn(credentials: Partial<RegistryCredentials>, secretType: unknown = DOCKER_TYPE, replaces = false): string[] {
  return registryWarnings({
    credentials: { ...GOOD_PLAIN, password: CANARY, ...credentials },
    secretType,
    replacesForeignDockerConfig: replaces,
  });
}

describe('registryWarnings', () => {
  it('has nothing to say about clean credentials in a dockerconfigjson Secret', () => {
    expect(warn({})).toEqual([]);
  });

  it.each(['username', 'password', 'serverAddress', 'registryAddress'] as const)(
    'names %s when its value ends with a newline (echo | base64)',
    (key) => {
      const warnings = warn({ [key]: `${CANARY}\n` });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`data[${key}]`);
      expect(warnings[0]).toMatch(/newline/);
    },
  );

  it.each([' x', 'x ', '\tx', 'x\u00a0', '\ufeffx'])('names the key when a value has whitespace at an end: %j', (value) => {
    const warnings = warn({ registryAddress: value });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('data[registryAddress]');
    expect(warnings[0]).toMatch(/whitespace/);
  });

  it('does not mind whitespace inside a value', () => {
    expect(warn({ password: 'pass word' })).toEqual([]);
  });

  it('warns once per affected key', () => {
    expect(warn({ username: 'a\n', password: ' b' })).toHaveLength(2);
  });

  it('warns about a colon in the username, not in the password', () => {
    const warnings = warn({ username: 'robot:ci' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('data[username]');
    expect(warnings[0]).toContain('":"');
    expect(warn({ password: 'a:b' })).toEqual([]);
  });

  it('says an Opaque Secret cannot be an image pull secret, naming its type', () => {
    const warnings = warn({}, 'Opaque');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"Opaque"');
    expect(warnings[0]).toContain(DOCKER_TYPE);
    expect(warnings[0]).toMatch(/image pull secret/);
  });

  it.each([undefined, 42, 'x'.repeat(200), 'bad\ntype'])('still warns, without quoting it, for type %j', (type) => {
    const warnings = registryWarnings({ credentials: GOOD_PLAIN, secretType: type, replacesForeignDockerConfig: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/image pull secret/);
    expect(warnings[0]).not.toContain('xxxxxxxx');
    expect(warnings[0]).not.toContain('\n');
  });

  it('says when a hand-written .dockerconfigjson is being replaced', () => {
    const warnings = warn({}, DOCKER_TYPE, true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('data[.dockerconfigjson]');
  });

  it('keeps every warning under 120 characters and free of values, all at once', () => {
    const credentials = {
      username: `${CANARY}:user\n`,
      password: ` ${CANARY} `,
      serverAddress: `${CANARY}.example\r\n`,
      registryAddress: `\t${CANARY}`,
    };
    const warnings = warn(credentials, 'kubernetes.io/service-account-token-but-much-longer-than-usual', true);
    expect(warnings).toHaveLength(7);
    for (const warning of warnings) {
      expect(warning.length).toBeLessThan(120);
      expect(warning).not.toContain(CANARY);
      expect(warning).not.toMatch(/[\r\n\t]/);
    }
  });
});
