/**
 * In-process fake kube-apiserver for tests: a plain HTTP server on 127.0.0.1 speaking the
 * Kubernetes REST API with the behaviour recorded from a real v1.36.2 server
 * (test/fixtures/apiserver-http). Any client (@kubernetes/client-node via `kubeConfig()`, fetch)
 * can use it; tests steer it through the controls below (compaction, dropped watches, injected
 * failures, request log, tokens, authorizer).
 *
 *   const fake = await startFakeApiServer();            // afterEach: await fake.close()
 *   const core = fake.kubeConfig().makeApiClient(CoreV1Api);
 *   fake.createNamespace('team-a');
 *   fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'team-a' } });
 *   await fake.waitForWatches({ resource: 'secrets' }); // an informer is connected
 *   fake.compact(); fake.endWatches();                  // its next watch gets 410 and re-lists
 *   expect(fake.count({ verb: 'list', resource: 'secrets' })).toBe(2);
 *
 * The modules under ./apiserver/ hold the rules: store.ts (resourceVersions, history),
 * rest.ts (verbs), list.ts (paging), watch.ts (streams), builtin-kinds/ (per-kind behaviour).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  type Authorizer, type AuthorizationDecision, type FakeToken, rbacDecision, type SubjectAccessReviewSpec, tokenFromClaims, type UserInfo,
} from './apiserver/auth.js';
import { builtinKinds } from './apiserver/builtin-kinds/index.js';
import { discoveryDocument } from './apiserver/discovery.js';
import { acceptsMediaType, DISCOVERY_PATH, JWK_SET_MEDIA_TYPE, JWKS_PATH, ServiceAccountIssuer, type TokenClaims } from './apiserver/issuer.js';
import { KindRegistry, type ResourceKind, type ResourceKindDefinition } from './apiserver/kinds.js';
import { objectFilter } from './apiserver/list.js';
import { managerName } from './apiserver/managed-fields.js';
import { APF_REJECTION_BODY, type PriorityAndFairnessOptions, PriorityLevel, type Seat } from './apiserver/priority-and-fairness.js';
import { authorizeRequest, BOOTSTRAP_RBAC } from './apiserver/request-authorization.js';
import { type FailureRule, type RecordedRequest, RequestLog, type RequestFilter } from './apiserver/request-log.js';
import { Rest, type RestResult, type WriteContext } from './apiserver/rest.js';
import { answerReview, answerTokenRequest, type ReviewContext } from './apiserver/reviews.js';
import { parseRoute, type ResourceRoute, truthy, verbOf } from './apiserver/routes.js';
import { ApiError, errors } from './apiserver/status.js';
import { ObjectStore, storeKey } from './apiserver/store.js';
import type { KubeObject } from './apiserver/types.js';
import { Waiters } from './apiserver/waiters.js';
import { WatchStream, type WatchInfo } from './apiserver/watch.js';

export type { Authorizer, AuthorizationDecision, FakeToken, SubjectAccessReviewSpec, UserInfo } from './apiserver/auth.js';
export type { ResourceKindDefinition } from './apiserver/kinds.js';
export type { StatusBody } from './apiserver/status.js';
export type { KubeObject, ObjectMeta, Verb } from './apiserver/types.js';
export type { FailureRule, RecordedRequest, RequestFilter } from './apiserver/request-log.js';
export type { PriorityAndFairnessOptions } from './apiserver/priority-and-fairness.js';
export type { WatchInfo } from './apiserver/watch.js';

export interface FakeApiServerOptions {
  /** NamespaceLifecycle: creating in a missing namespace is a 404 (real). Default true; false relaxes it. */
  requireNamespaces?: boolean;
  /** Namespaces that exist from the start. Default: default, kube-system, kube-public, kube-node-lease. */
  namespaces?: readonly string[];
  /** Value of the resourceVersion counter before the first write. Default 100. */
  initialResourceVersion?: number;
  /** Events kept for watches / consistent lists (the watch-cache window). Default unlimited. */
  watchCacheSize?: number;
  /** Additional kinds to serve. */
  kinds?: readonly ResourceKindDefinition[];
  /** Bearer token of `kubeConfig()`, mapped to a system:masters user. Default 'fake-admin-token'. */
  adminToken?: string;
  /** Reject requests without a known bearer token with 401. Default false. */
  authenticateRequests?: boolean;
  /**
   * Authorize every request with RBAC over the stored Roles and bindings, as kube-apiserver does,
   * and answer a denial with its 403 (the admin token is system:masters). Seeds the bootstrap
   * discovery roles every cluster has. Implies authenticateRequests. Default false.
   */
  authorizeRequests?: boolean;
  /** Send BOOKMARKs this often to watches that allow them (besides the one before timeoutSeconds). */
  bookmarkIntervalMs?: number;
  /** API server audiences for TokenReview / TokenRequest. Default: the issuer (as kube-apiserver's --api-audiences). */
  audiences?: readonly string[];
  /** --service-account-issuer. Default https://kubernetes.default.svc.cluster.local. */
  issuer?: string;
  /** Clock for timestamps and token expiry. */
  now?: () => Date;
  /** Delay before answering each request, in ms (also settable later through `latency`). */
  latencyMs?: number;
  /**
   * API Priority and Fairness for the matching requests: a seat limit (and a queue) past which
   * they get the recorded 429 with Retry-After (see apiserver/priority-and-fairness.ts). Default: none.
   */
  priorityAndFairness?: PriorityAndFairnessOptions;
  /** Keep every request in `requests` (default true); false keeps memory flat in long benchmarks. */
  recordRequests?: boolean;
}

