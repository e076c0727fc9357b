/** `registry-config-webhook review FILE --check-credentials`: the server's login check, from a laptop. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_ALLOWED, EXIT_CREDENTIALS, EXIT_DENIED, runReview } from '../../src/cli/review.js';
import type { CredentialStatus } from '../../src/credentials/outcome.js';
import { createTestPki, HAVE_DOCKER_REGISTRY, startDockerRegistry, type RunningRegistry, type TestPki } from '../support/registry/docker-registry.js';

function manifest(namespace: string, password: string, serverAddress: string): string {
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: serverless-registry-config',
    `  namespace: ${namespace}`,
    '  labels:',
    '    serverless.kyma-project.io/remote-registry: config',
    'stringData:',
    '  username: robot',
    `  password: ${password}`,
    `  serverAddress: ${serverAddress}`,
    `  registryAddress: ${serverAddress}/team-a`,
  ].join('\n');
}

describe.skipIf(!HAVE_DOCKER_REGISTRY)('review --check-credentials against docker-registry', () => {
  let pki: TestPki;
  let registry: RunningRegistry;
  beforeAll(async () => {
    pki = await createTestPki();
    registry = await startDockerRegistry(pki, { kind: 'htpasswd', users: { robot: 'laptop-Pa55' } });
  }, 30_000);
  afterAll(async () => registry?.stop());
  const check = () => ({ systemNamespace: 'kyma-system', allow: ['127.0.0.1/32'], ca: pki.ca.cert });

  it('prints OK and exits 0 for good credentials', async () => {
    const result = await runReview(manifest('team-a', 'laptop-Pa55', registry.address), { showSecrets: false, output: 'text', checkCredentials: check() });
    expect(result.exitCode).toBe(EXIT_ALLOWED);
    expect(result.stdout).toMatch(/^Credentials: OK: login accepted \(Basic\)/m);
  });

  it('prints REJECTED and exits 3 for a wrong password, never printing it', async () => {
    const result = await runReview(manifest('team-a', 'not-the-Pa55', registry.address), { showSecrets: false, output: 'json', checkCredentials: check() });
    expect(result.exitCode).toBe(EXIT_CREDENTIALS);
    const report = JSON.parse(result.stdout) as { credentials: CredentialStatus };
    expect(report.credentials).toMatchObject({ state: 'rejected', pushGranted: null });
    expect(result.stdout).not.toContain('not-the-Pa55');
  });

  it('applies the same address rules as the server: loopback is refused without --allow', async () => {
    const result = await runReview(manifest('team-a', 'laptop-Pa55', registry.address), { showSecrets: false, output: 'text', checkCredentials: { ...check(), allow: [] } });
    expect(result.exitCode).toBe(EXIT_ALLOWED);
    expect(result.stdout).toMatch(/^Credentials: SKIPPED: refused: 127\.0\.0\.1 \(loopback\)/m);
  });

  it('checks nothing for a Secret the webhook denies', async () => {
    const denied = manifest('team-a', 'x', registry.address).replace('  password: x\n', '');
    const result = await runReview(denied, { showSecrets: false, output: 'text', checkCredentials: check() });
    expect(result.exitCode).toBe(EXIT_DENIED);
    expect(result.stdout).not.toContain('Credentials:');
  });
});
