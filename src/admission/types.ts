/**
 * admission.k8s.io AdmissionReview shapes (v1 and v1beta1 share them; only apiVersion differs).
 * Only what a webhook reads or writes is typed; everything else passes through untouched.
 */

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
export const SUPPORTED_ADMISSION_VERSIONS = [ADMISSION_V1, ADMISSION_V1BETA1] as const;
export type AdmissionApiVersion = (typeof SUPPORTED_ADMISSION_VERSIONS)[number];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation | string;
  userInfo?: { username?: string; uid?: string; groups?: string[] };
  /** The object as it would be stored; null on DELETE. */
  object?: unknown;
  /** The stored object; null on CREATE. */
  oldObject?: unknown;
  dryRun?: boolean;
  options?: unknown;
}

export interface AdmissionReviewRequest {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  request: AdmissionRequest;
}

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

export interface AdmissionStatus {
  code: number;
  message: string;
  reason?: string;
}

/** What a webhook decides; the admission layer turns it into an AdmissionResponse. */
export interface AdmissionDecision {
  allowed: boolean;
  /** For a denial: the HTTP-like code and a message naming what is wrong (never a value). */
  status?: AdmissionStatus;
  /** JSON patch to apply; omitted or empty means no mutation. */
  patch?: JsonPatchOperation[];
  /** Shown by kubectl as `Warning: ...`; each under 120 characters, never a Secret value. */
  warnings?: string[];
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/**
 * A webhook's decision function. Ours are pure and synchronous; a promise is allowed so the
 * transport's deadline handling works for any handler.
 */
export type AdmissionHandler = (request: AdmissionRequest) => AdmissionDecision | Promise<AdmissionDecision>;
