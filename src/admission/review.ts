import {
  type AdmissionApiVersion,
  type AdmissionRequest,
  type AdmissionReviewRequest,
  SUPPORTED_ADMISSION_VERSIONS,
} from './types.js';

export type ParsedReview =
  | { ok: true; review: AdmissionReviewRequest }
  | { ok: false; message: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks that a decoded body is an AdmissionReview we can answer: a supported apiVersion, a request
 * with a uid, a kind and an operation. Messages name the field at fault and never echo its value
 * (a body may carry a Secret).
 */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isRecord(body)) return { ok: false, message: 'body must be a JSON object (an AdmissionReview)' };
  const { apiVersion, kind, request } = body;
  if (typeof apiVersion !== 'string' || !SUPPORTED_ADMISSION_VERSIONS.includes(apiVersion as AdmissionApiVersion)) {
    return {
      ok: false,
      message: `unsupported apiVersion: expected one of ${SUPPORTED_ADMISSION_VERSIONS.join(', ')}`,
    };
  }
  if (kind !== 'AdmissionReview') return { ok: false, message: 'kind must be AdmissionReview' };
  if (!isRecord(request)) return { ok: false, message: 'AdmissionReview has no request' };
  if (typeof request.uid !== 'string' || request.uid === '') {
    return { ok: false, message: 'AdmissionReview request has no uid' };
  }
  if (request.uid.length > 256) return { ok: false, message: 'AdmissionReview request.uid is too long' };
  const gvk = request.kind;
  if (!isRecord(gvk) || typeof gvk.kind !== 'string' || typeof gvk.version !== 'string' || typeof gvk.group !== 'string') {
    return { ok: false, message: 'AdmissionReview request.kind must be {group, version, kind}' };
  }
  if (typeof request.operation !== 'string') {
    return { ok: false, message: 'AdmissionReview request has no operation' };
  }
  return {
    ok: true,
    review: { apiVersion: apiVersion as AdmissionApiVersion, kind: 'AdmissionReview', request: request as unknown as AdmissionRequest },
  };
}
