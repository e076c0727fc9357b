/**
 * REST verbs on stored kinds, following the generic registry (k8s.io/apiserver/pkg/registry/generic)
 * and the NamespaceLifecycle admission plugin: system fields, optimistic concurrency, no-op updates,
 * finalizers and graceful removal, generation, namespace termination. Works on JSON objects and
 * returns the bodies to send.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { KindRegistry, ResourceKind } from './kinds.js';
import { listObjects, type ListBody, objectFilter } from './list.js';
import { updateManagedFields } from './managed-fields.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchApplyError, PatchDecodeError } from './patch.js';
import { applyShape, pruneNulls } from './shape.js';
import { ApiError, deleteSuccess, errors, type StatusBody } from './status.js';
import { type ObjectStore, storeKey } from './store.js';
import {
  clone, formatTime, isPlainObject, jsonEqual, metaOf, type KubeObject, type ObjectMeta, type StoredObject,
} from './types.js';
import { validateObjectMeta } from './validation.js';

export interface RestOptions {
  now(): Date;
  /** NamespaceLifecycle: creating in a namespace that does not exist is a 404. */
  requireNamespaces(): boolean;
}

export interface WriteContext {
  /** Field manager (fieldManager parameter or User-Agent). */
  manager: string;
  dryRun?: boolean;
  /** Test seeding: skips decoding, admission and validation, like writing straight to etcd. */
  direct?: boolean;
}

export interface RestResult {
  code: number;
  body: unknown;
}

const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];
const NAMESPACES = { group: '', resource: 'namespaces' };
const SYSTEM_FIELDS = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const;

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

function hasFinalizers(meta: ObjectMeta): boolean {
  return Array.isArray(meta.finalizers) && meta.finalizers.length > 0;
}

export class Rest {
  constructor(
    private readonly store: ObjectStore,
    private readonly kinds: KindRegistry,
    private readonly options: RestOptions,
  ) {}

  // ---- views ----

  /** Stored object -> API form with kind/apiVersion, without zero values (internal processing). */
  toApi(kind: ResourceKind, stored: KubeObject): KubeObject {
    const obj = kind.storage ? kind.storage.fromStorage(clone(stored)) : clone(stored);
    obj.apiVersion = kind.apiVersion;
    obj.kind = kind.kind;
    return obj;
  }

  /** What the server sends: API form plus Go's zero values, in Go's key order. */
  present(kind: ResourceKind, stored: KubeObject): KubeObject {
    return applyShape({ ...clone(kind.zeroValues ?? {}), ...this.toApi(kind, stored) }, kind.fullShape) as KubeObject;
  }

  /** Canonical stored form: shaped (omitempty applied), zero values dropped, storage conversion applied. */
  private canonical(kind: ResourceKind, obj: KubeObject): StoredObject {
    const shaped = applyShape(obj, kind.fullShape) as KubeObject;
    for (const [key, zero] of Object.entries(kind.zeroValues ?? {})) if (jsonEqual(shaped[key], zero)) delete shaped[key];
    const stored = kind.storage ? kind.storage.toStorage(shaped) : shaped;
    return stored as StoredObject;
  }

  private key(kind: ResourceKind, namespace: string | undefined, name: string): string {
    return storeKey(kind.namespaced ? namespace : undefined, name);
  }

  private stored(kind: ResourceKind, namespace: string | undefined, name: string): StoredObject {
    const found = this.store.get(kind.table, this.key(kind, namespace, name));
    if (!found) throw errors.notFound(kind.groupResource, name);
    return found;
  }

  private now(): string {
    return formatTime(this.options.now());
  }

  // ---- reads ----

  get(kind: ResourceKind, namespace: string | undefined, name: string): RestResult {
    return { code: 200, body: this.present(kind, this.stored(kind, namespace, name)) };
  }

  list(kind: ResourceKind, namespace: string | undefined, params: URLSearchParams): ListBody {
    return listObjects(this.store, kind, namespace, params, (o) => this.present(kind, o));
  }

  // ---- admission, decoding, validation ----

