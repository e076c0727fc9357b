/** The request log tests assert API-call counts on, and the fault-injection rules matched against it. */
import type { IncomingHttpHeaders } from 'node:http';
import type { StatusDetails } from './status.js';
import type { Verb } from './types.js';

/** One request as received. */
export interface RecordedRequest {
  readonly seq: number;
  /** When it arrived (ms since the epoch, the server's clock). */
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  /** Decoded query parameters (last value wins). */
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, the raw text if it is not JSON, undefined when empty. */
  readonly body: unknown;
  readonly verb: Verb | undefined;
  readonly group: string | undefined;
  readonly version: string | undefined;
  readonly resource: string | undefined;
  readonly subresource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** Authenticated user name, if the bearer token is known. */
  readonly user: string | undefined;
  /** HTTP status sent (200 for a watch once streaming; 0 for a dropped connection). */
  status: number | undefined;
}

export interface RequestFilter {
  method?: string;
  verb?: Verb;
  /** Resource plural, e.g. 'secrets'. */
  resource?: string;
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Exact path or a pattern. */
  path?: string | RegExp;
  /** Arbitrary predicate. */
  where?: (request: RecordedRequest) => boolean;
}

export interface FailureRule extends RequestFilter {
  /** HTTP code of the injected Status (default 500). */
  status?: number;
  reason?: string;
  message?: string;
  details?: StatusDetails;
  /** Send this body instead of a Status (a string is sent as is). */
  body?: unknown;
  /** Content-Type of `body` (default application/json). */
  contentType?: string;
  /** More response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Cut the connection without answering (network failure). */
  drop?: boolean;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Extra delay before failing. */
  delayMs?: number;
}

export function matchesRequest(request: RecordedRequest, filter: RequestFilter): boolean {
  if (filter.method && filter.method.toUpperCase() !== request.method) return false;
  if (filter.verb && filter.verb !== request.verb) return false;
  if (filter.resource && filter.resource !== request.resource) return false;
  if (filter.group !== undefined && filter.group !== request.group) return false;
  if (filter.subresource !== undefined && filter.subresource !== request.subresource) return false;
  if (filter.namespace !== undefined && filter.namespace !== request.namespace) return false;
  if (filter.name !== undefined && filter.name !== request.name) return false;
  if (filter.path !== undefined && (typeof filter.path === 'string' ? filter.path !== request.path : !filter.path.test(request.path))) return false;
  return filter.where ? filter.where(request) : true;
}

export class RequestLog {
  private readonly entries: RecordedRequest[] = [];
  private readonly rules: Array<FailureRule & { remaining: number }> = [];

  add(request: RecordedRequest): void {
    this.entries.push(request);
  }

  all(): readonly RecordedRequest[] {
    return [...this.entries];
  }

  count(filter: RequestFilter = {}): number {
    return this.entries.filter((r) => matchesRequest(r, filter)).length;
  }

  clear(): void {
    this.entries.length = 0;
  }

  clearFailures(): void {
    this.rules.length = 0;
  }

  failNext(rule: FailureRule): void {
    this.rules.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /** The first failure rule matching the request, consuming one of its `times`. */
  takeFailure(request: RecordedRequest): FailureRule | undefined {
    const index = this.rules.findIndex((rule) => matchesRequest(request, rule));
    const rule = this.rules[index];
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.remaining <= 0) this.rules.splice(index, 1);
    return rule;
  }
}
