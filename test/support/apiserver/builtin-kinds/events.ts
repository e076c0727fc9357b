/**
 * Events: core v1 and events.k8s.io/v1 are two views of one storage (the core Event), as on a real
 * server. Validation follows ValidateEventCreate: core v1 requests get only the lax legacy rules,
 * events.k8s.io/v1 requests the strict ones; errors name internal (core) fields (recorded).
 */
import type { ResourceKindDefinition } from '../kinds.js';
import type { Shape } from '../shape.js';
import { errors, fieldErrors, type FieldError } from '../status.js';
import { isPlainObject, metaOf, type KubeObject } from '../types.js';
import { dns1123Subdomain, parseMicroTime, parseTime, qualifiedName, str } from '../validation.js';

const REFERENCE: Shape = {
  order: ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'],
  omitEmpty: ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'],
  atomic: true,
};
const SERIES: Shape = { order: ['count', 'lastObservedTime'] };
const SOURCE: Shape = { order: ['component', 'host'], omitEmpty: ['component', 'host'] };

/** events.k8s.io/v1 field <-> core v1 field. */
const RENAMES: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: KubeObject, pairs: ReadonlyArray<readonly [string, string]>, apiVersion: string): KubeObject {
  const out: KubeObject = {};
  const map = new Map(pairs);
  for (const [key, value] of Object.entries(obj)) out[map.get(key) ?? key] = value;
  out.apiVersion = apiVersion;
  return out;
}

const LIMIT = 128;
const NOTE_LIMIT = 1024;

/** ValidateEventCreate on the core (internal) form; `strict` for events.k8s.io/v1 requests. */
function validateEvent(event: KubeObject, strict: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = metaOf(event).namespace ?? '';
  const involvedNamespace = str(event, 'involvedObject', 'namespace');
  const hasEventTime = typeof event.eventTime === 'string' && event.eventTime !== '';
  const reportingField = strict ? 'reportingController' : 'reportingComponent';
  const mismatch = (): FieldError => fieldErrors.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');

  if (!hasEventTime) {
    if (involvedNamespace === '') {
      if (namespace !== '' && namespace !== 'default') errs.push(mismatch());
    } else if (namespace !== involvedNamespace) errs.push(mismatch());
  } else {
    if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch());
    const controller = str(event, 'reportingComponent');
    if (controller === '') errs.push(fieldErrors.required(reportingField));
    for (const m of qualifiedName(controller)) errs.push(fieldErrors.invalid(reportingField, controller, m));
    const checkLength = (field: string, limit: number): void => {
      const value = str(event, field);
      if (value === '' && field !== 'message') errs.push(fieldErrors.required(field));
      if (value.length > limit) errs.push(fieldErrors.invalid(field, '', `can have at most ${limit} characters`));
    };
    checkLength('reportingInstance', LIMIT);
    checkLength('action', LIMIT);
    checkLength('reason', LIMIT);
    checkLength('message', NOTE_LIMIT);
  }
  for (const m of dns1123Subdomain(namespace)) errs.push(fieldErrors.invalid('namespace', namespace, m));
  if (!strict) return errs;

  if (!hasEventTime) errs.push(fieldErrors.required('eventTime'));
  const type = str(event, 'type');
  if (type !== 'Normal' && type !== 'Warning') errs.push(fieldErrors.invalid('type', '', `has invalid value: ${type}`));
  if (event.firstTimestamp) errs.push(fieldErrors.invalid('firstTimestamp', '', 'needs to be unset'));
  if (event.lastTimestamp) errs.push(fieldErrors.invalid('lastTimestamp', '', 'needs to be unset'));
  if (event.count) errs.push(fieldErrors.invalid('count', '', 'needs to be unset'));
  if (str(event, 'source', 'component') || str(event, 'source', 'host')) errs.push(fieldErrors.invalid('source', '', 'needs to be unset'));
  return errs;
}

