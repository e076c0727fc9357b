/**
 * `helm template` of charts/registry-config-webhook for each certificate mode and for non-default values,
 * with assertions on the rendered objects and kubernetes-models schema validation of every object.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import {
  DEFAULT_REGISTRY_SECRET_NAME,
  DEFAULT_SYSTEM_NAMESPACE,
  REGISTRY_SECRET_NAME,
  REMOTE_REGISTRY_LABEL,
  REMOTE_REGISTRY_LABEL_VALUE,
} from '../../src/registry/labels.js';
import { DEFAULT_PROPAGATION_EXCLUDE, parseExcludeSelector } from '../../src/propagation/exclude.js';
import { CHART_DIR, FULLNAME, type K8sObject, NAMESPACE, RELEASE, type RenderOptions, ofKind, only, renderChart } from './helm.js';
import { validateObject } from './validate.js';

const WEBHOOK_NAME = 'mutating.secret.webhook.serverless.kyma-project.io';
const SELECTOR = { 'app.kubernetes.io/name': 'registry-config-webhook', 'app.kubernetes.io/instance': RELEASE };
const DEFAULT_EXCLUDED = ['kube-system', 'kube-public', 'kube-node-lease'];
const FAKE_CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeCAforChartTestsOnly0123456789abcdef\n-----END CERTIFICATE-----\n';

/** The scenarios every generic assertion (schema validation, RBAC, pod hardening) runs on. */
const SCENARIOS: Record<string, RenderOptions> = {
  selfManaged: {},
  certManager: { set: { 'certificates.mode': 'certManager' } },
  certManagerOwnIssuer: {
    values: { certificates: { mode: 'certManager', certManager: { issuerRef: { name: 'cluster-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } } },
  },
  secret: { values: { certificates: { mode: 'secret', secret: { name: 'my-webhook-tls', caBundle: FAKE_CA_PEM } } } },
  nonDefault: {
    release: RELEASE,
    values: {
      replicaCount: 5,
      priorityClassName: 'system-cluster-critical',
      image: { digest: `sha256:${'a'.repeat(64)}` },
      podAntiAffinity: 'hard',
      topologySpreadConstraints: [],
      terminationGracePeriodSeconds: 45,
      resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      podDisruptionBudget: { enabled: true, minAvailable: 2 },
      webhook: {
        configurationName: 'registry-config.example.com',
        failurePolicy: 'Ignore',
        timeoutSeconds: 10,
        namespaceSelector: {
          excludeNamespaces: ['kube-system', 'istio-system'],
          matchLabels: { tier: 'apps' },
          matchExpressions: [{ key: 'team', operator: 'Exists' }],
        },
      },
      config: {
        systemNamespace: 'serverless-system',
        logLevel: 'debug',
        host: '::',
        propagation: { mode: 'off' },
        auth: { mode: 'off' },
        shutdown: { delaySeconds: 10, timeoutSeconds: 20 },
      },
      extraEnv: [{ name: 'UV_THREADPOOL_SIZE', value: '8' }],
      defaultRegistry: {
        create: true,
        registryAddress: 'registry.example.com/kyma',
        serverAddress: 'registry.example.com',
        pullRegAddr: 'localhost:32137',
        pushRegAddr: 'registry.example.com',
        username: 'kyma',
        password: 's3cr3t',
      },
      metrics: { scrapeAnnotations: true, serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } },
    },
  },
  credentialCheck: {
    values: {
      config: { credentialCheck: { mode: 'on', interval: '30m', allow: ['10.20.0.0/16', 'registry.corp.example'], extraCaCerts: FAKE_CA_PEM } },
      networkPolicy: {
        enabled: true,
        apiServerTo: [{ ipBlock: { cidr: '172.20.0.1/32' } }],
        apiServerPorts: [443],
        extraEgress: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ protocol: 'TCP', port: 5000 }] }],
      },
    },
  },
  minimalFeatures: {
    values: { config: { resolver: { source: 'off' }, propagation: { mode: 'off' }, auth: { mode: 'off' } }, rbac: { propagationSecretNames: [] } },
  },
};

const rendered: Record<string, K8sObject[]> = {};

beforeAll(async () => {
  const entries = await Promise.all(Object.entries(SCENARIOS).map(async ([name, options]) => [name, await renderChart(options)] as const));
  for (const [name, objects] of entries) rendered[name] = objects;
});

