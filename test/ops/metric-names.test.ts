import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { captureLogs } from '../support/log-capture.js';
import { devCertificates } from '../support/webhook.js';
import { dashboardExpressions, readDashboard } from './dashboard.js';
import { metricNames } from './promql.js';
import { type RuleGroup, renderRuleGroups } from './promtool.js';

/**
 * Names from other exporters that the rules and the dashboard may use, and from which one. Kept short on
 * purpose: every other name must be one our server exports.
 */
const EXTERNAL = new Map([
  ['up', 'Prometheus (scrape health)'],
  ['kube_deployment_status_replicas_available', 'kube-state-metrics'],
  ['kube_deployment_spec_replicas', 'kube-state-metrics'],
  ['kube_pod_container_resource_limits', 'kube-state-metrics'],
  ['container_memory_working_set_bytes', 'kubelet (cAdvisor)'],
]);

/** Names a scrape of the exposition yields: samples, and each histogram's and summary's series. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1] as string);
  }
  return names;
}

describe('metric names in the rules and the dashboard', () => {
  let server: RunningServer;
  let exported: Set<string>;
  let groups: RuleGroup[];

  beforeAll(async () => {
    // The whole production server, process metrics on as in production, on loopback ports.
    const pair = await devCertificates();
    const config = parseConfig(
      [],
      { PORT: '0', PROBE_PORT: '0', HOST: '127.0.0.1', CERT_DIR: pair.dir, RESOLVER_SOURCE: 'off', KUBECONFIG: '/nonexistent', SHUTDOWN_DELAY: '0' },
      { hostname: 'test-pod', serviceAccountNamespace: undefined },
    );
    server = await startServer(config, captureLogs('warn').log, { processMetrics: true });
    const response = await fetch(`http://127.0.0.1:${server.probePort}/metrics`);
    exported = exportedNames(await response.text());
    groups = await renderRuleGroups();
  });
  afterAll(async () => {
    await server?.shutdown('test end');
  });

  it('finds metric names in PromQL, not functions, keywords, labels or durations', () => {
    expect(
      metricNames('sum by (namespace, pod) (rate(a_total{code=~"5..",x="y"}[5m]) or b_total offset 1m) / on (pod) group_left () c:d:rate5m > 1e3 and label_replace(e, "o", "v", "", "")'),
    ).toEqual(['a_total', 'b_total', 'c:d:rate5m', 'e']);
  });

  it('the live server exports every name of ours the rules and panels use', () => {
    const records = new Set(groups.flatMap((g) => g.rules).flatMap((r) => (r.record ? [r.record] : [])));
    const uses = [
      ...groups.flatMap((g) => g.rules).map((r) => ({ where: r.record ?? `alert ${r.alert}`, expr: r.expr })),
      ...dashboardExpressions(readDashboard()),
    ];
    const unknown: string[] = [];
    for (const { where, expr } of uses) {
      for (const name of metricNames(expr)) {
        const known = name.includes(':') ? records.has(name) : exported.has(name) || EXTERNAL.has(name);
        if (!known) unknown.push(`${where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    // The scan saw names at all (a broken extractor would pass the check above).
    expect(uses.flatMap((u) => metricNames(u.expr)).length).toBeGreaterThan(50);
  });

  it("the names of ours used include the new ones, exported before they are fed", () => {
    for (const name of [
      'registry_config_webhook_certificate_ca_in_bundle',
      'registry_config_webhook_resolver_max_staleness_seconds',
      'registry_config_webhook_propagation_throttled_total',
      'registry_config_webhook_propagation_write_duration_seconds_bucket',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(exported.has(name), name).toBe(true);
    }
  });
});
