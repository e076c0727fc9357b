import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { reviewAdmission } from '../admission/webhook.js';
import type { AdmissionReviewResponse, JsonPatchOperation } from '../admission/types.js';
import { foldStringData } from '../kube/secret-data.js';
import { isRecord } from '../registry/guards.js';
import { mutateRegistrySecret } from '../registry/index.js';
import { createAddressPolicy } from '../credentials/address-policy.js';
import { loginTargetOf } from '../credentials/checker.js';
import { CHECK_ATTEMPT_TIMEOUT_MS, checkLogin, type Lookup } from '../credentials/login.js';
import { statusOf, type CredentialStatus } from '../credentials/outcome.js';
import type { SecretObject } from '../kube/objects.js';

export const EXIT_ALLOWED = 0;
export const EXIT_DENIED = 1;
export const EXIT_BAD_INPUT = 2;
/** `--check-credentials`: allowed, but the registry rejected the login or could not be reached. */
export const EXIT_CREDENTIALS = 3;

export interface ReviewCommandOptions {
  /** Show data values and the generated `.dockerconfigjson` instead of masking them. */
  showSecrets: boolean;
  /** `text` for people, `json` for scripts. */
  output: 'text' | 'json';
  /** Also log in to the registry as the server would (same rules), from this machine. */
  checkCredentials?: CredentialCheckOptions;
}

export interface CredentialCheckOptions {
  /** Configs here are trusted (http allowed, no address rules), as in the cluster. */
  systemNamespace: string;
  /** CREDENTIAL_CHECK_ALLOW's entries. */
  allow: readonly string[];
  /** Extra CA certificates (PEM) besides Node's list and NODE_EXTRA_CA_CERTS. */
  ca?: string;
  timeoutMs?: number;
  lookup?: Lookup;
}

export interface ReviewCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

class BadInput extends Error {}


/**
 * `registry-config-webhook review FILE|-`: the webhook's own decision, offline. Input is an
 * AdmissionReview (as the API server sends it) or a plain Secret manifest (JSON or YAML), which is
 * wrapped into a CREATE review after folding `stringData` into `data` as the API server would.
 */
export async function runReview(input: string, options: ReviewCommandOptions): Promise<ReviewCommandResult> {
  let body: Record<string, unknown>;
  try {
    body = toReview(parseDocument(input));
  } catch (err) {
    if (err instanceof BadInput) return { exitCode: EXIT_BAD_INPUT, stdout: '', stderr: `review: ${err.message}\n` };
    throw err;
  }
  const outcome = await reviewAdmission(body, mutateRegistrySecret);
  if (!outcome.ok) return { exitCode: EXIT_BAD_INPUT, stdout: '', stderr: `review: not a valid AdmissionReview: ${outcome.message}\n` };

  const response = outcome.response.response;
  const patch = decodePatch(outcome.response);
  const request = body.request as { object?: unknown };
  const patched = patch.length > 0 ? applyDataPatch(request.object, patch) : request.object;
  const show = options.showSecrets;
  const report = {
    decision: response.allowed ? 'allowed' : 'denied',
    ...(response.status ? { status: response.status } : {}),
    warnings: response.warnings ?? [],
    patch: patch.map((op) => (show || op.value === undefined ? op : { ...op, value: mask(op.value) })),
    object: show ? patched : maskSecret(patched),
  };
  const credentials = response.allowed && options.checkCredentials ? await checkCredentialsOf(patched, options.checkCredentials) : undefined;
  const exitCode = !response.allowed ? EXIT_DENIED : credentials?.state === 'rejected' || credentials?.state === 'unreachable' ? EXIT_CREDENTIALS : EXIT_ALLOWED;
  if (options.output === 'json') return { exitCode, stdout: `${JSON.stringify(credentials ? { ...report, credentials } : report, null, 2)}\n`, stderr: '' };

  const lines: string[] = [];
  lines.push(`Decision: ${response.allowed ? 'ALLOWED' : 'DENIED'}${response.status ? ` (${response.status.code}) ${response.status.message}` : ''}`);
  lines.push(`Warnings: ${report.warnings.length === 0 ? 'none' : ''}`);
  for (const w of report.warnings) lines.push(`  - ${w}`);
  lines.push(`Patch: ${report.patch.length === 0 ? 'none (nothing to change)' : ''}`);
  for (const op of report.patch) lines.push(`  ${JSON.stringify(op)}`);
  if (credentials) {
    const push = credentials.pushGranted === null ? '' : credentials.pushGranted ? ' (push granted)' : ' (push NOT granted)';
    lines.push(`Credentials: ${credentials.state.toUpperCase()}${push}: ${credentials.reason}`);
  }
  if (response.allowed) {
    lines.push(`Secret as it would be stored${show ? '' : ' (values masked; --show-secrets to reveal)'}:`);
    lines.push(JSON.stringify(report.object, null, 2));
  }
  return { exitCode, stdout: `${lines.join('\n')}\n`, stderr: '' };
}