function scenario(name: keyof typeof SCENARIOS): K8sObject[] {
  const objects = rendered[name];
  if (!objects) throw new Error(`scenario ${name} was not rendered`);
  return objects;
}

function podSpec(objects: K8sObject[]) {
  return only(objects, 'Deployment').spec.template.spec;
}

function container(objects: K8sObject[]) {
  const containers = podSpec(objects).containers as any[];
  expect(containers).toHaveLength(1);
  return containers[0];
}

/** Literal env values (fieldRefs resolved the way the kubelet would for pod `rcw-0`). */
function env(objects: K8sObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container(objects).env as any[]) {
    if (e.value !== undefined) out[e.name] = String(e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') out[e.name] = NAMESPACE;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') out[e.name] = 'rcw-0';
  }
  return out;
}

function containerPort(objects: K8sObject[], port: string | number): number {
  if (typeof port === 'number') return port;
  const found = (container(objects).ports as any[]).find((p) => p.name === port);
  if (!found) throw new Error(`no container port named ${port}`);
  return found.containerPort;
}

function webhooks(objects: K8sObject[]): any[] {
  return only(objects, 'MutatingWebhookConfiguration').webhooks;
}

describe.each(Object.keys(SCENARIOS))('every rendered object (%s)', (name) => {
  it('passes the Kubernetes schema of its kind (kubernetes-models)', () => {
    const objects = scenario(name);
    expect(objects.length).toBeGreaterThan(5);
    for (const object of objects) validateObject(object);
  });

  it('has unique kind/namespace/name and namespaced objects in the release namespace', () => {
    const objects = scenario(name);
    const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const o of objects) {
      if (['ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration'].includes(o.kind)) {
        expect(o.metadata.namespace).toBeUndefined();
      } else if (!(o.kind === 'Secret' && o.metadata.name === 'serverless-registry-config-default')) {
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
      }
    }
  });

  it('RBAC has no wildcard and nothing that escalates', () => {
    const objects = scenario(name);
    const roles = [...ofKind(objects, 'ClusterRole'), ...ofKind(objects, 'Role')];
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of role.rules as any[]) {
        for (const field of ['verbs', 'resources', 'apiGroups', 'resourceNames', 'nonResourceURLs']) {
          for (const value of (rule[field] ?? []) as string[]) {
            expect(value, `${role.kind}/${role.metadata.name} ${field}`).not.toContain('*');
          }
        }
        expect(rule.nonResourceURLs).toBeUndefined();
        for (const verb of ['escalate', 'bind', 'impersonate', 'deletecollection']) expect(rule.verbs).not.toContain(verb);
        for (const resource of ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings', 'pods', 'serviceaccounts']) {
          expect(rule.resources).not.toContain(resource);
        }
        // Cluster-wide writes to Secrets are limited to `create` (not restrictable) and named copies.
        if (role.kind === 'ClusterRole' && rule.resources.includes('secrets')) {
          const writes = (rule.verbs as string[]).filter((v) => ['update', 'patch', 'delete'].includes(v));
          if (writes.length > 0 && name !== 'minimalFeatures') expect(rule.resourceNames).toEqual(['serverless-registry-config']);
        }
      }
    }
    // Bindings point at the rendered roles and the rendered ServiceAccount.
    const sa = only(objects, 'ServiceAccount');
    for (const binding of [...ofKind(objects, 'ClusterRoleBinding'), ...ofKind(objects, 'RoleBinding')]) {
      const kind = binding.kind === 'ClusterRoleBinding' ? 'ClusterRole' : 'Role';
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind, name: only(objects, kind).metadata.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE }]);
    }
    expect(podSpec(objects).serviceAccountName).toBe(sa.metadata.name);
  });

  it('hardens the pod: non-root 65532, read-only root, no capabilities, RuntimeDefault seccomp', () => {
    const objects = scenario(name);
    const pod = podSpec(objects);
    const c = container(objects);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext.capabilities.add).toBeUndefined();
    expect(pod.hostNetwork).toBeUndefined();
    // Writable places only: an emptyDir at /tmp and the certificate directory (read-only mounts aside).
    const mounts = Object.fromEntries((c.volumeMounts as any[]).filter((m) => !(m.readOnly && m.name === 'registry-ca')).map((m) => [m.mountPath, m]));
    expect(Object.keys(mounts).sort()).toEqual(['/tmp', env(objects).CERT_DIR].sort());
    const tmp = (pod.volumes as any[]).find((v) => v.name === mounts['/tmp'].name);
    expect(tmp.emptyDir).toBeDefined();
  });

  it('probes the probe port at /healthz and /readyz, and the Service reaches both ports', () => {
    const objects = scenario(name);
    const c = container(objects);
    const e = env(objects);
    const probePort = Number(e.PROBE_PORT);
    expect(probePort).toBe(9090);
    for (const [probe, path] of [['startupProbe', '/healthz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
      expect(c[probe].httpGet.path, probe).toBe(path);
      expect(c[probe].httpGet.scheme ?? 'HTTP').toBe('HTTP');
      expect(containerPort(objects, c[probe].httpGet.port), probe).toBe(probePort);
    }
    const service = only(objects, 'Service');
    expect(service.spec.selector).toEqual(SELECTOR);
    const ports = service.spec.ports as any[];
    const https = ports.find((p) => p.port === 443);
    expect(https).toBeDefined();
    expect(containerPort(objects, https.targetPort)).toBe(Number(e.PORT));
    expect(Number(e.PORT)).toBe(8443);
    expect(ports.some((p) => containerPort(objects, p.targetPort) === probePort)).toBe(true);
    // The webhook calls the Service's HTTPS port.
    expect(webhooks(objects)[0].clientConfig.service).toMatchObject({ name: service.metadata.name, namespace: NAMESPACE, port: 443 });
  });

  it('configures the server with options it accepts (parsed by the server own parser)', () => {
    const objects = scenario(name);
    const e = env(objects);
    const config = parseConfig([], e, { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE });
    // Graceful termination is longer than the server's drain.
    const grace = podSpec(objects).terminationGracePeriodSeconds * 1000;
    expect(grace).toBeGreaterThan(config.shutdownDelayMs + config.shutdownTimeoutMs);
    expect(config.serviceName).toBe(only(objects, 'Service').metadata.name);
    expect(config.reviewTimeoutMarginMs).toBeLessThan(webhooks(objects)[0].timeoutSeconds * 1000);
    if (config.webhookConfig !== undefined) expect(config.webhookConfig).toBe(only(objects, 'MutatingWebhookConfiguration').metadata.name);
    if (e.PROPAGATION_EXCLUDE !== undefined) {
      const exclude = parseExcludeSelector(e.PROPAGATION_EXCLUDE);
      expect(exclude.matches({ 'kubernetes.io/metadata.name': 'kube-system' })).toBe(true);
      expect(exclude.matches({ 'kubernetes.io/metadata.name': 'default' })).toBe(false);
    }
  });

  it('keeps the system namespace covered by the webhook', () => {
    const objects = scenario(name);
    const system = env(objects).SYSTEM_NAMESPACE;
    for (const expr of webhooks(objects)[0].namespaceSelector.matchExpressions ?? []) {
      if (expr.key === 'kubernetes.io/metadata.name' && expr.operator === 'NotIn') expect(expr.values).not.toContain(system);
    }
  });
});

