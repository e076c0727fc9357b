import type {
  AdmissionApiVersion,
  AdmissionDecision,
  AdmissionResponse,
  AdmissionReviewResponse,
} from './types.js';

/** The API server rejects longer warnings' tails anyway; kubectl shows each on one line. */
export const MAX_WARNING_LENGTH = 120;

/**
 * Turns a decision into the AdmissionReview the API server expects: same apiVersion as the
 * request (a v1beta1 answer to v1 fails conversion), uid echoed, and `patchType` only together
 * with a non-empty patch (a patch without patchType is an invalid response).
 */
export function admissionReviewResponse(
  apiVersion: AdmissionApiVersion,
  uid: string,
  decision: AdmissionDecision,
): AdmissionReviewResponse {
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  if (decision.status) response.status = { ...decision.status };
  if (decision.allowed && decision.patch && decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  if (decision.warnings && decision.warnings.length > 0) {
    response.warnings = decision.warnings.map((w) => (w.length > MAX_WARNING_LENGTH ? `${w.slice(0, MAX_WARNING_LENGTH - 1)}…` : w));
  }
  return { apiVersion, kind: 'AdmissionReview', response };
}
