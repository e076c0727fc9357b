/**
 * Resource kinds the fake serves. A plain kind is one line:
 *   registry.register({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true })
 * Hooks add the per-kind server behaviour (defaults, validation, decoding rules, output shape).
 */
import { objectShape, type Shape } from './shape.js';
import type { FieldError, GroupKind, GroupResource } from './status.js';
import type { KubeObject, Verb } from './types.js';

export interface ValidationContext {
  /** The stored object on update; undefined on create. */
  readonly old?: KubeObject;
}

export interface ResourceKindDefinition {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Defaults to lowercase kind. */
  readonly singular?: string;
  /** Defaults to `${kind}List`. */
  readonly listKind?: string;
  /** metadata.generation is kept: 1 on create, +1 whenever anything outside metadata/status changes. */
  readonly hasGeneration?: boolean;
  /** Verbs served; default all. */
  readonly verbs?: readonly Verb[];
  /** Not stored: create-only reviews the server answers itself (TokenReview, SubjectAccessReview, ...). */
  readonly review?: boolean;
  /** Key order / omitempty of the kind's own fields (kind, apiVersion, metadata are handled). */
  readonly shape?: Shape;
  /**
   * Top-level fields Go always serialises, with their zero value, when unset (non-pointer structs,
   * strings without omitempty): added to every answer and BOOKMARK, never stored (e.g. Namespace `spec: {}`).
   */
  readonly zeroValues?: Readonly<Record<string, unknown>>;
  /** GroupKind named by 422 Invalid errors (events.k8s.io validates as core Event). */
  readonly invalidKind?: GroupKind;
  /** name validation rule for metadata.name (default: DNS-1123 subdomain). */
  readonly nameRule?: 'subdomain' | 'label' | 'none';
  /** A `status` subresource: the main resource ignores status changes, /status changes only status. */
  readonly statusSubresource?: boolean;
  /** DELETE answers the deleted object instead of a Status (Namespaces). */
  readonly returnDeletedObject?: boolean;
  /** Extra `fieldSelector` fields besides metadata.name / metadata.namespace. */
  readonly fieldLabels?: (obj: KubeObject) => Record<string, string>;
  /** Objects share another kind's storage (events.k8s.io/v1 Events are core v1 Events). */
  readonly storage?: {
    readonly table: string;
    toStorage(obj: KubeObject): KubeObject;
    fromStorage(obj: KubeObject): KubeObject;
  };
  /** Decoding rules of the body (400 BadRequest via errors.undecodable). Mutates to the decoded form. */
  decode?(obj: KubeObject): void;
  /** Defaulting that runs on every write (create, update, patch), before field management. */
  defaults?(obj: KubeObject): void;
  /** Server-filled fields on create that do not count as the client's (after field management). */
  prepareCreate?(obj: KubeObject): void;
  /** Copy fields that an update of the main resource may not change (e.g. Namespace spec.finalizers). */
  prepareUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Validation of the stored form (see `storage`); `ctx.old` is the stored form too. */
  validate?(obj: KubeObject, ctx: ValidationContext): FieldError[];
  /** Besides metadata.finalizers, what keeps an object from being removed (Namespace spec.finalizers). */
  hasPendingFinalizers?(obj: KubeObject): boolean;
}

export interface ResourceKind extends ResourceKindDefinition {
  readonly singular: string;
  readonly listKind: string;
  readonly apiVersion: string;
  readonly groupResource: GroupResource;
  readonly table: string;
  readonly fullShape: Shape;
}

export function completeKind(def: ResourceKindDefinition): ResourceKind {
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  return {
    ...def,
    singular: def.singular ?? def.kind.toLowerCase(),
    listKind: def.listKind ?? `${def.kind}List`,
    apiVersion,
    groupResource: { group: def.group, resource: def.plural },
    table: def.storage?.table ?? (def.group ? `${def.plural}.${def.group}` : def.plural),
    fullShape: objectShape(def.shape),
  };
}

export class KindRegistry {
  private readonly kinds: ResourceKind[] = [];

  register(def: ResourceKindDefinition): ResourceKind {
    const kind = completeKind(def);
    const at = this.kinds.findIndex((k) => k.group === kind.group && k.version === kind.version && k.plural === kind.plural);
    if (at >= 0) this.kinds[at] = kind;
    else this.kinds.push(kind);
    return kind;
  }

  all(): readonly ResourceKind[] {
    return this.kinds;
  }

  find(group: string, version: string, plural: string): ResourceKind | undefined {
    return this.kinds.find((k) => k.group === group && k.version === version && k.plural === plural);
  }

  /** By apiVersion + kind of an object. */
  forObject(apiVersion: string | undefined, kind: string | undefined): ResourceKind | undefined {
    return this.kinds.find((k) => k.apiVersion === apiVersion && k.kind === kind);
  }

  /** By `plural`, `Kind`, `singular` or `plural.group` (first registered version wins). */
  resolve(name: string): ResourceKind | undefined {
    const lower = name.toLowerCase();
    return this.kinds.find((k) =>
      k.plural === lower || k.singular === lower || k.kind.toLowerCase() === lower || `${k.plural}.${k.group}` === lower,
    );
  }
}
