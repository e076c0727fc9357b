import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../scripts/helm.mjs';
import { helmLint, helmTemplateRaw, ofKind, renderChart } from '../chart/helm.js';
import { validateObject } from '../chart/validate.js';
import { type Rule, type RuleGroup, checkRules, renderRuleGroups, ruleFile, runPromtool, skipWithoutPromtool, withDir } from './promtool.js';

const RULE_TESTS_DIR = join(projectRoot, 'test', 'ops', 'rule-tests');
const RUNBOOK = join(projectRoot, 'docs', 'runbook.md');
const ruleTestFiles = readdirSync(RULE_TESTS_DIR).filter((f) => f.endsWith('.yaml'));

const alertsOf = (groups: RuleGroup[]): Rule[] => groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
const alertNames = (groups: RuleGroup[]): string[] => [...new Set(alertsOf(groups).map((r) => r.alert as string))].sort();

interface AlertCase {
  alertname: string;
  exp_alerts?: unknown[];
}
interface UnitTestFile {
  tests: { alert_rule_test?: AlertCase[] }[];
}

describe('the PrometheusRule of the chart', () => {
  let groups: RuleGroup[];
  beforeAll(async () => {
    groups = await renderRuleGroups();
  });

  it('is not rendered by default', async () => {
    expect(ofKind(await renderChart(), 'PrometheusRule')).toEqual([]);
  });

  it('renders a valid PrometheusRule that helm lint accepts, with the dashboard too', async () => {
    const set = { 'metrics.prometheusRule.enabled': true, 'metrics.grafanaDashboard.enabled': true };
    const [rule] = ofKind(await renderChart({ set }), 'PrometheusRule');
    validateObject(rule as NonNullable<typeof rule>);
    const lint = await helmLint({ set });
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
  });

  it('rejects nonsense thresholds with the schema', async () => {
    for (const [key, value] of [['metrics.prometheusRule.alerts.reviewErrors.ratio', 2], ['metrics.prometheusRule.alerts.latency.for', 'ten minutes'], ['metrics.prometheusRule.alerts.down.severity', 'page']] as const) {
      const result = await helmTemplateRaw({ set: { 'metrics.prometheusRule.enabled': true, [key]: value } });
      expect(result.code, key).not.toBe(0);
      expect(result.stderr, key).toContain(key.split('.').pop() as string);
    }
  });

  it.skipIf(skipWithoutPromtool)('passes `promtool check rules`', async () => {
    const result = await checkRules(groups);
    expect(result.stderr + result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it.skipIf(skipWithoutPromtool)('passes the `promtool test rules` unit tests of test/ops/rule-tests', async () => {
    await withDir(async (dir) => {
      writeFileSync(join(dir, 'rules.yaml'), ruleFile(groups));
      for (const file of ruleTestFiles) copyFileSync(join(RULE_TESTS_DIR, file), join(dir, file));
      const result = await runPromtool(['test', 'rules', ...ruleTestFiles], dir);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    });
  });

  it('has, for every alert, a unit test where it fires and one where it stays silent', () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const file of ruleTestFiles) {
      const unit = parse(readFileSync(join(RULE_TESTS_DIR, file), 'utf8')) as UnitTestFile;
      for (const test of unit.tests) {
        for (const c of test.alert_rule_test ?? []) (c.exp_alerts?.length ? firing : silent).add(c.alertname);
      }
    }
    const names = alertNames(groups);
    expect(names.length).toBeGreaterThanOrEqual(13);
    for (const name of names) {
      expect(firing.has(name), `${name} fires in some unit test`).toBe(true);
      expect(silent.has(name), `${name} stays silent in some unit test`).toBe(true);
    }
  });

  it('gives every alert a severity, a one-line summary, a description with its subject and figure, and a runbook section', () => {
    const runbook = readFileSync(RUNBOOK, 'utf8');
    // GitHub's anchor of a heading that is just the alert name is its lower-case form.
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (\S+)\s*$/gm)].map((m) => (m[1] as string).toLowerCase()));
    // Alerts about the Deployment or the lease name the Deployment or namespace instead of a pod.
    const notPerPod = new Set(['RegistryConfigWebhookDown', 'RegistryConfigWebhookDegraded', 'RegistryConfigWebhookPropagationNoLeader']);
    for (const rule of alertsOf(groups)) {
      const name = rule.alert as string;
      expect(['critical', 'warning'], name).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, name).toMatch(/^[^\n]{10,140}$/);
      const description = rule.annotations?.description ?? '';
      if (notPerPod.has(name)) expect(description, name).toMatch(/Deployment|\$labels\.namespace/);
      else expect(description, name).toContain('{{ $labels.pod }}');
      if (name !== 'RegistryConfigWebhookDown') expect(description, name).toContain('$value');
      const url = rule.annotations?.runbook_url ?? '';
      expect(url, name).toBe(`https://github.com/kyma-project/registry-config-webhook/blob/main/docs/runbook.md#${name.toLowerCase()}`);
      expect(anchors.has(name.toLowerCase()), `docs/runbook.md has a section "## ${name}"`).toBe(true);
    }
  });

  it('takes thresholds, for, labels and the runbook URL from values, and the timeout from webhook.timeoutSeconds', async () => {
    const custom = await renderRuleGroups({
      values: {
        webhook: { timeoutSeconds: 10 },
        metrics: {
          prometheusRule: {
            enabled: true,
            labels: { release: 'kube-prometheus-stack' },
            alertLabels: { team: 'serverless' },
            runbookUrl: 'https://runbooks.example.com/rcw.md',
            selector: 'namespace="kyma-system",pod=~"rcw-.+"',
            alerts: { reviewErrors: { ratio: 0.2, for: '2m' }, eventLoopLag: { enabled: false } },
          },
        },
      },
    });
    const rules = custom.flatMap((g) => g.rules);
    expect(rules.find((r) => r.record === 'namespace:registry_config_webhook_review_timeout:seconds')?.expr).toBe('vector(10)');
    const errors = rules.find((r) => r.alert === 'RegistryConfigWebhookReviewErrors');
    expect(errors?.expr).toContain('> 0.2');
    expect(errors?.for).toBe('2m');
    expect(errors?.labels).toEqual({ severity: 'critical', team: 'serverless' });
    expect(errors?.annotations?.runbook_url).toBe('https://runbooks.example.com/rcw.md#registryconfigwebhookreviewerrors');
    expect(rules.find((r) => r.record === 'namespace_pod:controller_runtime_webhook_requests:rate5m')?.expr).toContain('{namespace="kyma-system",pod=~"rcw-.+"}');
    expect(rules.some((r) => r.alert === 'RegistryConfigWebhookEventLoopLag')).toBe(false);
    const [object] = ofKind(await renderChart({ values: { metrics: { prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } } } } }), 'PrometheusRule');
    expect(object?.metadata.labels?.release).toBe('kube-prometheus-stack');
  });

  it('leaves out the no-leader alert when propagation is off', async () => {
    expect(alertNames(await renderRuleGroups({ set: { 'config.propagation.mode': 'off' } }))).not.toContain('RegistryConfigWebhookPropagationNoLeader');
    expect(alertNames(groups)).toContain('RegistryConfigWebhookPropagationNoLeader');
  });
});