describe('default values (self-managed certificates)', () => {
  it('renders the webhook entry exactly, without a caBundle', () => {
    const mwc = only(scenario('selfManaged'), 'MutatingWebhookConfiguration');
    expect(mwc.metadata.name).toBe(FULLNAME);
    expect(mwc.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBeUndefined();
    expect(mwc.webhooks).toEqual([
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1', 'v1beta1'],
        clientConfig: {
          service: { name: FULLNAME, namespace: NAMESPACE, path: '/defaulting/registry-config-secrets', port: 443 },
        },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['secrets'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
        objectSelector: { matchLabels: { 'serverless.kyma-project.io/remote-registry': 'config' } },
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: DEFAULT_EXCLUDED }] },
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        sideEffects: 'None',
        timeoutSeconds: 5,
        reinvocationPolicy: 'Never',
      },
    ]);
  });

  it('tells the server to manage the certificate Secret and the caBundle', () => {
    const objects = scenario('selfManaged');
    const e = env(objects);
    expect(e.CERT_SECRET).toBe(`${NAMESPACE}/${FULLNAME}-tls`);
    expect(e.WEBHOOK_CONFIG).toBe(FULLNAME);
    expect(e.SERVICE_NAME).toBe(FULLNAME);
    expect(e).toMatchObject({ CA_VALIDITY: '10y', CERT_VALIDITY: '90d', CERT_CHECK_INTERVAL: '1h', SYSTEM_NAMESPACE: 'kyma-system' });
    expect(e.PROPAGATION_EXCLUDE).toBe('kubernetes.io/metadata.name in (kube-system,kube-public,kube-node-lease)');
    // The certificate directory is a writable in-memory emptyDir; the chart creates no Certificate or TLS Secret.
    const mount = (container(objects).volumeMounts as any[]).find((m) => m.mountPath === e.CERT_DIR);
    expect(mount.readOnly).toBeUndefined();
    const volume = (podSpec(objects).volumes as any[]).find((v) => v.name === mount.name);
    expect(volume.emptyDir).toEqual({ medium: 'Memory', sizeLimit: '1Mi' });
    expect(ofKind(objects, 'Certificate')).toHaveLength(0);
    expect(ofKind(objects, 'Secret')).toHaveLength(0);
  });

  it('runs 3 replicas spread over nodes, with a PodDisruptionBudget of minAvailable 1', () => {
    const objects = scenario('selfManaged');
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector.matchLabels).toEqual(SELECTOR);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const pod = podSpec(objects);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: SELECTOR } } },
    ]);
    expect(pod.topologySpreadConstraints).toContainEqual({
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: SELECTOR },
    });
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: SELECTOR } });
  });

  it('requests CPU and memory, limits memory only, and terminates gracefully', () => {
    const objects = scenario('selfManaged');
    const resources = container(objects).resources;
    expect(resources.requests.cpu).toBeDefined();
    expect(resources.requests.memory).toBeDefined();
    expect(resources.limits.memory).toBeDefined();
    expect(resources.limits.cpu).toBeUndefined();
    expect(podSpec(objects).terminationGracePeriodSeconds).toBeGreaterThan(15);
    expect(podSpec(objects).priorityClassName).toBeUndefined();
    expect(container(objects).lifecycle?.preStop).toBeUndefined();
  });

  it('grants exactly the rights the server needs', () => {
    const objects = scenario('selfManaged');
    const clusterRules = only(objects, 'ClusterRole').rules as any[];
    const roleRules = only(objects, 'Role').rules as any[];
    const has = (rules: any[], group: string, resource: string, verbs: string[], resourceNames?: string[]) =>
      rules.some(
        (r) =>
          r.apiGroups.includes(group) &&
          r.resources.includes(resource) &&
          verbs.every((v) => r.verbs.includes(v)) &&
          JSON.stringify(r.resourceNames) === JSON.stringify(resourceNames),
      );
    expect(has(clusterRules, '', 'secrets', ['get', 'list', 'watch'])).toBe(true);
    expect(has(clusterRules, '', 'secrets', ['create'])).toBe(true);
    expect(has(clusterRules, '', 'secrets', ['update', 'patch', 'delete'], ['serverless-registry-config'])).toBe(true);
    expect(has(clusterRules, '', 'namespaces', ['list', 'watch'])).toBe(true);
    expect(has(clusterRules, 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', ['get', 'list', 'watch', 'patch'], [FULLNAME])).toBe(true);
    expect(has(clusterRules, 'authentication.k8s.io', 'tokenreviews', ['create'])).toBe(true);
    expect(has(clusterRules, 'authorization.k8s.io', 'subjectaccessreviews', ['create'])).toBe(true);
    expect(has(clusterRules, '', 'events', ['create', 'patch'])).toBe(true);
    expect(has(clusterRules, 'events.k8s.io', 'events', ['create', 'patch'])).toBe(true);
    expect(has(roleRules, '', 'secrets', ['create'])).toBe(true);
    expect(has(roleRules, '', 'secrets', ['get', 'update', 'patch'], [`${FULLNAME}-tls`])).toBe(true);
    expect(has(roleRules, 'coordination.k8s.io', 'leases', ['create'])).toBe(true);
    expect(has(roleRules, 'coordination.k8s.io', 'leases', ['get', 'update'], [`${FULLNAME}-propagation`])).toBe(true);
    // Credential checks: the leader's outcomes in one ConfigMap, named after the Lease.
    expect(has(roleRules, '', 'configmaps', ['create'])).toBe(true);
    expect(has(roleRules, '', 'configmaps', ['get', 'list', 'watch', 'update'], [`${FULLNAME}-propagation-credential-status`])).toBe(true);
    expect(roleRules.filter((r) => r.resources.includes('configmaps')).flatMap((r) => r.verbs).sort()).toEqual(['create', 'get', 'list', 'update', 'watch']);
    expect(env(objects).LEASE_NAME).toBe(`${FULLNAME}-propagation`);
    // Rights on the webhook configuration are bound to its name; nothing else touches admission objects.
    for (const rule of clusterRules) {
      if (rule.apiGroups.includes('admissionregistration.k8s.io')) expect(rule.resourceNames).toEqual([FULLNAME]);
    }
  });

  it('renders no default registry Secret and no ServiceMonitor unless asked', () => {
    const kinds = scenario('selfManaged').map((o) => o.kind);
    expect(kinds).not.toContain('Secret');
    expect(kinds).not.toContain('ServiceMonitor');
  });
});

