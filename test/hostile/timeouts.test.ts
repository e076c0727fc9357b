/**
 * What Node actually applies on the webhook port, measured as when the server closes the socket
 * (not what the options say): headers within 5 s, the whole request within 10 s, a TLS handshake
 * or a first request within 5 s, and kept-alive idle connections left alone. The probe port too.
 */
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import type { RunningServer } from '../../src/server.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { postReview } from '../support/https-client.js';
import { openTcp, openTls, reviewHead, whenClosed } from '../support/raw-client.js';
import { startTestServer } from '../support/server.js';

let server: RunningServer;
let ca: string;
const review = JSON.stringify(readAdmissionFixture('delete.v1.json'));
const reviewUrl = () => `https://localhost:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}?timeout=10s`;

beforeAll(async () => {
  ({ server, ca } = await startTestServer({ SHUTDOWN_DELAY: '0' }));
});

afterAll(async () => {
  await server?.shutdown('test end');
});

// Node checks its timeouts once a second here (connectionsCheckingInterval): allow that, and a loaded
// machine. The clock here starts after the TLS handshake, Node's at the TCP accept: allow a slow handshake.
const within = (afterMs: number, timeoutMs: number) => {
  expect(afterMs).toBeGreaterThanOrEqual(timeoutMs - 1000);
  expect(afterMs).toBeLessThan(timeoutMs + 3000);
};

describe('timeouts on the webhook port', { timeout: 30_000 }, () => {
  it('closes each kind of stalled connection on time, answers 408 where a request began, and keeps kept-alive ones', async () => {
    const port = server.webhookPort;

    // Headers that never finish.
    const headers = await openTls(port, ca);
    const headersClosed = whenClosed(headers);
    headers.write(`POST ${REGISTRY_WEBHOOK_PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n`);

    // A body that never finishes (small: under any budget).
    const body = await openTls(port, ca);
    const bodyClosed = whenClosed(body);
    body.write(reviewHead(REGISTRY_WEBHOOK_PATH, review.length));
    body.write(review.slice(0, -1));

    // TLS done, no request ever.
    const silent = await openTls(port, ca);
    const silentClosed = whenClosed(silent);

    // TCP only, no TLS ClientHello ever.
    const tcp = await openTcp(port);
    const tcpClosed = whenClosed(tcp);

    // Headers that never finish, on the plain-HTTP probe port.
    const probe = await openTcp(server.probePort);
    const probeClosed = whenClosed(probe);
    probe.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');

    // A kept-alive connection after a served review, as the API server leaves it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const freed: unknown[] = [];
    agent.on('free', (socket) => freed.push(socket));
    const first = await postReview(reviewUrl(), review, ca, agent);
    expect(first.status).toBe(200);

    const [h, b, s, t, p] = await Promise.all([headersClosed, bodyClosed, silentClosed, tcpClosed, probeClosed]);
    within(p.afterMs, 5000);
    expect(p.received).toMatch(/^HTTP\/1\.1 408 /);
    within(h.afterMs, 5000);
    expect(h.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.received).toContain('"code":"REQUEST_TIMEOUT"');
    within(b.afterMs, 10_000);
    expect(b.received).toMatch(/^HTTP\/1\.1 408 /);
    within(s.afterMs, 5000);
    within(t.afterMs, 5000);

    // Past every short timeout and check, the kept-alive connection is still the one reused.
    const again = await postReview(reviewUrl(), review, ca, agent);
    expect(again.status).toBe(200);
    expect(again.headers['keep-alive']).toMatch(/timeout=120/);
    expect(server.webhook.server.keepAliveTimeout).toBe(120_000);
    expect(freed).toHaveLength(2);
    expect(freed[1]).toBe(freed[0]);
    agent.destroy();
  });
});

describe('the probe and metrics port', () => {
  it('keeps answering probes while idle connections flood it: at most 100 stay open', async () => {
    const idle = await Promise.all(Array.from({ length: 300 }, () => openTcp(server.probePort).catch(() => undefined)));
    const probe = await fetch(`http://127.0.0.1:${server.probePort}/healthz`);
    expect(probe.status).toBe(200);
    // Give the closes time to arrive here.
    await new Promise((r) => setTimeout(r, 200));
    expect(idle.filter((s) => s && !s.destroyed).length).toBeLessThanOrEqual(100);
    for (const socket of idle) socket?.destroy();
  });
});
