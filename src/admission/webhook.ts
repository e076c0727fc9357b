import { parseAdmissionReview } from './review.js';
import { admissionReviewResponse } from './response.js';
import type { AdmissionDecision, AdmissionHandler, AdmissionRequest, AdmissionReviewResponse } from './types.js';

/** What the transport needs to answer and to log one line; carries no object content. */
export interface ReviewSummary {
  uid: string;
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string | undefined;
  operation: string;
  dryRun: boolean;
  allowed: boolean;
  /** The status code in the response (200 when allowed without status). */
  code: number;
  patched: boolean;
  warnings: number;
}

export type ReviewOutcome =
  | { ok: true; response: AdmissionReviewResponse; summary: ReviewSummary }
  | { ok: false; statusCode: 400; message: string };

/**
 * Runs one AdmissionReview body through a handler. A malformed review is a 400 (nothing to echo
 * the uid into); a handler that throws (or rejects) is a bug, answered as a well-formed denial
 * with code 500 so the API server gets a clear message instead of a dropped connection.
 */
export function reviewAdmission(body: unknown, handler: AdmissionHandler): ReviewOutcome | Promise<ReviewOutcome> {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return { ok: false, statusCode: 400, message: parsed.message };
  const { apiVersion, request } = parsed.review;
  let decision: AdmissionDecision | Promise<AdmissionDecision>;
  try {
    decision = handler(request);
  } catch {
    decision = INTERNAL_ERROR;
  }
  // Synchronous handlers (ours) are answered synchronously: no promise on the hot path.
  if (isPromise(decision)) return decision.then((d) => answer(apiVersion, request, d), () => answer(apiVersion, request, INTERNAL_ERROR));
  return answer(apiVersion, request, decision);
}

const INTERNAL_ERROR: AdmissionDecision = {
  allowed: false,
  status: { code: 500, reason: 'InternalError', message: 'internal error in the admission webhook; see its logs' },
};

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

function answer(apiVersion: AdmissionReviewResponse['apiVersion'], request: AdmissionRequest, decision: AdmissionDecision): ReviewOutcome {
  const response = admissionReviewResponse(apiVersion, request.uid, decision);
  return {
    ok: true,
    response,
    summary: {
      uid: request.uid,
      apiVersion,
      kind: request.kind.kind,
      namespace: typeof request.namespace === 'string' ? request.namespace : undefined,
      name: requestName(request),
      operation: request.operation,
      dryRun: request.dryRun === true,
      allowed: response.response.allowed,
      code: response.response.status?.code ?? 200,
      patched: response.response.patch !== undefined,
      warnings: response.response.warnings?.length ?? 0,
    },
  };
}

function requestName(request: AdmissionRequest): string | undefined {
  if (typeof request.name === 'string' && request.name !== '') return request.name;
  const object = request.object;
  if (typeof object === 'object' && object !== null) {
    const metadata = (object as { metadata?: { name?: unknown; generateName?: unknown } }).metadata;
    if (typeof metadata?.name === 'string') return metadata.name;
    if (typeof metadata?.generateName === 'string') return `${metadata.generateName}<generated>`;
  }
  return undefined;
}
