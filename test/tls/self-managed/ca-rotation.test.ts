import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeApiServer } from '../../support/fake-apiserver.js';
import { handshakeFingerprint, sleep, startHttpsServer, waitFor } from '../support.js';
import { HOUR, MINUTE, type Replica, SERVING_NAME, counterValue, fingerprint, fingerprints, gaugeValue, publishedBundle, secretData, startFake, startReplica } from './support.js';

let fake: FakeApiServer | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await fake?.close();
  fake = undefined;
});

/**
 * The clock of both replicas runs ahead of real time by `offset`. Certificates are backdated by an
 * hour (generate.ts), so everything made up to an hour "in the future" is valid for a real TLS
 * client now: the rotation is driven by the fake clock, the handshakes are real.
 */
let offset = 0;
const now = () => new Date(Date.now() + offset);

const SETTINGS = { caValidityMs: 40 * MINUTE, certValidityMs: 10 * MINUTE, caOverlapMs: 2 * MINUTE, checkIntervalMs: HOUR, now };

interface ServedReplica {
  replica: Replica;
  port: number;
}

async function servedReplica(server: FakeApiServer): Promise<ServedReplica> {
  const replica = await startReplica(server, SETTINGS);
  const https = await startHttpsServer(replica.running.provider.current());
  // As the webhook server does: take each new pair without dropping connections.
  replica.running.provider.subscribe((pair) => https.server.setSecureContext({ cert: pair.cert, key: pair.key }));
  cleanups.push(async () => {
    await replica.running.stop();
    await https.close();
  });
  return { replica, port: https.port };
}

describe('self-managed certificates: CA rotation', () => {
  it('keeps a client that trusts only the published caBundle working at every step of a rotation', async () => {
    offset = 0;
    fake = await startFake();
    const replicas = [await servedReplica(fake), await servedReplica(fake)];
    const [first] = replicas as [ServedReplica, ServedReplica];
    const caA = secretData(fake)['ca.crt'] as string;

    // A client like the API server: at any moment it trusts exactly what the configuration carries.
    let step = 'start';
    const handshakes = new Map<string, number>();
    const failures: string[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        for (const { port } of replicas) {
          const at = step;
          try {
            await handshakeFingerprint(port, publishedBundle(fake as FakeApiServer), '127.0.0.1', SERVING_NAME);
            handshakes.set(at, (handshakes.get(at) ?? 0) + 1);
          } catch (err) {
            failures.push(`${at}, replica port ${port}: ${(err as Error).message}`);
          }
        }
        await sleep(5);
      }
    })();

    /** Moves the clock, lets one replica check, waits until both serve what the Secret holds. */
    async function advanceTo(minutes: number, name: string): Promise<Record<string, string>> {
      step = name;
      offset = minutes * MINUTE;
      await first.replica.running.provider.checkNow();
      const data = secretData(fake as FakeApiServer);
      await waitFor(() => replicas.every(({ replica }) => replica.running.provider.current().cert === data['tls.crt']), `both replicas to serve the Secret's pair (${name})`, 3000);
      await waitFor(() => fingerprints(publishedBundle(fake as FakeApiServer)).join() === expectedBundle(data).join(), `the caBundle of the Secret to be published (${name})`, 3000);
      // One more handshake per replica in this state, with the bundle published now.
      for (const { port } of replicas) {
        expect(await handshakeFingerprint(port, publishedBundle(fake as FakeApiServer), '127.0.0.1', SERVING_NAME)).toBe(fingerprint(data['tls.crt']));
      }
      await sleep(30); // let the prober take a few turns in this state
      return data;
    }
    const expectedBundle = (data: Record<string, string>) => [data['ca.crt'], data['ca-next.crt'], data['ca-previous.crt']].filter((pem) => pem !== undefined).map((pem) => fingerprint(pem));
    const signedBy = (cert: string | undefined, ca: string | undefined) => new X509Certificate(cert as string).verify(new X509Certificate(ca as string).publicKey);

    // Serving certificate renewals under CA A (every 2/3 of 10 minutes).
    let data = await advanceTo(7, 'serving renewal 1');
    expect(signedBy(data['tls.crt'], caA)).toBe(true);
    expect(fingerprints(publishedBundle(fake))).toEqual([fingerprint(caA)]);
    data = await advanceTo(14, 'serving renewal 2');
    expect(data['ca.crt']).toBe(caA);

    // (1) A reaches its renewal time (half of 40 minutes): B is published, A still signs.
    data = await advanceTo(20.5, 'phase 1: next CA published');
    const caB = data['ca-next.crt'] as string;
    expect(caB).toBeDefined();
    expect(fingerprints(publishedBundle(fake))).toEqual([fingerprint(caA), fingerprint(caB)]);
    expect(signedBy(data['tls.crt'], caA)).toBe(true);

    // Within the overlap nothing switches (the serving certificate may be renewed by A).
    data = await advanceTo(21.5, 'phase 1: overlap');
    expect(data['ca.crt']).toBe(caA);
    expect(data['ca-next.crt']).toBe(caB);

    // (2) the overlap is over: B signs, A stays trusted as previous.
    data = await advanceTo(22.6, 'phase 2: switched');
    expect(data['ca.crt']).toBe(caB);
    expect(data['ca-previous.crt']).toBe(caA);
    expect(data['ca-next.crt']).toBeUndefined();
    expect(signedBy(data['tls.crt'], caB)).toBe(true);
    expect(fingerprints(publishedBundle(fake))).toEqual([fingerprint(caB), fingerprint(caA)]);

    // (3) another overlap later A is dropped.
    data = await advanceTo(24.7, 'phase 3: previous dropped');
    expect(data['ca-previous.crt']).toBeUndefined();
    expect(fingerprints(publishedBundle(fake))).toEqual([fingerprint(caB)]);

    probing = false;
    await prober;
    expect(failures).toEqual([]);
    for (const name of ['serving renewal 1', 'phase 1: next CA published', 'phase 2: switched', 'phase 3: previous dropped']) {
      expect(handshakes.get(name) ?? 0, `handshakes during ${name}`).toBeGreaterThan(0);
    }
    for (const { replica } of replicas) {
      expect(replica.running.provider.readiness()).toEqual({ ok: true });
      expect(await gaugeValue(replica.metrics, 'certificateExpiry', { certificate: 'ca' })).toBe(new Date(new X509Certificate(caB).validTo).getTime() / 1000);
      expect(await counterValue(replica.metrics, { result: 'success' })).toBeGreaterThanOrEqual(4);
    }
  });
});