  /** NamespaceLifecycle for creates and updates of namespaced objects. */
  private admitNamespace(kind: ResourceKind, namespace: string | undefined, name: string, operation: 'create' | 'update'): void {
    if (!kind.namespaced || !namespace) return;
    const ns = this.store.get('namespaces', storeKey(undefined, namespace));
    if (!ns) {
      if (this.options.requireNamespaces()) throw errors.notFound(NAMESPACES, namespace);
      return;
    }
    const phase = isPlainObject(ns.status) ? ns.status.phase : undefined;
    if (operation === 'create' && phase === 'Terminating') {
      throw errors.forbidden(kind.groupResource, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
      ]);
    }
  }

  /** JSON body -> object of this kind, with the kind's decoding rules (400 on failure). */
  private decode(kind: ResourceKind, body: unknown, ctx: WriteContext): KubeObject {
    if (!isPlainObject(body)) throw errors.undecodable(kind.kind, kind.version, 'Object \'Kind\' is missing in body');
    const obj = pruneNulls(clone(body)) as KubeObject;
    if (obj.apiVersion !== undefined && obj.apiVersion !== kind.apiVersion && !ctx.direct) {
      throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${kind.apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== kind.kind && !ctx.direct) {
      throw errors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${kind.kind})`);
    }
    obj.apiVersion = kind.apiVersion;
    obj.kind = kind.kind;
    if (!ctx.direct) kind.decode?.(obj);
    return obj;
  }

  private placeInNamespace(kind: ResourceKind, namespace: string | undefined, meta: ObjectMeta): void {
    if (!kind.namespaced) {
      delete meta.namespace;
      return;
    }
    if (meta.namespace && namespace && meta.namespace !== namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (namespace) meta.namespace = namespace;
  }

  private validate(kind: ResourceKind, obj: KubeObject, old: KubeObject | undefined): void {
    const meta = metaOf(obj);
    const errs = [...validateObjectMeta(meta, kind.nameRule ?? 'subdomain')];
    const storedForm = (o: KubeObject): KubeObject => (kind.storage ? kind.storage.toStorage(clone(o)) : o);
    errs.push(...(kind.validate?.(storedForm(obj), { old: old ? storedForm(old) : undefined }) ?? []));
    if (errs.length > 0) throw errors.invalid(kind.invalidKind ?? { group: kind.group, kind: kind.kind }, meta.name ?? '', errs);
  }

  private pendingFinalizers(kind: ResourceKind, obj: KubeObject): boolean {
    return hasFinalizers(metaOf(obj)) || Boolean(kind.hasPendingFinalizers?.(obj));
  }

  // ---- writes ----

  create(kind: ResourceKind, namespace: string | undefined, body: unknown, ctx: WriteContext): RestResult {
    const obj = this.decode(kind, body, ctx);
    const meta = metaOf(obj);
    this.placeInNamespace(kind, namespace, meta);
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (meta.resourceVersion && !ctx.direct) throw errors.internal('resourceVersion should not be set on objects to be created');
    kind.defaults?.(obj);
    if (!ctx.direct) {
      this.admitNamespace(kind, namespace, meta.name ?? '', 'create');
      this.validate(kind, obj, undefined);
    }
    const name = meta.name ?? '';
    if (!name) throw new Error(`fake-apiserver: cannot store a ${kind.kind} without metadata.name`);
    const key = this.key(kind, namespace, name);
    if (this.store.get(kind.table, key)) throw errors.alreadyExists(kind.groupResource, name);

    const now = this.now();
    meta.uid = ctx.direct && meta.uid ? meta.uid : randomUUID();
    meta.creationTimestamp = ctx.direct && meta.creationTimestamp ? meta.creationTimestamp : now;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (kind.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    meta.managedFields = updateManagedFields(undefined, undefined, obj, { manager: ctx.manager, operation: 'Update', apiVersion: kind.apiVersion, time: now }, kind.fullShape);
    kind.prepareCreate?.(obj);

    const candidate = this.canonical(kind, obj);
    const stored = ctx.dryRun ? candidate : this.store.put(kind.table, key, candidate);
    return { code: 201, body: this.present(kind, stored) };
  }

  update(kind: ResourceKind, namespace: string | undefined, name: string, body: unknown, ctx: WriteContext, subresource?: string): RestResult {
    const incoming = this.decode(kind, body, ctx);
    const meta = metaOf(incoming);
    this.placeInNamespace(kind, namespace, meta);
    if (meta.name !== name) {
      throw errors.badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`);
    }
    const stored = this.stored(kind, namespace, name);
    return this.commitUpdate(kind, namespace, stored, incoming, ctx, subresource);
  }

  patch(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    contentType: string,
    rawBody: string,
    ctx: WriteContext,
    subresource?: string,
  ): RestResult {
    const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!(Object.values(PATCH_TYPES) as string[]).includes(type)) throw errors.unsupportedMediaType(contentType, Object.values(PATCH_TYPES));
    let patch: unknown;
    try {
      patch = type === PATCH_TYPES.apply ? parseYaml(rawBody) : JSON.parse(rawBody);
    } catch (error) {
      throw errors.badRequest(`error decoding patch: ${(error as Error).message}`);
    }
    const existing = this.store.get(kind.table, this.key(kind, namespace, name));
    if (!existing) {
      if (type !== PATCH_TYPES.apply) throw errors.notFound(kind.groupResource, name);
      return this.create(kind, namespace, patch, ctx);
    }
    const current = this.present(kind, existing);
    let patched: unknown;
    try {
      switch (type) {
        case PATCH_TYPES.json:
          patched = applyJsonPatch(current, patch);
          break;
        case PATCH_TYPES.merge:
          if (!isPlainObject(patch)) throw new PatchDecodeError('merge patch must be a JSON object');
          patched = applyMergePatch(current, patch);
          break;
        case PATCH_TYPES.strategic:
          patched = applyStrategicMergePatch(current, patch);
          break;
        case PATCH_TYPES.apply:
          // Approximation of server-side apply: merge the applied configuration.
          if (!isPlainObject(patch)) throw new PatchDecodeError('apply configuration must be an object');
          patched = applyMergePatch(current, patch);
          break;
        default:
          throw errors.unsupportedMediaType(contentType, Object.values(PATCH_TYPES));
      }
    } catch (error) {
      if (error instanceof PatchDecodeError) throw errors.badRequest(error.message);
      if (error instanceof PatchApplyError) throw errors.patchRejected();
      throw error;
    }
    if (!isPlainObject(patched)) throw errors.patchRejected();
    const obj = this.decode(kind, { ...patched, apiVersion: kind.apiVersion, kind: kind.kind }, ctx);
    const meta = metaOf(obj);
    if (meta.name !== name) throw errors.badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`);
    this.placeInNamespace(kind, namespace, meta);
    return this.commitUpdate(kind, namespace, existing, obj, ctx, subresource);
  }

  /** The common tail of PUT and PATCH: preconditions, system fields, validation, no-op detection, write. */
  private commitUpdate(
    kind: ResourceKind,
    namespace: string | undefined,
    stored: StoredObject,
    candidate: KubeObject,
    ctx: WriteContext,
    subresource: string | undefined,
  ): RestResult {
    const old = this.toApi(kind, stored);
    const oldMeta = metaOf(old);
    const name = oldMeta.name ?? '';
    const meta = metaOf(candidate);
    if (meta.resourceVersion && meta.resourceVersion !== oldMeta.resourceVersion) throw errors.conflict(kind.groupResource, name);
    if (meta.uid && meta.uid !== oldMeta.uid) {
      throw errors.conflict(kind.groupResource, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${oldMeta.uid ?? ''}`);
    }

    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...clone(old), status: candidate.status };
    } else if (subresource === 'finalize') {
      const spec = isPlainObject(old.spec) ? { ...old.spec } : {};
      const finalizers = isPlainObject(candidate.spec) ? candidate.spec.finalizers : undefined;
      if (finalizers === undefined) delete spec.finalizers;
      else spec.finalizers = finalizers;
      next = { ...clone(old), spec };
    } else {
      next = candidate;
      const nextMeta: Record<string, unknown> = metaOf(next);
      for (const field of SYSTEM_FIELDS) {
        if (oldMeta[field] === undefined) delete nextMeta[field];
        else nextMeta[field] = oldMeta[field];
      }
      if (kind.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
      kind.defaults?.(next);
      kind.prepareUpdate?.(next, old);
    }
    const nextMeta = metaOf(next);
    nextMeta.resourceVersion = oldMeta.resourceVersion;
    nextMeta.managedFields = oldMeta.managedFields;

    if (!ctx.direct) {
      this.admitNamespace(kind, namespace, name, 'update');
      this.validate(kind, next, old);
    }
    const key = this.key(kind, namespace, name);
    const before = this.canonical(kind, old);
    let after = this.canonical(kind, next);
    if (jsonEqual(after, before)) return { code: 200, body: this.present(kind, stored) }; // no-op: no write, same RV

    const changedSpec = (o: KubeObject): KubeObject => {
      const { metadata: _m, status: _s, ...rest } = o;
      return rest;
    };
    if (kind.hasGeneration && !jsonEqual(changedSpec(next), changedSpec(old))) nextMeta.generation = (oldMeta.generation ?? 0) + 1;
    nextMeta.managedFields = updateManagedFields(
      oldMeta.managedFields,
      old,
      next,
      { manager: ctx.manager, operation: 'Update', apiVersion: kind.apiVersion, time: this.now(), subresource },
      kind.fullShape,
    );
    after = this.canonical(kind, next);

    // Emptying the finalizers of an object being deleted removes it; the answer is the updated object.
    const grace = oldMeta.deletionGracePeriodSeconds;
    if (oldMeta.deletionTimestamp && !this.pendingFinalizers(kind, next) && (grace === undefined || grace === 0)) {
      if (!ctx.dryRun) this.store.remove(kind.table, key);
      return { code: 200, body: this.present(kind, after) };
    }
    const written = ctx.dryRun ? after : this.store.put(kind.table, key, after);
    return { code: 200, body: this.present(kind, written) };
  }

  delete(kind: ResourceKind, namespace: string | undefined, name: string, body: unknown, ctx: WriteContext): RestResult {
    const stored = this.stored(kind, namespace, name);
    const obj = this.toApi(kind, stored);
    const meta = metaOf(obj);
    const preconditions = isPlainObject(body) && isPlainObject(body.preconditions) ? body.preconditions : {};
    if (typeof preconditions.uid === 'string' && preconditions.uid !== meta.uid) {
      throw errors.conflict(kind.groupResource, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${meta.uid ?? ''}`);
    }
    if (typeof preconditions.resourceVersion === 'string' && preconditions.resourceVersion !== meta.resourceVersion) {
      throw errors.conflict(kind.groupResource, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`);
    }
    const key = this.key(kind, namespace, name);
    const write = (o: KubeObject): RestResult => {
      const written = ctx.dryRun ? this.canonical(kind, o) : this.store.put(kind.table, key, this.canonical(kind, o));
      return { code: 200, body: this.present(kind, written) };
    };

    if (kind.group === '' && kind.plural === 'namespaces') {
      if (!ctx.direct && IMMORTAL_NAMESPACES.includes(name)) throw errors.forbidden(NAMESPACES, name, 'this namespace may not be deleted');
      if (!meta.deletionTimestamp) {
        // First DELETE: Terminating; the "kubernetes" finalizer keeps it until /finalize (no namespace controller here).
        meta.deletionTimestamp = this.now();
        obj.status = { ...(isPlainObject(obj.status) ? obj.status : {}), phase: 'Terminating' };
        return write(obj);
      }
      if (kind.hasPendingFinalizers?.(obj)) {
        throw errors.conflict(NAMESPACES, name, 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');
      }
    }

    if (hasFinalizers(meta)) {
      if (meta.deletionTimestamp) return { code: 200, body: this.present(kind, stored) };
      meta.deletionTimestamp = this.now();
      meta.deletionGracePeriodSeconds = 0;
      if ((meta.generation ?? 0) > 0) meta.generation = (meta.generation ?? 0) + 1;
      return write(obj);
    }
    const removed = ctx.dryRun ? stored : this.store.remove(kind.table, key);
    if (!removed) throw errors.notFound(kind.groupResource, name);
    const answer: StatusBody | KubeObject = kind.returnDeletedObject
      ? this.present(kind, removed)
      : deleteSuccess(kind.groupResource, name, meta.uid ?? '');
    return { code: 200, body: answer };
  }

  /** DELETE on a collection: deletes every selected object, answers the list of what was deleted. */
  deleteCollection(kind: ResourceKind, namespace: string | undefined, params: URLSearchParams, body: unknown, ctx: WriteContext): RestResult {
    const filter = objectFilter(kind, namespace, params);
    const items: KubeObject[] = [];
    for (const entry of this.store.list(kind.table, kind.namespaced ? namespace : undefined)) {
      const view = this.present(kind, entry.object);
      if (!filter(view)) continue;
      const meta = metaOf(view);
      try {
        const result = this.delete(kind, meta.namespace, meta.name ?? '', body, ctx);
        if (isPlainObject(result.body) && result.body.kind !== 'Status') {
          const item = result.body as KubeObject;
          delete item.kind;
          delete item.apiVersion;
          items.push(item);
        } else {
          delete view.kind;
          delete view.apiVersion;
          items.push(view);
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
      }
    }
    return { code: 200, body: { kind: kind.listKind, apiVersion: kind.apiVersion, metadata: { resourceVersion: String(this.store.currentResourceVersion) }, items } };
  }

  /** Removes an object regardless of finalizers (test helper): DELETED event, no answer body. */
  forceRemove(kind: ResourceKind, namespace: string | undefined, name: string): boolean {
    return this.store.remove(kind.table, this.key(kind, namespace, name)) !== undefined;
  }

  kindOf(obj: KubeObject): ResourceKind {
    const kind = this.kinds.forObject(obj.apiVersion, obj.kind);
    if (!kind) throw new Error(`fake-apiserver: no kind registered for ${String(obj.apiVersion)} ${String(obj.kind)}`);
    return kind;
  }
}
