import { describe, expect, it } from 'vitest';
import { admissionReviewResponse, MAX_WARNING_LENGTH, parseTimeoutParameter, reviewAdmission, type AdmissionHandler } from '../../src/admission/index.js';

const review = (apiVersion: string, request: Record<string, unknown> = {}) => ({
  apiVersion,
  kind: 'AdmissionReview',
  request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation: 'CREATE', ...request },
});

describe('admission plumbing (knows nothing of registries)', () => {
  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])('echoes %s and the uid', async (apiVersion) => {
    const outcome = await reviewAdmission(review(apiVersion), () => ({ allowed: true }));
    expect(outcome.ok && outcome.response).toEqual({ apiVersion, kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true } });
  });

  it('sends patchType only together with a non-empty patch, base64-encoded', () => {
    expect(admissionReviewResponse('admission.k8s.io/v1', 'u', { allowed: true, patch: [] }).response).toEqual({ uid: 'u', allowed: true });
    const patched = admissionReviewResponse('admission.k8s.io/v1', 'u', { allowed: true, patch: [{ op: 'add', path: '/data/x', value: 'eA==' }] }).response;
    expect(patched.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(patched.patch as string, 'base64').toString())).toEqual([{ op: 'add', path: '/data/x', value: 'eA==' }]);
  });

  it('never attaches a patch to a denial', () => {
    const denied = admissionReviewResponse('admission.k8s.io/v1', 'u', { allowed: false, status: { code: 400, message: 'no' }, patch: [{ op: 'add', path: '/x', value: 1 }] }).response;
    expect(denied).toEqual({ uid: 'u', allowed: false, status: { code: 400, message: 'no' } });
  });

  it('keeps warnings under the length kubectl shows on one line', () => {
    const long = 'w'.repeat(300);
    const [warning] = admissionReviewResponse('admission.k8s.io/v1', 'u', { allowed: true, warnings: [long] }).response.warnings ?? [];
    expect(warning?.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
  });

  it.each<[string, AdmissionHandler]>([
    ['throws', () => { throw new Error('secret value leaked in a message'); }],
    ['rejects', () => Promise.reject(new Error('secret value leaked in a message'))],
  ])('answers a handler that %s with a well-formed 500 denial that quotes nothing', async (_name, handler) => {
    const outcome = await reviewAdmission(review('admission.k8s.io/v1'), handler);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response.response).toMatchObject({ uid: 'u-1', allowed: false, status: { code: 500 } });
    expect(JSON.stringify(outcome.response)).not.toContain('leaked');
  });

  it.each([
    [[], /JSON object/],
    [{}, /unsupported apiVersion/],
    [{ apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: { uid: 'x' } }, /unsupported apiVersion/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'Review', request: { uid: 'x' } }, /kind must be AdmissionReview/],
    [review('admission.k8s.io/v1', { uid: '' }), /no uid/],
    [review('admission.k8s.io/v1', { kind: 'Secret' }), /request.kind/],
    [review('admission.k8s.io/v1', { operation: 7 }), /operation/],
  ])('refuses a malformed review %# with a reason', async (body, reason) => {
    const outcome = await reviewAdmission(body, () => ({ allowed: true }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.message).toMatch(reason);
  });

  it('reads the timeout the API server appends, as Go prints durations', () => {
    expect(parseTimeoutParameter('10s')).toBe(10_000);
    expect(parseTimeoutParameter('1m0s')).toBe(60_000);
    expect(parseTimeoutParameter('500ms')).toBe(500);
    expect(parseTimeoutParameter('soon')).toBeUndefined();
    expect(parseTimeoutParameter(undefined)).toBeUndefined();
    expect(parseTimeoutParameter('0s')).toBeUndefined();
  });
});
