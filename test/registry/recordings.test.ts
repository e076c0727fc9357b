/**
 * Replays every AdmissionReview a real kube-apiserver sent (test/fixtures/admission-reviews) through
 * the decision function. Expectations come from the fixtures' README, written out literally here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../../src/admission/types.js';
import { mutateRegistrySecret } from '../../src/registry/index.js';
import { applyPatch, b64, README_DOCKER_CONFIG_JSON, storedDockerConfigText, unb64 } from './support.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/admission-reviews/', import.meta.url));

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(FIXTURES + file, 'utf8')) as unknown;
}

interface Review {
  apiVersion: string;
  request: AdmissionRequest & { object: Record<string, unknown> | null };
}

/** Every recorded request body (the `*.response.v1.json` answer is not a request). */
const recordings = readdirSync(FIXTURES)
  .filter((file) => /\.v1(beta1)?\.json$/.test(file))
  .map((file) => ({ file, review: readJson(file) as Partial<Review> }))
  .filter((r): r is { file: string; review: Review } => r.review.request !== undefined);

const OPAQUE_WARNING = /Secret type "Opaque" is not kubernetes\.io\/dockerconfigjson.*image pull secret/;
const NEW_PASS_DOCKER_CONFIG_JSON =
  `{"auths":{"registry.example.com:5000":{"username":"admin","password":"n3w-pass","auth":"${b64('admin:n3w-pass')}"}}}`;

type Expectation =
  | { kind: 'untouched' }
  | { kind: 'denied'; message: string }
  | { kind: 'patched'; dockerConfigJson: string; typeWarning: boolean };

const patchedTyped = { kind: 'patched', dockerConfigJson: README_DOCKER_CONFIG_JSON, typeWarning: false } as const;
const patchedOpaque = { kind: 'patched', dockerConfigJson: README_DOCKER_CONFIG_JSON, typeWarning: true } as const;

const EXPECTED: Record<string, Expectation> = {
  'create-dockerconfigjson-data.v1.json': patchedTyped,
  'create-dockerconfigjson-data.v1beta1.json': patchedTyped,
  'patching-webhook-create-dockerconfigjson-data.v1.json': patchedTyped,
  'create-stringdata.v1.json': patchedOpaque,
  'create-stringdata.v1beta1.json': patchedOpaque,
  'create-stringdata-both-versions-offered.v1.json': patchedOpaque,
  'create-dryrun.v1.json': patchedOpaque,
  'objectselector-create-labeled.v1.json': patchedOpaque,
  'update-patch-stringdata-password.v1.json': {
    kind: 'patched',
    dockerConfigJson: NEW_PASS_DOCKER_CONFIG_JSON,
    typeWarning: true,
  },
  'create-missing-password.v1.json': {
    kind: 'denied',
    message: 'registry config Secret default/serverless-registry-config-nopass: missing password',
  },
  'delete.v1.json': { kind: 'untouched' },
  'create-unrelated-no-label.v1.json': { kind: 'untouched' },
  // Not labelled: kubectl's own docker-registry Secret is none of the webhook's business.
  'create-kubectl-docker-registry.v1.json': { kind: 'untouched' },
};

