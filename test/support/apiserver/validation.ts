/**
 * Validation helpers shared by kinds, with apimachinery's messages: object names, label keys and
 * values, qualified names, and the decoding rules of metav1.Time / metav1.MicroTime / []byte.
 */
import { fieldErrors, type FieldError } from './status.js';
import { isPlainObject, type ObjectMeta } from './types.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${fmt}')`;
}

const full = (pattern: string): RegExp => new RegExp(`^${pattern}$`);

export function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(value)) {
    errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, 'my-name', '123-abc'));
  }
  return errs;
}

export function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(value)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, 'example.com'));
  }
  return errs;
}

/** IsQualifiedName: `[prefix/]name`, e.g. label keys and Event reportingController. */
export function qualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0] ?? '';
  else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!full(QUALIFIED_NAME).test(name)) {
    errs.push(`name part ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

export function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!full(LABEL_VALUE).test(value)) {
    errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** ValidateObjectMeta essentials: name (DNS subdomain or label), labels, annotation keys, finalizers. */
export function validateObjectMeta(meta: ObjectMeta, nameRule: 'subdomain' | 'label' | 'none'): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta.name ?? '';
  if (!name && !meta.generateName) errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  else if (name && nameRule !== 'none') {
    for (const m of nameRule === 'label' ? dns1123Label(name) : dns1123Subdomain(name)) errs.push(fieldErrors.invalid('metadata.name', name, m));
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    for (const m of qualifiedName(key)) errs.push(fieldErrors.invalid('metadata.labels', key, m));
    if (typeof value !== 'string') errs.push(fieldErrors.invalid(`metadata.labels`, value, 'must be a string'));
    else for (const m of labelValue(value)) errs.push(fieldErrors.invalid('metadata.labels', value, m));
  }
  for (const key of Object.keys(meta.annotations ?? {})) {
    for (const m of qualifiedName(key.toLowerCase())) errs.push(fieldErrors.invalid('metadata.annotations', key, m));
  }
  (meta.finalizers ?? []).forEach((finalizer, i) => {
    if (typeof finalizer !== 'string') return;
    for (const m of qualifiedName(finalizer)) errs.push(fieldErrors.invalid(`metadata.finalizers[${i}]`, finalizer, m));
  });
  return errs;
}

// ---- time decoding ----

const RFC3339_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;

/**
 * metav1.MicroTime decoding: Go's time.Parse with "2006-01-02T15:04:05.000000Z07:00", which demands
 * exactly six fractional digits. Returns the value as the server re-serialises it (UTC), or the
 * Go parse error text.
 */
export function parseMicroTime(value: string): { ok: true; value: string } | { ok: false; error: string } {
  const layout = '2006-01-02T15:04:05.000000Z07:00';
  const fail = (rest: string, elem: string) => ({ ok: false as const, error: `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}` });
  const head = RFC3339_SECONDS.exec(value);
  if (!head) return fail(value, '2006');
  const rest = value.slice(head[0].length);
  const frac = /^\.(\d{6})(?!\d)/.exec(rest);
  if (!frac) return fail(rest, '.000000');
  const zone = rest.slice(frac[0].length);
  if (!/^(Z|[+-]\d{2}:\d{2})$/.test(zone)) return fail(zone, 'Z07:00');
  const date = new Date(`${value.slice(0, head[0].length)}.${(frac[1] ?? '').slice(0, 3)}${zone}`);
  if (Number.isNaN(date.getTime())) return fail(value, '2006');
  const micros = (frac[1] ?? '000000').slice(3);
  return { ok: true, value: `${date.toISOString().slice(0, 23)}${micros}Z` };
}

/** metav1.Time decoding: any RFC 3339 timestamp; serialised back with whole seconds in UTC. */
export function parseTime(value: string): { ok: true; value: string } | { ok: false; error: string } {
  const date = new Date(value);
  if (!RFC3339_SECONDS.test(value) || Number.isNaN(date.getTime())) {
    return { ok: false, error: `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)} as "2006"` };
  }
  return { ok: true, value: date.toISOString().replace(/\.\d+Z$/, 'Z') };
}

/** Go's base64.StdEncoding.DecodeString error for []byte fields, or undefined when valid. */
export function base64Error(value: string): string | undefined {
  const bad = value.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  const padAt = value.indexOf('=');
  if (padAt >= 0 && !/^={1,2}$/.test(value.slice(padAt))) return `illegal base64 data at input byte ${padAt}`;
  if (value.length % 4 !== 0) return `illegal base64 data at input byte ${value.length - (value.length % 4)}`;
  return undefined;
}

/** Reads a nested string field, '' when absent (Go's zero value). */
export function str(obj: unknown, ...path: string[]): string {
  let node: unknown = obj;
  for (const key of path) node = isPlainObject(node) ? node[key] : undefined;
  return typeof node === 'string' ? node : '';
}
