import { Agent } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { shutdown } from '../../src/lifecycle/shutdown.js';
import { Readiness } from '../../src/http/readiness.js';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import type { RunningServer } from '../../src/server.js';
import { postReview } from '../support/https-client.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer } from '../support/server.js';
import { startTestWebhook } from '../support/webhook.js';

const review = JSON.stringify(readAdmissionFixture('update-patch-stringdata-password.v1.json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readyz(server: RunningServer): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${server.probePort}/readyz`);
  return res.status;
}

describe('graceful shutdown', () => {
  const running: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.shutdown('test end')));
  });

  it('goes unready at once, keeps serving during the delay, then stops accepting', async () => {
    const { server, ca } = await startTestServer({ SHUTDOWN_DELAY: '400ms', SHUTDOWN_TIMEOUT: '2s' });
    const url = `https://localhost:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}?timeout=10s`;
    expect(await readyz(server)).toBe(200);
    const done = server.shutdown('SIGTERM');
    expect(await readyz(server)).toBe(503);
    const during = await postReview(url, review, ca);
    expect(during.status).toBe(200);
    // Keep-alive clients are asked to reconnect (to another replica) while we drain.
    expect(during.headers.connection).toBe('close');
    await done;
    await expect(postReview(url, review, ca)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('drains a request in flight before closing, within the bound', async () => {
    const log = captureLogs('info');
    const webhook = await startTestWebhook({
      log: log.log,
      handler: () => new Promise((resolve) => setTimeout(() => resolve({ allowed: true }), 600)),
    });
    const readiness = new Readiness();
    const inFlight = postReview(webhook.reviewUrl, review, webhook.ca);
    await sleep(100);
    const started = Date.now();
    await shutdown(
      { log: log.log, readiness, delayMs: 0, timeoutMs: 3000, onDrainStart: () => webhook.server.startDraining(), servers: [{ name: 'webhook', stop: () => webhook.close(), force: () => webhook.server.server.closeAllConnections() }], background: [] },
      'SIGTERM',
    );
    expect((await inFlight).status).toBe(200);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(400);
    // Finished by draining, not by hitting the 3 s bound.
    expect(took).toBeLessThan(2000);
    expect(log.text()).not.toContain('drain timed out');
    expect(readiness.evaluate().ok).toBe(false);
  });

  it('gives up draining after the bound and closes what is left', async () => {
    const log = captureLogs('info');
    const webhook = await startTestWebhook({
      log: log.log,
      handler: () => new Promise((resolve) => setTimeout(() => resolve({ allowed: true }), 5000).unref()),
    });
    const inFlight = postReview(webhook.reviewUrl, review, webhook.ca).catch((err: Error) => err);
    await sleep(100);
    const started = Date.now();
    await shutdown(
      { log: log.log, readiness: new Readiness(), delayMs: 0, timeoutMs: 300, servers: [{ name: 'webhook', stop: () => webhook.close(), force: () => webhook.server.server.closeAllConnections() }], background: [] },
      'SIGTERM',
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await inFlight).toBeInstanceOf(Error);
    expect(log.text()).toContain('drain timed out');
  });

  it('loses no request of a keep-alive client during a rolling restart', async () => {
    // Two replicas behind a "Service": the client picks a ready backend for each request, and an
    // "endpoints controller" removes a backend as soon as its /readyz fails, as Kubernetes does.
    const env = { SHUTDOWN_DELAY: '600ms', SHUTDOWN_TIMEOUT: '2s' };
    const a = await startTestServer(env);
    const b = await startTestServer(env);
    running.push(b.server);
    const endpoints = new Set<RunningServer>([a.server, b.server]);
    const agents = new Map<RunningServer, Agent>([
      [a.server, new Agent({ keepAlive: true, maxSockets: 4 })],
      [b.server, new Agent({ keepAlive: true, maxSockets: 4 })],
    ]);
    let polling = true;
    const endpointsController = (async () => {
      while (polling) {
        for (const server of [...endpoints]) if ((await readyz(server).catch(() => 0)) !== 200) endpoints.delete(server);
        await sleep(100);
      }
    })();

    const results = { ok: 0, failed: 0, servedByA: 0 };
    let stop = false;
    const client = async () => {
      let i = 0;
      while (!stop) {
        const backends = [...endpoints];
        const server = backends[i++ % backends.length] as RunningServer;
        try {
          const res = await postReview(`https://localhost:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}?timeout=10s`, review, a.ca, agents.get(server));
          if (res.status === 200) {
            results.ok++;
            if (server === a.server) results.servedByA++;
          } else results.failed++;
        } catch {
          results.failed++;
        }
      }
    };
    const clients = [client(), client(), client(), client()];
    await sleep(300);
    const servedBeforeSigterm = results.servedByA;
    await a.server.shutdown('SIGTERM');
    await sleep(200);
    stop = true;
    await Promise.all(clients);
    polling = false;
    await endpointsController;
    for (const agent of agents.values()) agent.destroy();

    expect(servedBeforeSigterm).toBeGreaterThan(0);
    expect(results.ok).toBeGreaterThan(50);
    expect(results.failed).toBe(0);
  });
});