export interface ServiceAccountTokenOptions {
  audiences?: readonly string[];
  expirationSeconds?: number;
}

const FAKE_MANAGER = 'fake-apiserver';
const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FakeApiServer {
  /** Tokens accepted by TokenReview (and by requests when authenticateRequests is on). */
  readonly tokens = new Map<string, FakeToken>();
  /** TokenReview hook consulted before `tokens`; return undefined to fall back to the map. */
  authenticate: ((token: string) => FakeToken | undefined) | undefined;
  /** SubjectAccessReview decisions; return undefined (or leave unset) to evaluate stored RBAC objects. */
  authorize: Authorizer | undefined;
  /** Delay before answering each request, in ms (or per request). */
  latency: number | ((request: RecordedRequest) => number) = 0;
  /** The APF priority level, when `priorityAndFairness` was given: its counters (rejected, dispatched). */
  readonly priorityLevel: PriorityLevel | undefined;
  /** Called once each request is answered (its status set), e.g. to count writes without keeping the log. */
  onResponse: ((request: RecordedRequest) => void) | undefined;
  /** NamespaceLifecycle strictness; can be changed at any time. */
  requireNamespaces: boolean;
  /** Signs ServiceAccount tokens; served as service-account issuer discovery. */
  readonly serviceAccountIssuer: ServiceAccountIssuer;

  private readonly server: Server;
  private readonly store: ObjectStore;
  private readonly kinds = new KindRegistry();
  private readonly rest: Rest;
  private readonly streams = new Set<WatchStream>();
  private readonly log = new RequestLog();
  private readonly waiters = new Waiters();
  private readonly clock: () => Date;
  private readonly adminToken: string;
  private readonly authenticateRequests: boolean;
  private readonly authorizeRequests: boolean;
  private readonly bookmarkIntervalMs: number | undefined;
  private readonly audiences: string[];
  private readonly flowSchemaUid = randomUUID();
  private readonly priorityLevelUid = randomUUID();
  private readonly recordRequests: boolean;
  private seq = 0;
  private watchIds = 0;
  private closed = false;

  constructor(options: FakeApiServerOptions = {}) {
    this.clock = options.now ?? (() => new Date());
    this.requireNamespaces = options.requireNamespaces ?? true;
    this.adminToken = options.adminToken ?? 'fake-admin-token';
    this.authorizeRequests = options.authorizeRequests ?? false;
    this.authenticateRequests = (options.authenticateRequests ?? false) || this.authorizeRequests;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs;
    this.serviceAccountIssuer = new ServiceAccountIssuer(options.issuer);
    this.audiences = [...(options.audiences ?? [this.serviceAccountIssuer.issuer])];
    this.latency = options.latencyMs ?? 0;
    this.priorityLevel = options.priorityAndFairness ? new PriorityLevel(options.priorityAndFairness) : undefined;
    this.recordRequests = options.recordRequests ?? true;
    this.store = new ObjectStore(options.initialResourceVersion ?? 100, options.watchCacheSize);
    for (const def of [...builtinKinds, ...(options.kinds ?? [])]) this.kinds.register(def);
    this.rest = new Rest(this.store, this.kinds, { now: () => this.clock(), requireNamespaces: () => this.requireNamespaces });
    for (const name of options.namespaces ?? DEFAULT_NAMESPACES) this.createNamespace(name);
    if (this.authorizeRequests) for (const object of BOOTSTRAP_RBAC) this.put(object);
    this.store.compactTo(this.store.currentResourceVersion); // history starts after the bootstrap objects
    this.server = createServer({ noDelay: true }, (req, res) => void this.onRequest(req, res));
  }

  /** Binds 127.0.0.1 on an ephemeral port. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A KubeConfig for @kubernetes/client-node pointed at this server (admin token unless given). */
  kubeConfig(options: { token?: string; namespace?: string } = {}): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake-user', token: options.token ?? this.adminToken }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', ...(options.namespace ? { namespace: options.namespace } : {}) }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Stops the server: open watches are cut, pending waits rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams]) stream.drop();
    this.waiters.rejectAll('fake-apiserver closed');
    this.priorityLevel?.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- state helpers (same write path as the API: watch events, resourceVersions) ----

  /** Current resourceVersion of the store (as a string, like the API). */
  get resourceVersion(): string {
    return String(this.store.currentResourceVersion);
  }

  /** Oldest resourceVersion a watch can start from; older ones get 410 Expired. */
  get oldestResourceVersion(): string {
    return String(this.store.oldestResourceVersion);
  }

  /** Adds a kind at runtime, e.g. `{ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true }`. */
  registerKind(definition: ResourceKindDefinition): void {
    this.kinds.register(definition);
  }

  /** An object as the API would return it (JSON); `resource` is a plural, Kind, or `plural.group`. T is the caller's view of it. */
  get<T = KubeObject>(resource: string, namespace: string | undefined, name: string): T | undefined {
    const kind = this.kind(resource);
    const stored = this.store.get(kind.table, storeKey(kind.namespaced ? namespace : undefined, name));
    return stored ? (this.rest.present(kind, stored) as T) : undefined;
  }

  /** All objects of a resource (optionally in one namespace), as GET would return them. */
  list<T = KubeObject>(resource: string, namespace?: string): T[] {
    const kind = this.kind(resource);
    return this.store.list(kind.table, kind.namespaced ? namespace : undefined).map((e) => this.rest.present(kind, e.object) as T);
  }

  /**
   * Creates or replaces an object (kind from apiVersion/kind) like a direct etcd write: server
   * fields, defaults and watch events, but no admission or validation, no resourceVersion check.
   */
  put<T extends object = KubeObject>(object: T): T {
    const input = object as KubeObject;
    const kind = this.rest.kindOf(input);
    const meta = input.metadata ?? {};
    const name = meta.name ?? '';
    if (kind.namespaced && !meta.namespace) throw new Error(`fake-apiserver: put(${kind.kind} ${name}) needs metadata.namespace`);
    const ctx: WriteContext = { manager: FAKE_MANAGER, direct: true };
    const exists = this.store.get(kind.table, storeKey(kind.namespaced ? meta.namespace : undefined, name));
    const body = { ...input, metadata: { ...meta, resourceVersion: undefined } };
    const result = exists ? this.rest.update(kind, meta.namespace, name, body, ctx) : this.rest.create(kind, meta.namespace, body, ctx);
    return result.body as T;
  }

  /** put() for several objects, in order. */
  seed<T extends object = KubeObject>(objects: readonly T[]): T[] {
    return objects.map((o) => this.put(o));
  }

  /** Removes an object at once, ignoring finalizers (DELETED event). Returns whether it existed. */
  remove(resource: string, namespace: string | undefined, name: string): boolean {
    return this.rest.forceRemove(this.kind(resource), namespace, name);
  }

  /** Creates an Active namespace (no-op if it exists). */
  createNamespace(name: string, labels?: Record<string, string>): KubeObject {
    const existing = this.get('namespaces', undefined, name);
    if (existing) return existing;
    const kind = this.kind('namespaces');
    return this.rest.create(kind, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, { manager: FAKE_MANAGER, direct: true }).body as KubeObject;
  }

  /** What DELETE does to a namespace: deletionTimestamp + phase Terminating (creates then get 403). */
  terminateNamespace(name: string): KubeObject {
    return this.rest.delete(this.kind('namespaces'), undefined, name, undefined, { manager: FAKE_MANAGER, direct: true }).body as KubeObject;
  }

  /**
   * What the namespace controller would do: delete everything in the namespace (objects with
   * finalizers only get a deletionTimestamp) and, once it is empty, finalize it away.
   * Returns true when the namespace is gone.
   */
  finalizeNamespace(name: string): boolean {
    const ctx: WriteContext = { manager: 'namespace-controller', direct: true };
    const nsKind = this.kind('namespaces');
    const ns = this.get('namespaces', undefined, name);
    if (!ns) return true;
    if (!ns.metadata?.deletionTimestamp) this.terminateNamespace(name);
    let remaining = 0;
    const seenTables = new Set<string>();
    for (const kind of this.kinds.all()) {
      if (!kind.namespaced || kind.review || seenTables.has(kind.table)) continue;
      seenTables.add(kind.table);
      for (const entry of this.store.list(kind.table, name)) {
        const objName = String(entry.object.metadata.name);
        this.rest.delete(kind, name, objName, undefined, ctx);
        if (this.store.get(kind.table, entry.key)) remaining++;
      }
    }
    if (remaining > 0) return false;
    const current = this.get('namespaces', undefined, name);
    if (!current) return true;
    this.rest.update(nsKind, undefined, name, { ...current, spec: { ...(current.spec as object), finalizers: [] } }, ctx, 'finalize');
    return this.get('namespaces', undefined, name) === undefined;
  }

  // ---- watch and history controls ----

  /** Expires all history: watches/lists from any earlier resourceVersion get 410. */
  compact(): void {
    this.store.compactTo(this.store.currentResourceVersion);
  }

  /** Expires history up to `resourceVersion` (inclusive). */
  compactTo(resourceVersion: number | string): void {
    this.store.compactTo(Number(resourceVersion));
  }

  /** Sends a BOOKMARK (current resourceVersion) to every open watch that allowed bookmarks. */
  bookmark(): void {
    for (const stream of this.streams) stream.bookmark();
  }

  /** Cuts every open watch connection abruptly. */
  dropWatches(filter: { resource?: string; namespace?: string } = {}): void {
    for (const stream of [...this.streams]) if (this.watchMatches(stream.info, filter)) stream.drop();
  }

  /** Ends every open watch cleanly, as a server-side timeout does. */
  endWatches(filter: { resource?: string; namespace?: string } = {}): void {
    for (const stream of [...this.streams]) if (this.watchMatches(stream.info, filter)) stream.end();
  }

  /** Open watches. */
  get watches(): WatchInfo[] {
    return [...this.streams].map((s) => s.info);
  }

  /** Resolves once at least `count` matching watches are open (e.g. an informer is connected). */
  waitForWatches(filter: { resource?: string; namespace?: string } = {}, count = 1, timeoutMs = 5000): Promise<void> {
    return this.waiters.waitFor(() => [...this.streams].filter((s) => this.watchMatches(s.info, filter)).length >= count, timeoutMs, `${count} watch(es) ${JSON.stringify(filter)}`);
  }

  // ---- request log and fault injection ----

  /** Every request received, in order. */
  get requests(): readonly RecordedRequest[] {
    return this.log.all();
  }

  /** Number of recorded requests matching the filter. */
  count(filter: RequestFilter = {}): number {
    return this.log.count(filter);
  }

  clearRequests(): void {
    this.log.clear();
  }

  /** Resolves once at least `count` matching requests have been received (counting the log so far). */
  waitForRequests(filter: RequestFilter, count = 1, timeoutMs = 5000): Promise<void> {
    return this.waiters.waitFor(() => this.count(filter) >= count, timeoutMs, `${count} request(s) ${JSON.stringify(filter)}`);
  }

  /** Makes the next matching request(s) fail with a Status (or a cut connection). */
  failNext(rule: FailureRule): void {
    this.log.failNext(rule);
  }

  /** Forgets every failure rule not used up yet. */
  clearFailures(): void {
    this.log.clearFailures();
  }

  /**
   * API Priority and Fairness rejecting matching requests as recorded (apf-429-*.json): 429,
   * `Retry-After`, a text/plain body (not a Status). `times` default: until clearFailures().
   */
  throttle(filter: RequestFilter, options: { retryAfterSeconds?: number; times?: number } = {}): void {
    this.log.failNext({
      ...filter,
      status: 429,
      times: options.times ?? Number.POSITIVE_INFINITY,
      contentType: 'text/plain; charset=utf-8',
      headers: { 'Retry-After': String(options.retryAfterSeconds ?? 1), 'X-Content-Type-Options': 'nosniff' },
      body: APF_REJECTION_BODY,
    });
  }
  // ---- authentication helpers ----

  /** A JWT signed by this server's ServiceAccount issuer key, with exactly these claims (and header fields). */
  signToken(claims: TokenClaims, header: Record<string, unknown> = {}): string {
    return this.serviceAccountIssuer.sign(claims, header);
  }

  /** A new ServiceAccount signing key (new kid); `keepOld` keeps the previous one in the key set. Returns the new kid. */
  rotateSigningKey(options: { keepOld?: boolean } = {}): string {
    return this.serviceAccountIssuer.rotate(options);
  }

  /** Registers a token for a user and returns it. */
  issueToken(user: FakeToken): string {
    const token = `fake-token-${randomBytes(12).toString('hex')}`;
    this.tokens.set(token, user);
    return token;
  }

  /** Mints a ServiceAccount token like the TokenRequest API (the ServiceAccount must exist). */
  issueServiceAccountToken(namespace: string, name: string, options: ServiceAccountTokenOptions = {}): string {
    const body = { spec: { audiences: options.audiences, expirationSeconds: options.expirationSeconds } };
    const result = answerTokenRequest(namespace, name, body, this.reviewContext(FAKE_MANAGER));
    const status = (result.body as { status: { token: string } }).status;
    return status.token;
  }

  // ---- HTTP ----

  private kind(resource: string): ResourceKind {
    const kind = this.kinds.resolve(resource);
    if (!kind) throw new Error(`fake-apiserver: unknown resource ${resource}`);
    return kind;
  }

  private watchMatches(info: WatchInfo, filter: { resource?: string; namespace?: string }): boolean {
    return (!filter.resource || info.kind.plural === filter.resource) && (filter.namespace === undefined || info.namespace === filter.namespace);
  }

  private headers(): Record<string, string> {
    return {
      'Audit-Id': randomUUID(),
      'Cache-Control': 'no-cache, private',
      'Content-Type': 'application/json',
      'X-Kubernetes-Pf-Flowschema-Uid': this.flowSchemaUid,
      'X-Kubernetes-Pf-Prioritylevel-Uid': this.priorityLevelUid,
    };
  }

  private send(res: ServerResponse, record: RecordedRequest | undefined, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { ...this.headers(), ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
    if (record) {
      record.status = code;
      this.onResponse?.(record);
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let record: RecordedRequest | undefined;
    let seat: Seat | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://fake-apiserver');
      const raw = await readBody(req);
      const route = parseRoute(url.pathname, this.kinds);
      const resource = route.type === 'resource' ? route.route : undefined;
      const method = (req.method ?? 'GET').toUpperCase();
      const contentType = req.headers['content-type'];
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      const user = this.identify(req);
      record = {
        seq: ++this.seq,
        receivedAt: this.clock().getTime(),
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType,
        headers: req.headers,
        body,
        verb: resource ? verbOf(method, resource, url.searchParams) : undefined,
        group: resource?.kind.group,
        version: resource?.kind.version,
        resource: resource?.kind.plural,
        subresource: resource?.subresource,
        namespace: resource?.namespace,
        name: resource?.name,
        user: user?.username,
        status: undefined,
      };
      if (this.recordRequests) this.log.add(record);
      this.waiters.notify();

      // APF before authorization (as recorded); a seat is held until the answer is sent.
      const level = this.priorityLevel?.matches(record) ? this.priorityLevel : undefined;
      if (level) {
        seat = await level.admit();
        if (!seat) {
          level.sendRejection(res);
          record.status = 429;
          this.onResponse?.(record);
          return;
        }
      }

      const failure = this.log.takeFailure(record);
      const delay = (typeof this.latency === 'function' ? this.latency(record) : this.latency) + (failure?.delayMs ?? 0);
      if (delay > 0) await sleep(delay);
      if (failure) {
        if (failure.drop) {
          record.status = 0;
          req.socket.destroy();
          return;
        }
        const code = failure.status ?? 500;
        const headers = { ...failure.headers, ...(failure.contentType ? { 'Content-Type': failure.contentType } : {}) };
        this.send(res, record, code, failure.body ?? errors.fromCode(code, failure.message, failure.reason, failure.details).status, headers);
        return;
      }
      if (this.authenticateRequests && !user) throw errors.unauthorized();
      if (this.authorizeRequests && user) {
        const denied = authorizeRequest(this.store, user, { method, path: url.pathname, route: resource, verb: record.verb, params: url.searchParams });
        if (denied) throw denied;
      }

      if (!resource && method === 'GET' && (url.pathname === DISCOVERY_PATH || url.pathname === JWKS_PATH)) {
        this.serveIssuerDiscovery(req, res, record, url.pathname);
        return;
      }
      if (!resource) {
        const doc = method === 'GET' ? this.discovery(url.pathname) : undefined;
        if (doc === undefined) throw errors.pathNotFound();
        this.send(res, record, 200, doc);
        return;
      }
      const result = this.dispatch(req, res, record, resource, url.searchParams, raw, body, user);
      if (result) this.send(res, record, result.code, result.body);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : errors.internal(error instanceof Error ? error.message : String(error));
      if (!res.headersSent) this.send(res, record, apiError.code, apiError.status);
      else res.destroy();
    } finally {
      seat?.release(); // a watch holds no seat once it streams
    }
  }

  /** Service-account issuer discovery, as recorded (serviceaccount-issuer-*.json): the key set only as application/jwk-set+json. */
  private serveIssuerDiscovery(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, path: string): void {
    const cache = { 'Cache-Control': 'public, max-age=3600' };
    if (path === DISCOVERY_PATH) {
      this.send(res, record, 200, this.serviceAccountIssuer.discoveryDocument(this.url), cache);
      return;
    }
    if (!acceptsMediaType(req.headers.accept, JWK_SET_MEDIA_TYPE)) {
      throw errors.fromCode(406, `406: Not Acceptable\n\nAvailable representations: ${JWK_SET_MEDIA_TYPE}`, 'NotAcceptable', {});
    }
    this.send(res, record, 200, this.serviceAccountIssuer.keySet(), { ...cache, 'Content-Type': JWK_SET_MEDIA_TYPE });
  }

  private discovery(path: string): unknown {
    if (['/healthz', '/livez', '/readyz'].includes(path)) return 'ok';
    return discoveryDocument(path, this.kinds.all(), `127.0.0.1:${this.port}`);
  }

  private identify(req: IncomingMessage): UserInfo | undefined {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) return undefined;
    if (token === this.adminToken) return { username: 'fake-admin', groups: ['system:masters', 'system:authenticated'] };
    const known = this.lookupToken(token);
    if (!known || (known.expiresAt && known.expiresAt.getTime() <= this.clock().getTime())) return undefined;
    return known;
  }

  private lookupToken(token: string): FakeToken | undefined {
    const known = this.authenticate?.(token) ?? this.tokens.get(token);
    if (known) return known;
    // A token this server signed (with claims a test chose): what its claims say, as a real TokenReview.
    const claims = token.includes('.') ? this.serviceAccountIssuer.verify(token) : undefined;
    return claims ? tokenFromClaims(claims) : undefined;
  }

  /** Handles a resource request; returns the answer, or undefined when it streams (watch). */
  private dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    route: ResourceRoute,
    params: URLSearchParams,
    raw: string,
    jsonBody: unknown,
    user: UserInfo | undefined,
  ): RestResult | undefined {
    const { kind, namespace, name, subresource } = route;
    const verb = record.verb;
    if (!verb || (kind.verbs && !kind.verbs.includes(verb))) throw errors.methodNotAllowed();
    if (kind.namespaced && !namespace && verb !== 'list' && verb !== 'watch') throw errors.methodNotAllowed();

    const contentType = (record.contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
    const body = (): unknown => {
      if (raw === '') return undefined;
      if (contentType.includes('yaml')) return parseYaml(raw) as unknown;
      if (contentType.includes('protobuf')) {
        throw errors.unsupportedMediaType(contentType, ['application/json', 'application/yaml']);
      }
      if (typeof jsonBody === 'string') throw errors.badRequest(`couldn't get version/kind; json parse error: invalid JSON`);
      return jsonBody;
    };
    const ctx: WriteContext = {
      manager: managerName(params.get('fieldManager'), req.headers['user-agent']),
      dryRun: params.getAll('dryRun').includes('All'),
    };

    if (kind.review) return answerReview(kind, namespace, body(), user, this.reviewContext(ctx.manager));

    if (subresource) {
      if (kind.group === '' && kind.plural === 'serviceaccounts' && subresource === 'token' && verb === 'create') {
        return answerTokenRequest(namespace ?? '', name ?? '', body(), this.reviewContext(ctx.manager));
      }
      const finalize = kind.group === '' && kind.plural === 'namespaces' && subresource === 'finalize' && verb === 'update';
      const status = kind.statusSubresource && subresource === 'status';
      if (!finalize && !status) throw errors.pathNotFound();
      if (verb === 'get') return this.rest.get(kind, namespace, name ?? '');
      if (verb === 'update') return this.rest.update(kind, namespace, name ?? '', body(), ctx, subresource);
      if (verb === 'patch') return this.rest.patch(kind, namespace, name ?? '', record.contentType ?? '', raw, ctx, subresource);
      throw errors.methodNotAllowed();
    }

    switch (verb) {
      case 'get':
        return this.rest.get(kind, namespace, name ?? '');
      case 'list':
        return { code: 200, body: this.rest.list(kind, namespace, params) };
      case 'watch':
        this.startWatch(res, record, kind, namespace, name, params);
        return undefined;
      case 'create':
        return this.rest.create(kind, namespace, body(), ctx);
      case 'update':
        return this.rest.update(kind, namespace, name ?? '', body(), ctx);
      case 'patch':
        return this.rest.patch(kind, namespace, name ?? '', record.contentType ?? '', raw, ctx);
      case 'delete':
        return this.rest.delete(kind, namespace, name ?? '', body(), ctx);
      case 'deletecollection':
        return this.rest.deleteCollection(kind, namespace, params, body(), ctx);
    }
  }

  private startWatch(
    res: ServerResponse,
    record: RecordedRequest,
    kind: ResourceKind,
    namespace: string | undefined,
    name: string | undefined,
    params: URLSearchParams,
  ): void {
    const filterParams = new URLSearchParams(params);
    if (name) filterParams.set('fieldSelector', [params.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
    const filter = objectFilter(kind, namespace, filterParams); // a bad selector is an HTTP 400, before streaming
    const rvParam = params.get('resourceVersion') ?? '';
    if (rvParam && !/^\d+$/.test(rvParam)) throw errors.badRequest(`invalid resource version "${rvParam}"`);
    const since = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
    const timeoutParam = params.get('timeoutSeconds');
    const timeoutMs = timeoutParam && /^\d+$/.test(timeoutParam) ? Number(timeoutParam) * 1000 : undefined;
    const sendInitialEvents = truthy(params.get('sendInitialEvents'));

    let unsubscribe = (): void => undefined;
    const info: WatchInfo = {
      id: ++this.watchIds,
      kind,
      namespace,
      query: Object.fromEntries(params),
      allowBookmarks: truthy(params.get('allowWatchBookmarks')),
    };
    const stream = new WatchStream(info, res, {
      view: (stored) => this.rest.present(kind, stored),
      filter,
      headers: this.headers(),
      currentResourceVersion: () => this.store.currentResourceVersion,
      timeoutMs,
      bookmarkIntervalMs: this.bookmarkIntervalMs,
      onClose: () => {
        unsubscribe();
        this.streams.delete(stream);
      },
    });
    record.status = 200;

    if (since === undefined || sendInitialEvents) {
      // No resourceVersion (or "0"): the current state as synthetic ADDED events first.
      stream.sendInitial(this.store.list(kind.table, kind.namespaced ? namespace : undefined).map((e) => e.object));
      if (sendInitialEvents) stream.bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      const missed = this.store.eventsSince(since);
      if (!missed) {
        // Recorded: HTTP 200, then one ERROR line with a 410 Status, then the server closes.
        stream.send('ERROR', errors.expired(`too old resource version: ${since} (${this.store.oldestResourceVersion})`).status);
        stream.end();
        return;
      }
      for (const event of missed) stream.deliver(event);
    }
    if (!stream.isOpen) return;
    unsubscribe = this.store.subscribe((event) => stream.deliver(event));
    this.streams.add(stream);
    this.waiters.notify();
  }

  private reviewContext(manager: string): ReviewContext {
    return {
      store: this.store,
      now: this.clock(),
      audiences: this.audiences,
      manager,
      lookupToken: (token) => this.lookupToken(token),
      registerToken: (token, info) => this.tokens.set(token, info),
      issuer: this.serviceAccountIssuer,
      decide: (spec: SubjectAccessReviewSpec): boolean | AuthorizationDecision => this.authorize?.(spec) ?? rbacDecision(this.store, spec),
    };
  }
}

/** Starts a fake API server on 127.0.0.1 with an ephemeral port. */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const server = new FakeApiServer(options);
  await server.listen();
  return server;
}

