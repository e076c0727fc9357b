/**
 * Reading Secret manifests from files the way `kubectl apply` + the API server would store them:
 * YAML (multi-document) or JSON, `kind: Secret` (also inside `kind: List`), `stringData` folded
 * into base64 `data`, namespace defaulting to `default`. Errors never quote file content.
 */
import { parseAllDocuments } from 'yaml';
import type { SecretObject } from '../kube/objects.js';
import { foldStringData } from '../kube/secret-data.js';
import { isRecord } from '../registry/guards.js';

export type ManifestResult = { ok: true; secrets: SecretObject[] } | { ok: false; reason: string };

/** Manifests whose name ends like this are read; anything else in the directory is ignored. */
export const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The Secrets in one file's text, or why the whole file is unusable. */
export function parseSecretManifests(fileName: string, text: string): ManifestResult {
  let documents: unknown[];
  if (/\.json$/i.test(fileName)) {
    try {
      documents = [JSON.parse(text) as unknown];
    } catch {
      // JSON.parse messages quote the input, which may hold a password.
      return { ok: false, reason: 'not valid JSON' };
    }
  } else {
    const parsed = parseAllDocuments(text, { prettyErrors: false });
    if (!Array.isArray(parsed)) return { ok: false, reason: 'not valid YAML' };
    documents = [];
    for (const document of parsed) {
      const first = document.errors[0];
      if (first) {
        const line = first.linePos?.[0]?.line;
        return { ok: false, reason: `not valid YAML (${first.code}${line !== undefined ? ` at line ${line}` : ''})` };
      }
      try {
        documents.push(document.toJS({ maxAliasCount: 100 }) as unknown);
      } catch {
        return { ok: false, reason: 'not valid YAML (aliases)' };
      }
    }
  }
  const secrets: SecretObject[] = [];
  for (const [i, document] of documents.entries()) {
    const problem = collectSecrets(document, secrets);
    if (problem) return { ok: false, reason: documents.length > 1 ? `document ${i + 1}: ${problem}` : problem };
  }
  return { ok: true, secrets };
}

/** Adds the Secrets in `document` to `out`; returns a problem, or undefined. Other kinds are ignored. */
function collectSecrets(document: unknown, out: SecretObject[]): string | undefined {
  if (document === null || document === undefined) return undefined; // empty document, e.g. a trailing `---`
  if (!isRecord(document)) return 'not an object';
  if (document.kind === 'List' && Array.isArray(document.items)) {
    for (const [i, item] of document.items.entries()) {
      const problem = collectSecrets(item, out);
      if (problem) return `item ${i + 1}: ${problem}`;
    }
    return undefined;
  }
  if (document.kind !== 'Secret') return undefined;
  if (document.apiVersion !== undefined && document.apiVersion !== 'v1') return 'a Secret must have apiVersion v1';
  const secret = normalizeSecret(document);
  if (typeof secret === 'string') return secret;
  out.push(secret);
  return undefined;
}

/** The fields resolution reads, as the API server would store them; or a problem naming a field. */
function normalizeSecret(document: Record<string, unknown>): SecretObject | string {
  const metadata = document.metadata;
  if (!isRecord(metadata)) return 'a Secret without metadata';
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') return 'a Secret without metadata.name';
  const namespace = metadata.namespace ?? 'default';
  if (typeof namespace !== 'string' || namespace === '') return `Secret ${name}: metadata.namespace is not a string`;
  const labels = stringMap(metadata.labels, 'metadata.labels');
  if (typeof labels === 'string') return `Secret ${namespace}/${name}: ${labels}`;
  const data = stringMap(document.data, 'data');
  if (typeof data === 'string') return `Secret ${namespace}/${name}: ${data}`;
  const stringData = stringMap(document.stringData, 'stringData');
  if (typeof stringData === 'string') return `Secret ${namespace}/${name}: ${stringData}`;
  const folded = foldStringData(data, stringData ?? {});
  const type = document.type;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...(labels ? { labels: { ...labels } } : {}) },
    ...(typeof type === 'string' ? { type } : {}),
    data: folded,
  };
}

/** A map of strings (absent is fine), or a problem naming the field and key, never the value. */
function stringMap(value: unknown, field: string): Record<string, string> | undefined | string {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return `${field} is not a map`;
  // No prototype: a key named `__proto__` stays a plain key.
  const result: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') return `${field}.${key} is not a string (quote it)`;
    result[key] = item;
  }
  return result;
}
