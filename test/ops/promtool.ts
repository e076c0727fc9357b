/**
 * promtool (Debian's `prometheus` package) for the alerting-rule tests: where it is, the rendered
 * rule groups written to a directory, and `promtool check rules` / `promtool test rules` runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { type K8sObject, type RenderOptions, only, renderChart } from '../chart/helm.js';

export const INSTALL_HINT = "install Debian's prometheus package for promtool";

function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'promtool');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const promtool = findPromtool();
/** In CI a missing promtool fails the tests (.ci/run installs it); elsewhere they are skipped with one line. */
export const skipWithoutPromtool = promtool === undefined && !process.env.CI;
if (skipWithoutPromtool) console.log(`promtool tests skipped: ${INSTALL_HINT}`);

export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runPromtool(args: string[], cwd?: string): Promise<PromtoolResult> {
  if (promtool === undefined) throw new Error(INSTALL_HINT);
  return new Promise((resolve) => {
    execFile(promtool, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: Rule[];
}

/** The chart's rule groups with the PrometheusRule enabled (release rcw in kyma-system unless overridden). */
export async function renderRuleGroups(options: RenderOptions = {}): Promise<RuleGroup[]> {
  const objects = await renderChart({ ...options, set: { 'metrics.prometheusRule.enabled': true, ...options.set } });
  const rule: K8sObject = only(objects, 'PrometheusRule');
  return rule.spec.groups as RuleGroup[];
}

/** A Prometheus rule file. */
export function ruleFile(groups: RuleGroup[]): string {
  return stringify({ groups }, { lineWidth: 0 });
}

export async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'rcw-promtool-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` on the groups. */
export function checkRules(groups: RuleGroup[]): Promise<PromtoolResult> {
  return withDir(async (dir) => {
    writeFileSync(join(dir, 'rules.yaml'), ruleFile(groups));
    return runPromtool(['check', 'rules', 'rules.yaml'], dir);
  });
}
