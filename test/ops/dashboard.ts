import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR } from '../chart/helm.js';

export const DASHBOARD_FILE = join(CHART_DIR, 'dashboards', 'registry-config-webhook.json');

export interface Panel {
  type: string;
  title: string;
  targets?: { expr: string; legendFormat?: string }[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: panel targets, and the selectors inside label_values() of its variables. */
export function dashboardExpressions(dashboard: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) out.push({ where: `panel "${panel.title}"`, expr: target.expr });
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query' || variable.query === undefined) continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const inner = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1] ?? query;
    out.push({ where: `variable $${variable.name}`, expr: inner });
  }
  return out;
}
