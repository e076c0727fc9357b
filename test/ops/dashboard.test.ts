import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ofKind, only, renderChart } from '../chart/helm.js';
import { validateObject } from '../chart/validate.js';
import { DASHBOARD_FILE, allPanels, dashboardExpressions, readDashboard } from './dashboard.js';
import { metricNames, withoutGrafanaVariables } from './promql.js';
import { type RuleGroup, ruleFile, runPromtool, skipWithoutPromtool, withDir } from './promtool.js';

describe('the Grafana dashboard', () => {
  const dashboard = readDashboard();

  it('is rendered as a ConfigMap labelled for the Grafana sidecar when enabled', async () => {
    const objects = await renderChart({
      values: { metrics: { grafanaDashboard: { enabled: true, namespace: 'monitoring', annotations: { grafana_folder: 'Kyma' } } } },
    });
    const configMap = only(objects, 'ConfigMap', 'rcw-registry-config-webhook-dashboard');
    validateObject(configMap);
    expect(configMap.metadata.namespace).toBe('monitoring');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Kyma' });
    expect(Object.keys(configMap.data)).toEqual(['registry-config-webhook.json']);
    expect(JSON.parse(configMap.data['registry-config-webhook.json'])).toEqual(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
  });

  it('is not rendered by default', async () => {
    expect(ofKind(await renderChart(), 'ConfigMap')).toEqual([]);
  });

  it('has a panel for each thing the operator watches', () => {
    const panels = allPanels(dashboard).filter((p) => p.type !== 'row');
    const shown = (name: string) => panels.some((p) => (p.targets ?? []).some((t) => metricNames(t.expr).includes(name)));
    const wanted = {
      'reviews per second by outcome': 'namespace_pod_outcome:registry_config_webhook_reviews:rate5m',
      'latency p50': 'namespace_pod:controller_runtime_webhook_latency_seconds:p50',
      'latency p99': 'namespace_pod:controller_runtime_webhook_latency_seconds:p99',
      'the timeout': 'namespace:registry_config_webhook_review_timeout:seconds',
      'in flight': 'controller_runtime_webhook_requests_in_flight',
      'shed load': 'namespace_pod:registry_config_webhook_requests_shed:rate5m',
      'certificate expiry': 'namespace_pod_certificate:registry_config_webhook_certificate_time_to_expiry:seconds',
      'CA in the caBundle': 'registry_config_webhook_certificate_ca_in_bundle',
      'resolver index size': 'registry_config_webhook_resolver_index_secrets',
      'resolver freshness': 'namespace_pod:registry_config_webhook_resolver_index_age:seconds',
      'propagation queue': 'registry_config_webhook_propagation_queue_depth',
      'propagation writes': 'namespace_pod_verb:registry_config_webhook_propagation_writes:rate5m',
      'propagation errors': 'namespace_pod:registry_config_webhook_propagation_reconcile_errors:rate5m',
      'propagation 429s': 'namespace_pod:registry_config_webhook_propagation_throttled:rate5m',
      'memory': 'container_memory_working_set_bytes',
      'memory limit': 'kube_pod_container_resource_limits',
    };
    const missing = Object.entries(wanted).filter(([, name]) => !shown(name)).map(([what]) => what);
    expect(missing).toEqual([]);
    // Per pod: every panel target is scoped by the $pod variable.
    for (const panel of panels) for (const target of panel.targets ?? []) if (!target.expr.includes('review_timeout')) expect(target.expr, panel.title).toContain('pod=~"$pod"');
  });

  it.skipIf(skipWithoutPromtool)('has expressions that all parse (promtool, as throwaway recording rules)', async () => {
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThan(20);
    const groups: RuleGroup[] = [
      { name: 'dashboard-expressions', rules: expressions.map(({ expr }, i) => ({ record: `dashboard_expression_${i}`, expr: withoutGrafanaVariables(expr) })) },
    ];
    await withDir(async (dir) => {
      writeFileSync(join(dir, 'panels.yaml'), ruleFile(groups));
      const result = await runPromtool(['check', 'rules', 'panels.yaml'], dir);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain(`SUCCESS: ${expressions.length} rules found`);
    });
  });
});
