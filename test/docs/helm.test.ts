/**
 * `npm run helm -- <args>`, the documented way to get Helm 3 in this repository: the docs' helm commands
 * run as written, and their install command renders what it would install.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { unsupportedPlatform } from '../../scripts/helm.mjs';
import { only, parseManifests } from '../chart/helm.js';
import { ROOT, documentationFiles, testedBlocks } from './markdown.js';

const exec = promisify(execFile);
const tested = documentationFiles().flatMap((file) => testedBlocks(file));
const helmBlocks = tested.filter((b) => b.name === 'helm');
const installBlocks = tested.filter((b) => b.name === 'helm-install');

/** Shell lines of a block: continuations joined, comments and blank lines dropped. */
const commandLines = (code: string): string[] =>
  code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

async function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

const bundledHelmRunsHere = unsupportedPlatform() === undefined;
if (!bundledHelmRunsHere) console.log(`skipping npm run helm: ${unsupportedPlatform()}`);

describe('the documented helm commands', () => {
  it('are in the docs: the helm block, and the install command in the README and in operations.md', () => {
    expect(helmBlocks.map((b) => b.file)).toEqual(['docs/operations.md']);
    expect(installBlocks.map((b) => b.file).sort()).toEqual(['README.md', 'docs/operations.md']);
    expect(helmBlocks.flatMap((b) => commandLines(b.code)).every((line) => /^npm run (-s )?helm -- /.test(line))).toBe(true);
  });

  describe.skipIf(!bundledHelmRunsHere)('run as written', () => {
    const lines = helmBlocks.flatMap((b) => commandLines(b.code));

    it.each(lines)('%s', async (line) => {
      const result = await sh(line);
      expect(result.code, result.stderr).toBe(0);
      if (/ version\b/.test(line)) expect(result.stdout).toMatch(/^v3\.\d+\.\d+/m);
      if (/ lint\b/.test(line)) expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      if (/ template\b/.test(line)) {
        // -s keeps npm's own lines out, so the output is the manifests and nothing else.
        const objects = parseManifests(result.stdout);
        expect(only(objects, 'MutatingWebhookConfiguration').webhooks[0].clientConfig.service.path).toBe('/defaulting/registry-config-secrets');
      }
    });

    it.each(installBlocks.map((b) => [`${b.file}:${b.line}`, b.code] as const))(
      'the install command in %s installs the image it names (rendered with helm template)',
      async (_where, code) => {
        const [install, ...rest] = commandLines(code);
        expect(rest).toEqual([]);
        expect(install).toMatch(/^npm run helm -- install registry-config-webhook charts\/registry-config-webhook /);
        // `helm install` needs a cluster; `helm template` takes the same arguments and renders the same objects.
        const template = (install ?? '')
          .replace('npm run helm -- install', 'npm run -s helm -- template')
          .replaceAll('<your-registry>', 'registry.example')
          .replaceAll('<version>', '1.2.3');
        const result = await sh(template);
        expect(result.code, result.stderr).toBe(0);
        const objects = parseManifests(result.stdout);
        const deployment = only(objects, 'Deployment');
        expect(deployment.metadata.namespace).toBe('kyma-system');
        expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example/registry-config-webhook:1.2.3');
      },
    );
  });

  it('says where to get Helm where the bundled binary cannot run, and stays out of the way of HELM_BIN', () => {
    expect(unsupportedPlatform('linux', 'x64', {})).toBeUndefined();
    expect(unsupportedPlatform('darwin', 'arm64', {})).toMatch(/Linux x86-64 binary and this is darwin-arm64: install Helm 3 \(https:\/\/helm\.sh\/docs\/intro\/install\/\)/);
    expect(unsupportedPlatform('darwin', 'arm64', { HELM_BIN: '/opt/homebrew/bin/helm' })).toBeUndefined();
  });
});
