/**
 * metav1.Status bodies exactly as kube-apiserver shapes them (key order included), and the
 * field.Error formatting used by 422 Invalid answers.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { continue?: string; resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** An error that is answered with a Status body and its HTTP code. */
export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message ?? status.reason ?? 'error');
  }

  get code(): number {
    return this.status.code ?? 500;
  }
}

export interface GroupResource {
  group: string;
  resource: string;
}

export interface GroupKind {
  group: string;
  kind: string;
}

/** `secrets` for the core group, `leases.coordination.k8s.io` otherwise (GroupResource.String()). */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) body.details = details;
  body.code = code;
  return new ApiError(body);
}

function resourceDetails(gr: GroupResource, name: string, causes?: StatusCause[]): StatusDetails {
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (gr.group) details.group = gr.group;
  details.kind = gr.resource;
  if (causes?.length) details.causes = causes;
  return details;
}

/** Default `reason` for an HTTP code, as apimachinery picks them. */
export function reasonForCode(code: number): string {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Expired';
    case 413: return 'RequestEntityTooLarge';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 500: return 'InternalError';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return 'Unknown';
  }
}

export const errors = {
  notFound(gr: GroupResource, name: string): ApiError {
    return failure(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, resourceDetails(gr, name));
  },
  alreadyExists(gr: GroupResource, name: string): ApiError {
    return failure(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, resourceDetails(gr, name));
  },
  conflict(gr: GroupResource, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
    return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${detail}`, resourceDetails(gr, name));
  },
  forbidden(gr: GroupResource, name: string, detail: string, causes?: StatusCause[]): ApiError {
    // apierrors.NewForbidden: without a resource (a non-resource path) the message starts with "forbidden:".
    if (!gr.resource) return failure(403, 'Forbidden', `forbidden: ${detail}`, {});
    const what = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
    return failure(403, 'Forbidden', `${what} is forbidden: ${detail}`, resourceDetails(gr, name, causes));
  },
  invalid(gk: GroupKind, name: string, fieldErrors: readonly FieldError[]): ApiError {
    const kind = gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
    const texts = dedupe(fieldErrors.map(formatFieldError));
    const aggregate = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
    const details: StatusDetails = {};
    if (name) details.name = name;
    if (gk.group) details.group = gk.group;
    details.kind = gk.kind;
    details.causes = fieldErrors.map((e) => ({ reason: fieldErrorReason(e), message: fieldErrorBody(e), field: e.field }));
    return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${aggregate}`, details);
  },
  /** What a failed JSON patch operation answers: generic text, empty details (recorded). */
  patchRejected(): ApiError {
    return failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  },
  badRequest(message: string): ApiError {
    return failure(400, 'BadRequest', message);
  },
  /** Body that cannot be decoded into the kind (e.g. a Lease MicroTime with milliseconds). */
  undecodable(kind: string, version: string, detail: string): ApiError {
    return failure(400, 'BadRequest', `${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`);
  },
  expired(message: string, continueToken?: string): ApiError {
    const error = failure(410, 'Expired', message);
    if (continueToken !== undefined) error.status.metadata = { continue: continueToken };
    return error;
  },
  tooLargeResourceVersion(requested: number, current: number): ApiError {
    return failure(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    });
  },
  pathNotFound(): ApiError {
    return failure(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  methodNotAllowed(): ApiError {
    return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  },
  unsupportedMediaType(contentType: string, accepted: readonly string[]): ApiError {
    return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, {
      causes: [{ reason: 'UnexpectedServerResponse', message: contentType }],
    });
  },
  internal(message: string): ApiError {
    return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  },
  unauthorized(): ApiError {
    return failure(401, 'Unauthorized', 'Unauthorized');
  },
  /** Any code, for injected failures. */
  fromCode(code: number, message?: string, reason?: string, details?: StatusDetails): ApiError {
    return failure(code, reason ?? reasonForCode(code), message ?? `injected failure (${code})`, details);
  },
};

/** Status of a successful DELETE that removed the object (recorded shape: no code, no message). */
export function deleteSuccess(gr: GroupResource, name: string, uid: string): StatusBody {
  const details: StatusDetails = { name };
  if (gr.group) details.group = gr.group;
  details.kind = gr.resource;
  details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export type FieldErrorType = 'Required' | 'Invalid' | 'Forbidden' | 'NotSupported' | 'Duplicate' | 'TooLong';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail?: string;
}

export const fieldErrors = {
  required: (field: string, detail?: string): FieldError => ({ type: 'Required', field, detail }),
  invalid: (field: string, value: unknown, detail?: string): FieldError => ({ type: 'Invalid', field, value, detail }),
  forbidden: (field: string, detail?: string): FieldError => ({ type: 'Forbidden', field, detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'Duplicate', field, value }),
  tooLong: (field: string, detail: string): FieldError => ({ type: 'TooLong', field, detail }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({
    type: 'NotSupported',
    field,
    value,
    detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
};

const typeText: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  Forbidden: 'Forbidden',
  NotSupported: 'Unsupported value',
  Duplicate: 'Duplicate value',
  TooLong: 'Too long',
};

function fieldErrorReason(e: FieldError): string {
  return {
    Required: 'FieldValueRequired',
    Invalid: 'FieldValueInvalid',
    Forbidden: 'FieldValueForbidden',
    NotSupported: 'FieldValueNotSupported',
    Duplicate: 'FieldValueDuplicate',
    TooLong: 'FieldValueTooLong',
  }[e.type];
}

/** Go's %q for strings, %v for simple values. */
function goValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** field.Error.ErrorBody(): the cause message. */
export function fieldErrorBody(e: FieldError): string {
  let text = typeText[e.type];
  if (e.type !== 'Required' && e.type !== 'Forbidden' && e.type !== 'TooLong') text += `: ${goValue(e.value)}`;
  if (e.detail) text += `: ${e.detail}`;
  return text;
}

export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}