describe('recorded kube-apiserver requests', () => {
  it('every recording has an expectation and every expectation a recording', () => {
    expect(recordings.map((r) => r.file).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(recordings)('$file', ({ file, review }) => {
    const expected = EXPECTED[file];
    if (expected === undefined) throw new Error(`no expectation for ${file}`);
    const request = review.request;

    if (expected.kind === 'untouched') {
      it('is allowed without patch or warnings', () => {
        expect(mutateRegistrySecret(request)).toEqual({ allowed: true });
      });
      return;
    }

    if (expected.kind === 'denied') {
      it('is denied with 400 naming the Secret and the bad key', () => {
        expect(mutateRegistrySecret(request)).toEqual({
          allowed: false,
          status: { code: 400, reason: 'BadRequest', message: expected.message },
        });
      });
      return;
    }

    const object = request.object;
    if (object === null) throw new Error(`${file} has no object`);

    it('is allowed with one patch that adds .dockerconfigjson and leaves the rest alone', () => {
      const decision = mutateRegistrySecret(request);
      expect(decision.allowed).toBe(true);
      expect(decision.status).toBeUndefined();
      expect(decision.patch).toEqual([
        { op: 'add', path: '/data/.dockerconfigjson', value: expect.any(String) as unknown },
      ]);
      const patched = applyPatch(object, decision.patch ?? []);
      const { ['.dockerconfigjson']: added, ...otherData } = patched['data'] as Record<string, string>;
      expect(added).toBeDefined();
      expect(otherData).toEqual(object['data']);
      expect({ ...patched, data: otherData }).toEqual(object);
    });

    it('yields exactly the docker config JSON kubectl would write for the decoded keys', () => {
      const patched = applyPatch(object, mutateRegistrySecret(request).patch ?? []);
      const text = storedDockerConfigText(patched);
      expect(text).toBe(expected.dockerConfigJson);
      const parsed = JSON.parse(text) as { auths: Record<string, { auth: string; username: string; password: string }> };
      const entry = parsed.auths['registry.example.com:5000'];
      expect(entry && unb64(entry.auth)).toBe(`${entry?.username}:${entry?.password}`);
    });

    it(expected.typeWarning ? 'warns that an Opaque Secret is no image pull secret' : 'has no warnings', () => {
      const { warnings } = mutateRegistrySecret(request);
      if (expected.typeWarning) {
        expect(warnings).toHaveLength(1);
        expect(warnings?.[0]).toMatch(OPAQUE_WARNING);
      } else {
        expect(warnings).toBeUndefined();
      }
    });

    it('sends no patch and no warnings when the patched Secret comes back as an UPDATE', () => {
      const patched = applyPatch(object, mutateRegistrySecret(request).patch ?? []);
      const again = mutateRegistrySecret({ ...request, operation: 'UPDATE', object: patched, oldObject: patched });
      expect(again).toEqual({ allowed: true });
    });

    it('gives a dry run the same answer', () => {
      const flipped = { ...request, dryRun: !request.dryRun };
      expect(mutateRegistrySecret(flipped)).toEqual(mutateRegistrySecret(request));
    });
  });
});

describe('the end-to-end run against a patching webhook', () => {
  const request = (readJson('patching-webhook-create-dockerconfigjson-data.v1.json') as Review).request;
  const response = (readJson('patching-webhook-create-dockerconfigjson-data.response.v1.json') as {
    response: { uid: string; patch: string };
  }).response;
  const decodedFixture = readJson('patching-webhook-create-dockerconfigjson-data.response-patch-decoded.json') as Array<{
    op: string;
    path: string;
    value: string;
    value_base64_decoded: unknown;
  }>;

  it('answers the same request', () => {
    expect(response.uid).toBe(request.uid);
  });

  it('produces the very patch the API server accepted', () => {
    const accepted = JSON.parse(unb64(response.patch)) as unknown;
    expect(mutateRegistrySecret(request).patch).toEqual(accepted);
  });

  it('stores the JSON the API server stored', () => {
    const [accepted] = decodedFixture;
    const patched = applyPatch(request.object, mutateRegistrySecret(request).patch ?? []);
    expect(JSON.parse(storedDockerConfigText(patched))).toEqual(accepted?.value_base64_decoded);
    expect((patched?.['data'] as Record<string, string>)['.dockerconfigjson']).toBe(accepted?.value);
  });
});

describe('the Secret kubectl create secret docker-registry wrote', () => {
  const request = (readJson('create-kubectl-docker-registry.v1.json') as Review).request;
  const object = request.object as { metadata: Record<string, unknown>; data: Record<string, string> };
  const kubectlValue = object.data['.dockerconfigjson'];

  it('holds the README value, so the recording and the README agree', () => {
    expect(kubectlValue && unb64(kubectlValue)).toBe(README_DOCKER_CONFIG_JSON);
  });

  it('is left byte-for-byte alone once labelled and given the four keys', () => {
    const labelled = {
      ...object,
      metadata: { ...object.metadata, labels: { 'serverless.kyma-project.io/remote-registry': 'config' } },
      data: {
        ...object.data,
        username: b64('admin'),
        password: b64('s3cr3t-pass'),
        serverAddress: b64('registry.example.com:5000'),
        registryAddress: b64('registry.example.com:5000/kyma'),
      },
    };
    expect(mutateRegistrySecret({ ...request, object: labelled })).toEqual({ allowed: true });
  });
});
