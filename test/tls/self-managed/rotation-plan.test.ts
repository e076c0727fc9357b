import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { serviceDnsNames } from '../../../src/tls/dev-certificates.js';
import { createCertificateAuthority, createServingCertificate } from '../../../src/tls/generate.js';
import { applyRotationPlan, caCommonName } from '../../../src/tls/self-managed/apply-rotation.js';
import { caBundleOf, splitPemCertificates } from '../../../src/tls/self-managed/ca-bundle.js';
import { type RotationPlan, type RotationSettings, caRenewalTime, planRotation } from '../../../src/tls/self-managed/rotation-plan.js';
import type { CertificateSecretContents } from '../../../src/tls/self-managed/secret-contents.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
const SETTINGS: RotationSettings = { caValidityMs: 10 * YEAR, certValidityMs: 90 * DAY, overlapMs: HOUR };
const DNS_NAMES = serviceDnsNames('rcw', 'kyma-system');
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function plan(contents: CertificateSecretContents, now: Date, publishedBundle?: string, settings = SETTINGS, dnsNames = DNS_NAMES): RotationPlan {
  return planRotation({ contents, now, settings, dnsNames, publishedBundle });
}

/** One check as a replica makes it: plan, apply, and the plan of the result must be a no-op. */
async function step(contents: CertificateSecretContents, now: Date, options: { published?: 'bundle-of-input' | 'none'; dnsNames?: string[] } = {}) {
  const published = options.published === 'none' ? undefined : caBundleOf(contents);
  const dnsNames = options.dnsNames ?? DNS_NAMES;
  const first = plan(contents, now, published, SETTINGS, dnsNames);
  const next = await applyRotationPlan(contents, first, { now, settings: SETTINGS, dnsNames, name: 'rcw' });
  const again = plan(next, now, caBundleOf(next), SETTINGS, dnsNames);
  expect(again.changes, 'planning the result again changes nothing').toEqual([]);
  return { plan: first, contents: next, after: again };
}

const fingerprint = (pem: string | undefined) => new X509Certificate(pem as string).fingerprint256;
const signedBy = (cert: string | undefined, ca: string | undefined) => {
  const leaf = new X509Certificate(cert as string);
  const issuer = new X509Certificate(ca as string);
  return leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
};
const bundle = (contents: CertificateSecretContents) => splitPemCertificates(caBundleOf(contents)).map(fingerprint);

async function freshSecret(now = T0): Promise<CertificateSecretContents> {
  return (await step({}, now)).contents;
}