describe('cert-manager mode', () => {
  it('annotates the webhook for CA injection and templates no caBundle', () => {
    const objects = scenario('certManager');
    const mwc = only(objects, 'MutatingWebhookConfiguration');
    expect(mwc.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${NAMESPACE}/${FULLNAME}-serving`);
    expect(mwc.webhooks[0].clientConfig.caBundle).toBeUndefined();
    expect(mwc.webhooks[0].name).toBe(WEBHOOK_NAME);
  });

  it('creates a self-signed root, a CA Issuer and a serving Certificate for the Service names', () => {
    const objects = scenario('certManager');
    const issuers = ofKind(objects, 'Issuer');
    expect(issuers.map((i) => i.metadata.name).sort()).toEqual([`${FULLNAME}-ca`, `${FULLNAME}-selfsigned`]);
    const ca = only(objects, 'Certificate', `${FULLNAME}-ca`);
    expect(ca.spec.isCA).toBe(true);
    expect(ca.spec.issuerRef).toMatchObject({ name: `${FULLNAME}-selfsigned`, kind: 'Issuer' });
    const serving = only(objects, 'Certificate', `${FULLNAME}-serving`);
    expect(serving.spec.issuerRef).toMatchObject({ name: `${FULLNAME}-ca`, kind: 'Issuer' });
    expect(serving.spec.secretName).toBe(`${FULLNAME}-tls`);
    expect(serving.spec.dnsNames).toEqual([
      FULLNAME,
      `${FULLNAME}.${NAMESPACE}`,
      `${FULLNAME}.${NAMESPACE}.svc`,
      `${FULLNAME}.${NAMESPACE}.svc.cluster.local`,
    ]);
    expect(serving.spec.usages).toContain('server auth');
  });

  it('mounts the cert-manager Secret read-only as CERT_DIR and gives no self-managed options or rights', () => {
    const objects = scenario('certManager');
    const e = env(objects);
    expect(e.CERT_SECRET).toBeUndefined();
    expect(e.WEBHOOK_CONFIG).toBeUndefined();
    const mount = (container(objects).volumeMounts as any[]).find((m) => m.mountPath === e.CERT_DIR);
    expect(mount.readOnly).toBe(true);
    const volume = (podSpec(objects).volumes as any[]).find((v) => v.name === mount.name);
    expect(volume.secret.secretName).toBe(`${FULLNAME}-tls`);
    const rules = [...(only(objects, 'ClusterRole').rules as any[]), ...(only(objects, 'Role').rules as any[])];
    expect(rules.some((r) => r.resources.includes('mutatingwebhookconfigurations'))).toBe(false);
    // The Role keeps only the Lease and credential-status ConfigMap rules: no Secret rights in the release namespace.
    expect((only(objects, 'Role').rules as any[]).every((r) => r.resources.includes('leases') || r.resources.includes('configmaps'))).toBe(true);
  });

  it('uses a given issuer instead of creating one', () => {
    const objects = scenario('certManagerOwnIssuer');
    expect(ofKind(objects, 'Issuer')).toHaveLength(0);
    expect(ofKind(objects, 'Certificate')).toHaveLength(1);
    expect(only(objects, 'Certificate').spec.issuerRef).toEqual({ name: 'cluster-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });
});

describe('user-provided Secret mode', () => {
  it('templates the caBundle from the PEM and mounts the Secret', () => {
    const objects = scenario('secret');
    const mwc = only(objects, 'MutatingWebhookConfiguration');
    const caBundle = mwc.webhooks[0].clientConfig.caBundle as string;
    expect(Buffer.from(caBundle, 'base64').toString('utf8')).toBe(FAKE_CA_PEM);
    expect(mwc.metadata.annotations).toBeUndefined();
    expect(ofKind(objects, 'Certificate')).toHaveLength(0);
    const e = env(objects);
    expect(e.CERT_SECRET).toBeUndefined();
    const mount = (container(objects).volumeMounts as any[]).find((m) => m.mountPath === e.CERT_DIR);
    const volume = (podSpec(objects).volumes as any[]).find((v) => v.name === mount.name);
    expect(volume.secret.secretName).toBe('my-webhook-tls');
  });

  it('accepts a caBundle that is already base64', async () => {
    const b64 = Buffer.from(FAKE_CA_PEM).toString('base64');
    const objects = await renderChart({ values: { certificates: { mode: 'secret', secret: { name: 'x-tls', caBundle: b64 } } } });
    expect(webhooks(objects)[0].clientConfig.caBundle).toBe(b64);
  });
});

describe('non-default values', () => {
  it('carries webhook policy, timeout and namespace selection', () => {
    const objects = scenario('nonDefault');
    const mwc = only(objects, 'MutatingWebhookConfiguration');
    expect(mwc.metadata.name).toBe('registry-config.example.com');
    const [webhook] = mwc.webhooks;
    expect(webhook.failurePolicy).toBe('Ignore');
    expect(webhook.timeoutSeconds).toBe(10);
    expect(webhook.namespaceSelector).toEqual({
      matchLabels: { tier: 'apps' },
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'istio-system'] },
        { key: 'team', operator: 'Exists' },
      ],
    });
    expect(env(objects).WEBHOOK_CONFIG).toBe('registry-config.example.com');
    const rule = (only(objects, 'ClusterRole').rules as any[]).find((r) => r.resources.includes('mutatingwebhookconfigurations'));
    expect(rule.resourceNames).toEqual(['registry-config.example.com']);
  });

  it('carries replicas, priority, hard anti-affinity, no spread, CPU limit, grace period and digest', () => {
    const objects = scenario('nonDefault');
    expect(only(objects, 'Deployment').spec.replicas).toBe(5);
    const pod = podSpec(objects);
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: SELECTOR } },
    ]);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.terminationGracePeriodSeconds).toBe(45);
    expect(container(objects).resources.limits).toEqual({ cpu: '1', memory: '512Mi' });
    expect(container(objects).image).toBe(`ghcr.io/kyma-project/registry-config-webhook@sha256:${'a'.repeat(64)}`);
    expect(only(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    expect(pod.containers[0].env).toContainEqual({ name: 'UV_THREADPOOL_SIZE', value: '8' });
    expect(only(objects, 'Deployment').spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'prometheus.io/path': '/metrics',
    });
  });

  it('passes server options through', () => {
    const e = env(scenario('nonDefault'));
    expect(e).toMatchObject({
      SYSTEM_NAMESPACE: 'serverless-system',
      LOG_LEVEL: 'debug',
      HOST: '::',
      PROPAGATION: 'off',
      AUTH: 'off',
      SHUTDOWN_DELAY: '10s',
      SHUTDOWN_TIMEOUT: '20s',
      PROPAGATION_EXCLUDE: 'kubernetes.io/metadata.name in (kube-system,istio-system)',
    });
  });

  it('drops the rights of disabled features (propagation off, auth off)', () => {
    const objects = scenario('nonDefault');
    const rules = only(objects, 'ClusterRole').rules as any[];
    const secretVerbs = rules.filter((r) => r.resources.includes('secrets')).flatMap((r) => r.verbs);
    expect(secretVerbs.sort()).toEqual(['get', 'list', 'watch']);
    expect(rules.some((r) => r.resources.includes('namespaces'))).toBe(false);
    expect(rules.some((r) => r.resources.includes('tokenreviews') || r.resources.includes('subjectaccessreviews'))).toBe(false);
    // Self-managed certificates still need their Role, but no Lease.
    const roleRules = only(objects, 'Role').rules as any[];
    expect(roleRules.some((r) => r.resources.includes('leases'))).toBe(false);
    // No leader, hence no published credential outcomes.
    expect(roleRules.some((r) => r.resources.includes('configmaps'))).toBe(false);
  });

  it('renders the default registry Secret in the system namespace, with a .dockerconfigjson', () => {
    const objects = scenario('nonDefault');
    const secret = only(objects, 'Secret', 'serverless-registry-config-default');
    expect(secret.metadata.namespace).toBe('serverless-system');
    expect(secret.metadata.labels?.['serverless.kyma-project.io/remote-registry']).toBe('config');
    expect(secret.metadata.labels?.['serverless.kyma-project.io/config']).toBeUndefined();
    const data = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(data).toMatchObject({
      registryAddress: 'registry.example.com/kyma',
      serverAddress: 'registry.example.com',
      isInternal: 'true',
      pullRegAddr: 'localhost:32137',
      pushRegAddr: 'registry.example.com',
      username: 'kyma',
      password: 's3cr3t',
    });
    const auth = { username: 'kyma', password: 's3cr3t', auth: Buffer.from('kyma:s3cr3t').toString('base64') };
    expect(JSON.parse(data['.dockerconfigjson'] as string)).toEqual({ auths: { 'registry.example.com': auth, 'localhost:32137': auth } });
    // The webhook must see it: its namespace is not excluded.
    expect(webhooks(objects)[0].namespaceSelector.matchExpressions[0].values).not.toContain('serverless-system');
  });

  it('renders a ServiceMonitor for the metrics port', () => {
    const objects = scenario('nonDefault');
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    const service = only(objects, 'Service');
    const port = (service.spec.ports as any[]).find((p) => p.name === monitor.spec.endpoints[0].port);
    expect(port.port).toBe(9090);
    expect(monitor.spec.endpoints[0].path).toBe('/metrics');
  });

  it('renders no Secret rights without resolver and propagation, and no resourceNames when the list is empty', async () => {
    const objects = scenario('minimalFeatures');
    const rules = only(objects, 'ClusterRole').rules as any[];
    expect(rules.some((r) => r.resources.includes('secrets'))).toBe(false);
    const open = await renderChart({ values: { rbac: { propagationSecretNames: [] } } });
    const write = (only(open, 'ClusterRole').rules as any[]).find((r) => r.resources.includes('secrets') && r.verbs.includes('delete'));
    expect(write.resourceNames).toBeUndefined();
  });

  it('can use an existing ServiceAccount', async () => {
    const objects = await renderChart({ values: { serviceAccount: { create: false, name: 'existing-sa' } } });
    expect(ofKind(objects, 'ServiceAccount')).toHaveLength(0);
    expect(podSpec(objects).serviceAccountName).toBe('existing-sa');
    expect(only(objects, 'ClusterRoleBinding').subjects[0].name).toBe('existing-sa');
  });

  it('renders for the oldest supported Kubernetes', async () => {
    const objects = await renderChart({ extraArgs: ['--kube-version', '1.25.0'] });
    expect(only(objects, 'PodDisruptionBudget').apiVersion).toBe('policy/v1');
  });
});

describe('credential checks', () => {
  it('are on in a cluster by default (auto), every 10m, with no allowlist, no extra CAs and no NetworkPolicy', () => {
    const objects = scenario('selfManaged');
    const e = env(objects);
    expect(e).toMatchObject({ CREDENTIAL_CHECK: 'auto', CREDENTIAL_CHECK_INTERVAL: '10m' });
    expect(e.CREDENTIAL_CHECK_ALLOW).toBeUndefined();
    expect(e.NODE_EXTRA_CA_CERTS).toBeUndefined();
    expect(ofKind(objects, 'NetworkPolicy')).toHaveLength(0);
    expect(ofKind(objects, 'ConfigMap')).toHaveLength(0);
  });

  it('carry mode, interval and allowlist to the server, which accepts them', () => {
    const e = env(scenario('credentialCheck'));
    expect(e).toMatchObject({ CREDENTIAL_CHECK: 'on', CREDENTIAL_CHECK_INTERVAL: '30m', CREDENTIAL_CHECK_ALLOW: '10.20.0.0/16,registry.corp.example' });
    const config = parseConfig([], e, { hostname: 'rcw-0', serviceAccountNamespace: NAMESPACE });
    expect(config.credentialCheckIntervalMs).toBe(30 * 60_000);
    expect(config.credentialCheckAllow).toEqual(['10.20.0.0/16', 'registry.corp.example']);
  });

  it('trust private registry CAs through NODE_EXTRA_CA_CERTS from a ConfigMap, and roll the pods when they change', () => {
    const objects = scenario('credentialCheck');
    const configMap = only(objects, 'ConfigMap');
    expect(configMap.data['ca.crt'].trim()).toBe(FAKE_CA_PEM.trim());
    const path = env(objects).NODE_EXTRA_CA_CERTS as string;
    const mount = (container(objects).volumeMounts as any[]).find((m) => path.startsWith(`${m.mountPath}/`));
    expect(mount).toMatchObject({ readOnly: true });
    const volume = (podSpec(objects).volumes as any[]).find((v) => v.name === mount.name);
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    expect(path.slice(mount.mountPath.length + 1)).toBe('ca.crt');
    expect(only(objects, 'Deployment').spec.template.metadata.annotations['checksum/registry-ca']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('get NetworkPolicy egress rules: the API server, DNS, HTTPS to public addresses only, and the extra rules', () => {
    const policy = only(scenario('credentialCheck'), 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.podSelector.matchLabels).toEqual(SELECTOR);
    const rules = policy.spec.egress as any[];
    expect(rules[0]).toEqual({ ports: [{ protocol: 'TCP', port: 443 }], to: [{ ipBlock: { cidr: '172.20.0.1/32' } }] });
    expect(rules[1].ports.map((p: any) => p.port)).toEqual([53, 53]);
    const registries = rules[2];
    expect(registries.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    expect(registries.to[0].ipBlock.except).toEqual(expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10']));
    expect(rules[3].ports).toEqual([{ protocol: 'TCP', port: 5000 }]);
  });

  it('open no registry egress when off', async () => {
    const objects = await renderChart({ values: { config: { credentialCheck: { mode: false } }, networkPolicy: { enabled: true } } });
    expect(env(objects).CREDENTIAL_CHECK).toBe('off');
    expect(only(objects, 'NetworkPolicy').spec.egress).toHaveLength(2);
    // No outcomes to publish: no ConfigMap rights.
    expect((only(objects, 'Role').rules as any[]).some((r) => r.resources.includes('configmaps'))).toBe(false);
  });

  it('reject an allowlist entry that is not a CIDR, address or host name', async () => {
    await expect(renderChart({ values: { config: { credentialCheck: { allow: ['http://x'] } } } })).rejects.toThrow(/allow/);
  });
});

describe('the chart matches the server', () => {
  const source = (file: string) => readFileSync(join(CHART_DIR, '..', '..', 'src', file), 'utf8');

  it('probes and metrics paths are routes of the probe server', () => {
    const probeServer = source('http/probe-server.ts');
    const c = container(scenario('selfManaged'));
    for (const path of [c.startupProbe.httpGet.path, c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path, '/metrics']) {
      expect(probeServer, path).toContain(`app.get('${path}'`);
    }
  });

  it('the webhook path is the one the HTTPS server serves', () => {
    const match = /REGISTRY_WEBHOOK_PATH = '([^']+)'/.exec(source('http/webhook-server.ts'));
    expect(match?.[1]).toBe(webhooks(scenario('selfManaged'))[0].clientConfig.service.path);
  });

  it('labels, names and the system namespace agree with src/registry/labels.ts', () => {
    const objects = scenario('nonDefault');
    expect(webhooks(scenario('selfManaged'))[0].objectSelector.matchLabels).toEqual({ [REMOTE_REGISTRY_LABEL]: REMOTE_REGISTRY_LABEL_VALUE });
    expect(only(objects, 'Secret').metadata.name).toBe(DEFAULT_REGISTRY_SECRET_NAME);
    expect(env(scenario('selfManaged')).SYSTEM_NAMESPACE).toBe(DEFAULT_SYSTEM_NAMESPACE);
    expect(env(scenario('selfManaged')).PROPAGATION_EXCLUDE).toBe(DEFAULT_PROPAGATION_EXCLUDE);
    const rule = (only(scenario('selfManaged'), 'ClusterRole').rules as any[]).find((r) => r.verbs.includes('delete'));
    expect(rule.resourceNames).toEqual([REGISTRY_SECRET_NAME]);
  });
});
