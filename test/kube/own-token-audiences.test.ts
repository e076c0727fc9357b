import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownTokenAudiences } from '../../src/kube/own-token-audiences.js';

const dir = mkdtempSync(join(tmpdir(), 'rcw-own-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A token as the kubelet mounts it (the signature is not looked at). */
function tokenFile(name: string, claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const file = join(dir, name);
  writeFileSync(file, `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.c2lnbmF0dXJl\n`);
  return file;
}

describe("the audiences of the pod's own ServiceAccount token", () => {
  it('are read from its aud claim, a list or a single string', () => {
    expect(ownTokenAudiences(tokenFile('list', { aud: ['https://kubernetes.default.svc', 'k3s'], sub: 'x' }))).toEqual(['https://kubernetes.default.svc', 'k3s']);
    expect(ownTokenAudiences(tokenFile('string', { aud: 'https://oidc.example' }))).toEqual(['https://oidc.example']);
  });

  it('are none when the file is missing or not a JWT', () => {
    expect(ownTokenAudiences(join(dir, 'absent'))).toEqual([]);
    const garbage = join(dir, 'garbage');
    writeFileSync(garbage, 'not a token');
    expect(ownTokenAudiences(garbage)).toEqual([]);
    expect(ownTokenAudiences(tokenFile('no-aud', { sub: 'x' }))).toEqual([]);
  });
});
