import { describe, expect, it } from 'vitest';
import { EXIT_ALLOWED, EXIT_BAD_INPUT, EXIT_DENIED, runReview } from '../../src/cli/review.js';
import { recordedAdmissionReviews } from '../support/fixtures.js';

const text = { showSecrets: false, output: 'text' as const };
const json = { showSecrets: false, output: 'json' as const };
const PASSWORD_B64 = Buffer.from('s3cr3t-pass').toString('base64');
const GENERATED_B64_PREFIX = Buffer.from('{"auths":{"registry.example.com:5000"').toString('base64').slice(0, 24);

interface Report {
  decision: string;
  status?: { code: number; message: string };
  warnings: string[];
  patch: { op: string; path: string; value?: unknown }[];
  object: { data?: Record<string, string> } | null;
}

describe('registry-config-webhook review', () => {
  describe.each(recordedAdmissionReviews())('on the recording $file', ({ raw, review }) => {
    it('prints the decision, exits 0 when allowed and 1 when denied, and masks every value', async () => {
      const result = await runReview(raw, json);
      const report = JSON.parse(result.stdout) as Report;
      const object = review.request.object;
      const isLabelledSecret = object?.metadata.labels?.['serverless.kyma-project.io/remote-registry'] === 'config' && review.request.operation !== 'DELETE';
      const lacksPassword = isLabelledSecret && object?.data?.password === undefined;
      expect(result.exitCode).toBe(lacksPassword ? EXIT_DENIED : EXIT_ALLOWED);
      expect(report.decision).toBe(lacksPassword ? 'denied' : 'allowed');
      if (isLabelledSecret && !lacksPassword) {
        expect(report.patch.map((op) => op.path)).toEqual(['/data/.dockerconfigjson']);
        expect(String(report.patch[0]?.value)).toMatch(/^<masked: \d+ bytes>$/);
        expect(report.object?.data?.['.dockerconfigjson']).toMatch(/^<masked/);
      } else {
        expect(report.patch).toEqual([]);
      }
      expect(result.stdout).not.toContain(PASSWORD_B64);
      expect(result.stdout).not.toContain('s3cr3t-pass');
      expect(result.stdout).not.toContain(GENERATED_B64_PREFIX);
    });
  });

  it('says why a Secret is rejected, in words', async () => {
    const manifest = [
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: serverless-registry-config',
      '  namespace: team-a',
      '  labels:',
      '    serverless.kyma-project.io/remote-registry: config',
      'type: kubernetes.io/dockerconfigjson',
      'stringData:',
      '  username: admin',
      '  serverAddress: registry.example.com:5000',
    ].join('\n');
    const result = await runReview(manifest, text);
    expect(result.exitCode).toBe(EXIT_DENIED);
    expect(result.stdout).toContain('DENIED (400) registry config Secret team-a/serverless-registry-config: missing password, registryAddress');
  });

  it('wraps a plain Secret manifest, folds stringData like the API server, and shows values only with --show-secrets', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'serverless-registry-config', labels: { 'serverless.kyma-project.io/remote-registry': 'config' } },
      type: 'kubernetes.io/dockerconfigjson',
      stringData: { username: 'admin', password: 's3cr3t-pass', serverAddress: 'registry.example.com:5000', registryAddress: 'registry.example.com:5000/kyma' },
    });
    const masked = await runReview(manifest, text);
    expect(masked.exitCode).toBe(EXIT_ALLOWED);
    expect(masked.stdout).toContain('Decision: ALLOWED');
    expect(masked.stdout).not.toContain('s3cr3t-pass');
    expect(masked.stdout).not.toContain(PASSWORD_B64);

    const shown = JSON.parse((await runReview(manifest, { showSecrets: true, output: 'json' })).stdout) as Report;
    const dockerconfig = Buffer.from(shown.object?.data?.['.dockerconfigjson'] as string, 'base64').toString();
    expect(JSON.parse(dockerconfig)).toEqual({
      auths: { 'registry.example.com:5000': { username: 'admin', password: 's3cr3t-pass', auth: 'YWRtaW46czNjcjN0LXBhc3M=' } },
    });
  });

  it.each([
    ['empty input', ''],
    ['not JSON or YAML', '{"a": [1, 2'],
    ['a ConfigMap', 'kind: ConfigMap\nmetadata: {name: x}'],
    ['two documents', 'kind: Secret\n---\nkind: Secret'],
    ['a review without uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })],
    ['a scalar', '42'],
  ])('exits 2 with a message on %s, never quoting the input', async (_name, input) => {
    const result = await runReview(`${input}`, text);
    expect(result.exitCode).toBe(EXIT_BAD_INPUT);
    expect(result.stderr).toMatch(/^review: /);
    expect(result.stdout).toBe('');
  });
});
