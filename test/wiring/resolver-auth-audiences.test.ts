/**
 * AUTH_AUDIENCES from the environment to the TokenReview: the whole server (startTestServer, the
 * Kubernetes resolver, AUTH=on) against the fake API server, asked through the HTTPS resolver API.
 * The fake judges audiences as the recorded API server does (tokenreview-wrong-audience.json): a
 * token is valid only for audiences it was issued for, and the API server's own by default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { seedSecretReader, stored } from '../resolver/kubernetes/support.js';
import { defaultSecret, SYSTEM } from '../resolver/secrets.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver.js';
import { httpsCall, type HttpResponse } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer } from '../support/server.js';
import { type FakeKubeconfig, useFakeKubeconfig } from '../support/fake-kubeconfig.js';

const AUDIENCES = ['registry-config-webhook', 'other'];

let fake: FakeApiServer;
let kubeconfig: FakeKubeconfig | undefined;

interface Running {
  server: RunningServer;
  ca: string;
  logs: ReturnType<typeof captureLogs>;
}

async function start(env: Record<string, string>): Promise<Running> {
  const logs = captureLogs('info');
  const { server, ca } = await startTestServer({ RESOLVER_SOURCE: 'kubernetes', SYSTEM_NAMESPACE: SYSTEM, AUTH: 'on', PROPAGATION: 'off', SHUTDOWN_DELAY: '0', ...env }, logs.log);
  return { server, ca, logs };
}

function ask(running: Running, namespace: string, token: string): Promise<HttpResponse> {
  return httpsCall(`https://127.0.0.1:${running.server.webhookPort}/v1/namespaces/${namespace}/registry-config`, {
    method: 'GET',
    ca: running.ca,
    headers: { authorization: `Bearer ${token}` },
  });
}

/** spec of every TokenReview the server sent so far, in order. */
function tokenReviewSpecs(): { token?: string; audiences?: string[] }[] {
  return fake.requests.filter((r) => r.resource === 'tokenreviews').map((r) => (r.body as { spec: { token?: string; audiences?: string[] } }).spec);
}

beforeAll(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'] });
  fake.put(stored(defaultSecret()));
  // A controller's ServiceAccount that may get Secrets in team-a only, as a controller author would grant it.
  seedSecretReader(fake);
  // detectKubernetes reads KUBECONFIG from the process environment, as in a real start.
  kubeconfig = useFakeKubeconfig(fake);
});

afterAll(async () => {
  await fake?.close();
  kubeconfig?.restore();
});

describe('AUTH=on with AUTH_AUDIENCES=registry-config-webhook,other', () => {
  let running: Running;

  beforeAll(async () => {
    running = await start({ AUTH_AUDIENCES: AUDIENCES.join(',') });
    fake.clearRequests();
  });

  afterAll(async () => {
    await running?.server.shutdown('test end');
  });

  it('asks the TokenReview for exactly the configured audiences, and authorizes a token issued for one of them', async () => {
    const token = fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['registry-config-webhook'] });
    const answer = await ask(running, 'team-a', token);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ namespace: 'team-a', source: 'default' });

    const reviews = tokenReviewSpecs().filter((spec) => spec.token === token);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]?.audiences).toEqual(AUDIENCES);
  });

  it('any configured audience will do: a token issued only for "other" is authorized too', async () => {
    const token = fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['other'] });
    expect((await ask(running, 'team-a', token)).status).toBe(200);
  });

  it('401 for a valid token issued for the API server only: refused offline, no TokenReview, no SubjectAccessReview', async () => {
    // Valid, and allowed by RBAC in team-a, but issued for the API server's default audience only.
    const token = fake.issueServiceAccountToken('team-a', 'reader');
    const accessReviewsBefore = fake.count({ resource: 'subjectaccessreviews' });
    const answer = await ask(running, 'team-a', token);
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer');
    expect(answer.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(answer.body).not.toContain(token);
    // Its `aud` names none of ours: the offline check refused it, so no review of any kind followed.
    expect(tokenReviewSpecs().filter((spec) => spec.token === token)).toEqual([]);
    expect(fake.count({ resource: 'subjectaccessreviews' })).toBe(accessReviewsBefore);
    expect(running.logs.text()).not.toContain(token);
  });

  it('the audience admits the token, not the request: RBAC still decides per namespace', async () => {
    const token = fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['registry-config-webhook'] });
    const denied = await ask(running, 'team-b', token);
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('AUTH=on without AUTH_AUDIENCES', () => {
  let running: Running;

  beforeAll(async () => {
    running = await start({});
    fake.clearRequests();
  });

  afterAll(async () => {
    await running?.server.shutdown('test end');
  });

  it("leaves spec.audiences out, so the API server's own audiences apply (offline: the issuer, the API server's default audience)", async () => {
    const general = fake.issueServiceAccountToken('team-a', 'reader');
    const ours = fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['registry-config-webhook'] });
    expect((await ask(running, 'team-a', general)).status).toBe(200);
    expect((await ask(running, 'team-a', ours)).status).toBe(401);
    // Only the token for the API server's audience got as far as a TokenReview.
    expect(tokenReviewSpecs().map((spec) => [spec.token === general, spec.audiences])).toEqual([[true, undefined]]);
  });
});