/** MicroTime fields must have six fractional digits; Time fields are normalised to whole seconds. */
function decodeTimes(obj: KubeObject, micro: readonly string[], time: readonly string[]): void {
  const fail = (detail: string): never => {
    throw errors.undecodable('Event', 'v1', detail);
  };
  const targets: Array<[Record<string, unknown>, string]> = micro.map((f) => [obj, f]);
  if (isPlainObject(obj.series)) targets.push([obj.series, 'lastObservedTime']);
  for (const [holder, field] of targets) {
    const value = holder[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') return fail(`json: cannot unmarshal ${typeof value} into Go value of type string`);
    const parsed = parseMicroTime(value);
    if (!parsed.ok) return fail(parsed.error);
    holder[field] = parsed.value;
  }
  for (const field of time) {
    const value = obj[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') return fail(`json: cannot unmarshal ${typeof value} into Go value of type string`);
    const parsed = parseTime(value);
    if (!parsed.ok) return fail(parsed.error);
    obj[field] = parsed.value;
  }
}

export const coreEvents: ResourceKindDefinition = {
  group: '',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
  shape: {
    order: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
    omitEmpty: ['reason', 'message', 'count', 'type', 'series', 'action', 'related'],
    fields: { involvedObject: REFERENCE, related: REFERENCE, source: SOURCE, series: SERIES },
  },
  zeroValues: { involvedObject: {}, source: {}, firstTimestamp: null, lastTimestamp: null, eventTime: null, reportingComponent: '', reportingInstance: '' },
  invalidKind: { group: '', kind: 'Event' },
  fieldLabels: (obj) => ({
    'involvedObject.kind': str(obj, 'involvedObject', 'kind'),
    'involvedObject.namespace': str(obj, 'involvedObject', 'namespace'),
    'involvedObject.name': str(obj, 'involvedObject', 'name'),
    'involvedObject.uid': str(obj, 'involvedObject', 'uid'),
    'involvedObject.apiVersion': str(obj, 'involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': str(obj, 'involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': str(obj, 'involvedObject', 'fieldPath'),
    reason: str(obj, 'reason'),
    reportingComponent: str(obj, 'reportingComponent'),
    source: str(obj, 'source', 'component'),
    type: str(obj, 'type'),
  }),
  decode: (obj) => decodeTimes(obj, ['eventTime'], ['firstTimestamp', 'lastTimestamp']),
  validate: (obj) => validateEvent(obj, false),
};

export const eventsV1Events: ResourceKindDefinition = {
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
  shape: {
    order: ['eventTime', 'series', 'reportingController', 'reportingInstance', 'action', 'reason', 'regarding', 'related', 'note', 'type', 'deprecatedSource', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount'],
    omitEmpty: ['series', 'reportingController', 'reportingInstance', 'action', 'reason', 'related', 'note', 'type', 'deprecatedCount'],
    fields: { regarding: REFERENCE, related: REFERENCE, deprecatedSource: SOURCE, series: SERIES },
  },
  zeroValues: { eventTime: null, regarding: {}, deprecatedSource: {}, deprecatedFirstTimestamp: null, deprecatedLastTimestamp: null },
  invalidKind: { group: '', kind: 'Event' },
  storage: {
    table: 'events',
    toStorage: (obj) => rename(obj, RENAMES, 'v1'),
    fromStorage: (obj) => rename(obj, RENAMES.map(([a, b]) => [b, a] as const), 'events.k8s.io/v1'),
  },
  fieldLabels: (obj) => ({
    'regarding.kind': str(obj, 'regarding', 'kind'),
    'regarding.namespace': str(obj, 'regarding', 'namespace'),
    'regarding.name': str(obj, 'regarding', 'name'),
    'regarding.uid': str(obj, 'regarding', 'uid'),
    'regarding.apiVersion': str(obj, 'regarding', 'apiVersion'),
    'regarding.resourceVersion': str(obj, 'regarding', 'resourceVersion'),
    'regarding.fieldPath': str(obj, 'regarding', 'fieldPath'),
    reason: str(obj, 'reason'),
    reportingController: str(obj, 'reportingController'),
    type: str(obj, 'type'),
  }),
  decode: (obj) => decodeTimes(obj, ['eventTime'], ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp']),
  validate: (obj) => validateEvent(obj, true),
};