describe('planRotation', () => {
  it('creates CA and serving certificate for an absent Secret', async () => {
    const { plan: p, contents, after } = await step({}, T0);
    expect(p).toMatchObject({ ca: 'create', nextCa: 'none', previousCa: 'none', servingCertificate: 'issue', phase: 'single' });
    expect(p.changes[0]).toMatch(/no CA yet/);
    expect(signedBy(contents.tlsCert, contents.caCert)).toBe(true);
    expect(new X509Certificate(contents.tlsCert as string).subjectAltName).toBe(DNS_NAMES.map((n) => `DNS:${n}`).join(', '));
    expect(new X509Certificate(contents.caCert as string).ca).toBe(true);
    expect(contents.nextCaCert).toBeUndefined();
    expect(contents.previousCaCert).toBeUndefined();
    // Next look: the serving certificate's renewal at two thirds of 90 days.
    expect(after.wakeAt?.getTime()).toBe(at(60 * DAY).getTime());
  });

  it('keeps a usable CA and only issues the missing serving certificate (partial Secret)', async () => {
    const full = await freshSecret();
    const { plan: p, contents } = await step({ caCert: full.caCert, caKey: full.caKey }, at(DAY));
    expect(p).toMatchObject({ ca: 'keep', servingCertificate: 'issue' });
    expect(p.changes).toEqual(['no serving certificate yet: issuing one']);
    expect(contents.caCert).toBe(full.caCert);
    expect(signedBy(contents.tlsCert, full.caCert)).toBe(true);
  });

  it('replaces a CA whose key is missing, keeping its still-valid certificate as previous', async () => {
    const full = await freshSecret();
    const { plan: p, contents } = await step({ caCert: full.caCert, tlsCert: full.tlsCert, tlsKey: full.tlsKey }, at(DAY));
    expect(p).toMatchObject({ ca: 'create', previousCa: 'from-current', servingCertificate: 'issue', phase: 'switched' });
    expect(contents.caCert).not.toBe(full.caCert);
    expect(contents.previousCaCert).toBe(full.caCert);
    expect(contents.caSwitchedAt).toEqual(at(DAY));
    expect(bundle(contents)).toEqual([fingerprint(contents.caCert), fingerprint(full.caCert)]);
  });

  it('replaces garbage', async () => {
    const full = await freshSecret();
    const garbage = { caCert: 'not a certificate', caKey: full.caKey, tlsCert: full.tlsCert, tlsKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' };
    const { plan: p, contents } = await step(garbage, at(DAY));
    expect(p).toMatchObject({ ca: 'create', previousCa: 'none', servingCertificate: 'issue' });
    expect(p.changes[0]).toMatch(/the CA is unusable \(the CA certificate is not PEM/);
    expect(signedBy(contents.tlsCert, contents.caCert)).toBe(true);

    const badKey = await step({ ...full, tlsKey: garbage.tlsKey }, at(DAY));
    expect(badKey.plan).toMatchObject({ ca: 'keep', servingCertificate: 'issue' });
    expect(badKey.plan.changes[0]).toMatch(/serving certificate is unusable/);
  });

  it('never quotes key material in its reasons', async () => {
    const full = await freshSecret();
    const p = plan({ ...full, caKey: 'x'.repeat(10) + (full.caKey as string).slice(40), tlsKey: full.caKey }, at(DAY));
    expect(p.changes.join('\n')).not.toMatch(/BEGIN|xxxxxxxxxx/);
  });

  it('renews the serving certificate at two thirds of its life, not before', async () => {
    const full = await freshSecret();
    expect(plan(full, at(60 * DAY - MINUTE)).changes).toEqual([]);
    const { plan: p, contents } = await step(full, at(60 * DAY));
    expect(p).toMatchObject({ ca: 'keep', servingCertificate: 'issue' });
    expect(p.changes[0]).toMatch(/two thirds of its life/);
    expect(contents.caCert).toBe(full.caCert);
    expect(new X509Certificate(contents.tlsCert as string).validTo).toBe(new X509Certificate((await freshSecret(at(60 * DAY))).tlsCert as string).validTo);
  });

  it('renews when the DNS names differ', async () => {
    const full = await freshSecret();
    const names = serviceDnsNames('renamed', 'kyma-system');
    const { plan: p, contents } = await step(full, at(DAY), { dnsNames: names });
    expect(p.servingCertificate).toBe('issue');
    expect(p.changes[0]).toMatch(/DNS names .* differ/);
    expect(new X509Certificate(contents.tlsCert as string).subjectAltName).toContain('DNS:renamed.kyma-system.svc');
    // Same names in another order are the same set.
    expect(plan(full, at(DAY), undefined, SETTINGS, [...DNS_NAMES].reverse()).changes).toEqual([]);
  });

  it('renews a serving certificate not signed by the current CA', async () => {
    const full = await freshSecret();
    const other = await createCertificateAuthority({ commonName: 'other CA', validityMs: YEAR, now: T0 });
    const foreign = await createServingCertificate({ ca: other, dnsNames: DNS_NAMES, validityMs: 90 * DAY, now: T0 });
    const p = plan({ ...full, tlsCert: foreign.cert, tlsKey: foreign.key }, at(DAY));
    expect(p.servingCertificate).toBe('issue');
    expect(p.changes[0]).toMatch(/not signed by the current CA/);
  });

  it('runs a CA rotation with overlap: publish next, switch, drop previous', async () => {
    const a = await freshSecret();
    const renewAt = caRenewalTime({ notBefore: new Date(new X509Certificate(a.caCert as string).validFrom), notAfter: new Date(new X509Certificate(a.caCert as string).validTo) }, SETTINGS);
    expect(renewAt.getTime()).toBe(at(8 * YEAR).getTime());

    // Keep the serving certificate fresh up to just before the renewal time: no CA change.
    let state = (await step(a, at(8 * YEAR - DAY))).contents;
    expect(state.caCert).toBe(a.caCert);
    expect(plan(state, at(8 * YEAR - MINUTE)).changes).toEqual([]);

    // (1) the CA reaches its renewal time: a next CA is published, the serving cert stays A-signed.
    const phase1 = await step(state, at(8 * YEAR));
    expect(phase1.plan).toMatchObject({ ca: 'keep', nextCa: 'create', previousCa: 'none', servingCertificate: 'keep', phase: 'next-published' });
    state = phase1.contents;
    expect(state.nextCaAddedAt).toEqual(at(8 * YEAR));
    expect(bundle(state)).toEqual([fingerprint(a.caCert), fingerprint(state.nextCaCert)]);
    expect(signedBy(state.tlsCert, a.caCert)).toBe(true);
    expect(phase1.after.wakeAt).toEqual(at(8 * YEAR + HOUR));
    const b = state.nextCaCert;

    // Before the overlap is over nothing changes.
    expect(plan(state, at(8 * YEAR + HOUR - 1), caBundleOf(state)).changes).toEqual([]);

    // Overlap over, but the webhook configuration does not carry B yet: wait.
    const unpublished = plan(state, at(8 * YEAR + HOUR), caBundleOf({ caCert: a.caCert }));
    expect(unpublished.changes).toEqual([]);
    expect(unpublished.waiting).toMatch(/waits until the webhook configuration carries it/);
    expect(plan(state, at(8 * YEAR + HOUR), undefined).changes).toEqual([]);

    // (2) published and the overlap is over: B signs, A stays trusted as previous.
    const phase2 = await step(state, at(8 * YEAR + HOUR));
    expect(phase2.plan).toMatchObject({ ca: 'from-next', nextCa: 'none', previousCa: 'from-current', servingCertificate: 'issue', phase: 'switched' });
    state = phase2.contents;
    expect(state.caCert).toBe(b);
    expect(state.previousCaCert).toBe(a.caCert);
    expect(state.nextCaCert).toBeUndefined();
    expect(state.nextCaAddedAt).toBeUndefined();
    expect(state.caSwitchedAt).toEqual(at(8 * YEAR + HOUR));
    expect(signedBy(state.tlsCert, b)).toBe(true);
    expect(bundle(state)).toEqual([fingerprint(b), fingerprint(a.caCert)]);

    // (3) another overlap later: A is dropped.
    expect(plan(state, at(8 * YEAR + 2 * HOUR - 1)).changes).toEqual([]);
    const phase3 = await step(state, at(8 * YEAR + 2 * HOUR));
    expect(phase3.plan).toMatchObject({ ca: 'keep', previousCa: 'none', servingCertificate: 'keep', phase: 'single' });
    expect(phase3.plan.changes).toEqual(['the overlap after the CA switch is over: dropping the previous CA']);
    state = phase3.contents;
    expect(state.caSwitchedAt).toBeUndefined();
    expect(bundle(state)).toEqual([fingerprint(b)]);
    // B's own renewal comes 8 years after it was made.
    expect(phase3.after.wakeAt?.getTime()).toBeLessThan(at(16 * YEAR).getTime());
  });

  it('lets the next CA take over when the current one expired before the switch', async () => {
    const a = await freshSecret();
    const phase1 = (await step(a, at(8 * YEAR))).contents;
    const { plan: p, contents } = await step(phase1, at(10 * YEAR + DAY), { published: 'none' });
    expect(p).toMatchObject({ ca: 'from-next', previousCa: 'none', servingCertificate: 'issue', phase: 'single' });
    expect(contents.caCert).toBe(phase1.nextCaCert);
    expect(signedBy(contents.tlsCert, phase1.nextCaCert)).toBe(true);
  });

  it('replaces an expired CA without a successor and does not keep it as previous', async () => {
    const a = await freshSecret();
    const { plan: p, contents } = await step(a, at(10 * YEAR + DAY));
    expect(p).toMatchObject({ ca: 'create', previousCa: 'none', servingCertificate: 'issue' });
    expect(p.changes[0]).toMatch(/expired/);
    expect(contents.previousCaCert).toBeUndefined();
  });

  it('starts the overlap now when a rotation time annotation is missing', async () => {
    const phase1 = (await step(await freshSecret(), at(8 * YEAR))).contents;
    const { nextCaAddedAt: _dropped, ...withoutTime } = phase1;
    const { plan: p, contents } = await step(withoutTime, at(8 * YEAR + 30 * MINUTE));
    expect(p.changes).toEqual(['the next CA has no publication time: its overlap starts now']);
    expect(contents.nextCaAddedAt).toEqual(at(8 * YEAR + 30 * MINUTE));
    expect(contents.nextCaCert).toBe(phase1.nextCaCert);
  });

  it('drops an unusable next CA and publishes a new one', async () => {
    const phase1 = (await step(await freshSecret(), at(8 * YEAR))).contents;
    const { plan: p, contents } = await step({ ...phase1, nextCaKey: 'garbage' }, at(8 * YEAR + MINUTE));
    expect(p).toMatchObject({ nextCa: 'create', phase: 'next-published' });
    expect(p.changes[0]).toMatch(/dropping the unusable next CA/);
    expect(contents.nextCaCert).not.toBe(phase1.nextCaCert);
    expect(contents.nextCaAddedAt).toEqual(at(8 * YEAR + MINUTE));
  });

  it('does not renew a serving certificate cut short by its CA ever faster', async () => {
    // CA 100 days, serving 90 days: renewal of the CA at half its life (50 d), serving certs capped.
    const settings: RotationSettings = { caValidityMs: 100 * DAY, certValidityMs: 90 * DAY, overlapMs: HOUR };
    const first = planRotation({ contents: {}, now: T0, settings, dnsNames: DNS_NAMES, publishedBundle: undefined });
    const contents = await applyRotationPlan({}, first, { now: T0, settings, dnsNames: DNS_NAMES, name: 'rcw' });
    // Keep the next CA unpublished so the switch never comes: the old CA runs to its end.
    let state = contents;
    let issued = 0;
    for (let day = 1; day < 100; day++) {
      const now = at(day * DAY);
      const p = planRotation({ contents: state, now, settings, dnsNames: DNS_NAMES, publishedBundle: undefined });
      if (p.servingCertificate === 'issue') issued++;
      state = await applyRotationPlan(state, p, { now, settings, dnsNames: DNS_NAMES, name: 'rcw' });
    }
    // At most one renewal (at 60 d, capped at the CA's end at 100 d); no renewal storm after.
    expect(issued).toBeLessThanOrEqual(1);
    expect(state.nextCaCert).toBeDefined();
  });

  it('removes stale rotation annotations', () => {
    return freshSecret().then((full) => {
      const p = plan({ ...full, nextCaAddedAt: T0, caSwitchedAt: T0 }, at(DAY));
      expect(p.changes).toEqual(['removing a stale next-CA time']);
      expect(p.nextCaAddedAt).toBeUndefined();
      expect(p.caSwitchedAt).toBeUndefined();
    });
  });
});

describe('caCommonName', () => {
  it('is distinct per CA, a valid common name, and at most 64 characters', () => {
    const a = caCommonName('registry-config-webhook', T0);
    const b = caCommonName('registry-config-webhook', T0);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^registry-config-webhook CA 20300101T000000Z [0-9a-f]{6}$/);
    expect(caCommonName('x'.repeat(63), T0).length).toBeLessThanOrEqual(64);
  });
});
