// The decision and the answer every reference server in bench/ makes: the same pure function the
// webhook uses, with none of its plumbing (no review validation, summary, metrics or logging).
import { mutateRegistrySecret } from '../dist/registry/index.js';

/** The serialised AdmissionReview answer for a parsed review. */
export function answerReview(review) {
  const decision = mutateRegistrySecret(review.request);
  const response = { uid: review.request.uid, allowed: decision.allowed };
  if (decision.status) response.status = decision.status;
  if (decision.patch?.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  if (decision.warnings?.length) response.warnings = decision.warnings;
  return JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response });
}