/** The server's login check of the Secret as it would be stored, with the server's rules. */
async function checkCredentialsOf(object: unknown, options: CredentialCheckOptions): Promise<CredentialStatus> {
  const found = isRecord(object) ? loginTargetOf(object as SecretObject, options.systemNamespace) : undefined;
  if (found === undefined) return statusOf({ state: 'skipped', reason: 'not a registry config Secret' }, null);
  if (found.target === undefined) return statusOf({ state: 'skipped', reason: found.skip }, null);
  const outcome = await checkLogin(found.target, {
    policy: createAddressPolicy({ allow: options.allow }),
    timeoutMs: options.timeoutMs ?? CHECK_ATTEMPT_TIMEOUT_MS,
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  return statusOf(outcome, outcome.state === 'skipped' ? null : new Date());
}

function parseDocument(text: string): unknown {
  if (text.trim() === '') throw new BadInput('input is empty');
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: false });
  } catch {
    throw new BadInput('input is neither JSON nor YAML');
  }
  const list = Array.isArray(docs) ? docs : [docs];
  const contents = list.filter((d) => d.contents !== null);
  if (contents.length !== 1) throw new BadInput(`expected exactly one document, found ${contents.length}`);
  const doc = contents[0];
  // yaml error messages quote the input: name the position only.
  if (!doc || doc.errors.length > 0) throw new BadInput(`input is neither JSON nor YAML (${doc?.errors[0]?.code ?? 'parse error'})`);
  return doc.toJS() as unknown;
}

function toReview(document: unknown): Record<string, unknown> {
  if (!isRecord(document)) throw new BadInput('input must be an AdmissionReview or a Secret manifest');
  if (document.kind === 'AdmissionReview') return document;
  if (document.kind !== 'Secret') throw new BadInput(`input must be an AdmissionReview or a Secret manifest, not kind ${JSON.stringify(String(document.kind)).slice(0, 40)}`);
  const secret = structuredClone(document);
  const metadata = isRecord(secret.metadata) ? secret.metadata : {};
  secret.metadata = metadata;
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  metadata.namespace = namespace;
  // The API server folds stringData into data before admission: do the same.
  if (isRecord(secret.stringData)) {
    secret.data = foldStringData(isRecord(secret.data) ? secret.data : undefined, secret.stringData);
    delete secret.stringData;
  }
  secret.apiVersion ??= 'v1';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '00000000-0000-0000-0000-000000000000',
      kind: { group: '', version: 'v1', kind: 'Secret' },
      resource: { group: '', version: 'v1', resource: 'secrets' },
      name: metadata.name,
      namespace,
      operation: 'CREATE',
      object: secret,
      oldObject: null,
      dryRun: true,
    },
  };
}

function decodePatch(review: AdmissionReviewResponse): JsonPatchOperation[] {
  const encoded = review.response.patch;
  if (!encoded) return [];
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as JsonPatchOperation[];
}

/** Our patches only ever add or replace under /data; apply those without a general JSON patch engine. */
function applyDataPatch(object: unknown, patch: JsonPatchOperation[]): unknown {
  const copy = structuredClone(object) as Record<string, unknown>;
  for (const op of patch) {
    if (op.path === '/data') copy.data = op.value;
    else if (op.path.startsWith('/data/')) {
      const key = op.path.slice('/data/'.length).replace(/~1/g, '/').replace(/~0/g, '~');
      const data = isRecord(copy.data) ? copy.data : {};
      data[key] = op.value;
      copy.data = data;
    }
  }
  return copy;
}

function mask(value: unknown): string {
  if (isRecord(value)) return `<masked: ${Object.keys(value).length} keys>`;
  return `<masked: ${typeof value === 'string' ? Buffer.from(value, 'base64').length : 0} bytes>`;
}

function maskSecret(object: unknown): unknown {
  if (!isRecord(object)) return object;
  const copy = structuredClone(object);
  if (isRecord(copy.data)) for (const key of Object.keys(copy.data)) copy.data[key] = mask(copy.data[key]);
  const metadata = copy.metadata;
  if (isRecord(metadata)) {
    delete metadata.managedFields;
    if (isRecord(metadata.annotations)) for (const key of Object.keys(metadata.annotations)) metadata.annotations[key] = '<masked>';
  }
  return copy;
}

/** Reads FILE, or standard input for `-`. */
export function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}
