/**
 * What the self-managed certificate Secret should become, decided from what it holds now: a small
 * state machine with all its state in the Secret, so every replica that reads the same Secret at
 * the same time decides the same thing. Pure: no I/O, no key generation (apply-rotation.ts does that).
 *
 * CA rotation with overlap (defaults: CA 10 y, serving certificate 90 d, overlap = check interval 1 h):
 *
 *   when                         Secret                                  caBundle   serving cert signed by
 *   ---------------------------  --------------------------------------  ---------  ----------------------
 *   CA A created                 ca=A                                    A          A, renewed at 2/3 of its life (60 d)
 *   A's renewal time (8 y) (1)   ca=A  ca-next=B      + ca-next-added-at  A+B        A   (B published, not signing)
 *   + overlap, B published (2)   ca=B  ca-previous=A  + ca-switched-at    B+A        B   (new serving cert at once)
 *   + another overlap      (3)   ca=B                                    B          B   (A dropped)
 *   B's renewal time             ... the same again with B -> C
 *
 * A CA's renewal time is `notAfter - max(20 % of its life, 2 x serving validity)`, never before half
 * its life. (1) -> (2) also waits until the webhook configuration is seen carrying B in every entry,
 * so the API server trusts B before anything B-signed is served; if A expires first, B takes over
 * anyway. (2) -> (3) waits so that every replica has picked up the B-signed certificate (they
 * watch the Secret; one with a broken watch re-reads it at its next periodic check) while clients
 * still trust A. At every step the caBundle trusts whatever any replica may still serve.
 *
 * The serving certificate is renewed at two thirds of its life, when its DNS names differ from the
 * wanted ones, when the signing CA changes or when it is not signed by the current CA, missing,
 * unusable, or without key identifiers (made by an older version). A CA without a Subject Key
 * Identifier is rotated as if at its renewal time. A CA that is missing, garbage, expired or has no matching key is replaced at once
 * (its certificate is kept as ca-previous while it is still valid, for replicas still serving it).
 */
import { X509Certificate } from 'node:crypto';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../generate.js';
import { type CertificateFacts, inspectCertificate, inspectKeyPair, keyIdentifiersOf } from '../inspect.js';
import { bundleContains } from './ca-bundle.js';
import type { CertificateSecretContents } from './secret-contents.js';

export interface RotationSettings {
  caValidityMs: number;
  certValidityMs: number;
  /**
   * How long a next CA is published before it signs, and how long the previous CA stays trusted
   * after the switch. At least the check interval, so a replica with a broken watch catches up.
   */
  overlapMs: number;
}

export interface RotationInput {
  contents: CertificateSecretContents;
  now: Date;
  settings: RotationSettings;
  /** The serving certificate's DNS names (the Service's names). */
  dnsNames: readonly string[];
  /**
   * The caBundle every entry of the webhook configuration carries (PEM), as last seen; undefined
   * when unknown, when entries differ or without a configuration. The switch to a next CA waits
   * until it contains that CA.
   */
  publishedBundle: string | undefined;
}

export type RotationPhase = 'single' | 'next-published' | 'switched';

/** Where each piece of the new Secret comes from. */
export interface RotationPlan {
  ca: 'keep' | 'create' | 'from-next';
  nextCa: 'keep' | 'create' | 'none';
  previousCa: 'keep' | 'from-current' | 'none';
  servingCertificate: 'keep' | 'issue';
  nextCaAddedAt: Date | undefined;
  caSwitchedAt: Date | undefined;
  /** The rotation phase after this plan. */
  phase: RotationPhase;
  /** Why the Secret changes, one entry per change, for the log. Empty: the Secret stays as it is. */
  changes: string[];
  /** Why a due step is held back (the next CA is not published yet), for the log. */
  waiting: string | undefined;
  /**
   * When the unchanged state needs its next look (renewal time, end of an overlap), if known.
   * Only meaningful when `changes` is empty: plan again after applying for the new state's.
   */
  wakeAt: Date | undefined;
}

export function hasChanges(plan: RotationPlan): boolean {
  return plan.changes.length > 0;
}

type CaInspection =
  | { ok: true; facts: CertificateFacts; x509: X509Certificate }
  | { ok: false; error: string; certificateUsable: boolean };

export function planRotation(input: RotationInput): RotationPlan {
  const { contents, now, settings } = input;
  const changes: string[] = [];
  const wakeTimes: Date[] = [];
  let waiting: string | undefined;

  const current = inspectCa(contents.caCert, contents.caKey, now, 'CA');
  const next = contents.nextCaCert !== undefined || contents.nextCaKey !== undefined ? inspectCa(contents.nextCaCert, contents.nextCaKey, now, 'next CA') : undefined;
  const previous = contents.previousCaCert !== undefined ? inspectPreviousCa(contents.previousCaCert, now) : undefined;

  let ca: RotationPlan['ca'] = 'keep';
  let nextCa: RotationPlan['nextCa'] = 'none';
  let previousCa: RotationPlan['previousCa'] = 'none';
  let nextCaAddedAt = contents.nextCaAddedAt;
  let caSwitchedAt = contents.caSwitchedAt;
  let signing: X509Certificate | undefined;

  if (!current.ok) {
    // No usable CA: the next one takes over if there is one, else a new one. A still-valid
    // certificate of the old CA stays trusted for replicas still serving what it signed.
    previousCa = current.certificateUsable ? 'from-current' : 'none';
    caSwitchedAt = previousCa === 'from-current' ? now : undefined;
    if (next?.ok) {
      ca = 'from-next';
      signing = next.x509;
      changes.push(`the CA is unusable (${current.error}); the next CA takes over`);
    } else {
      ca = 'create';
      const empty = contents.caCert === undefined && contents.caKey === undefined;
      changes.push(empty ? 'no CA yet: creating one' : `the CA is unusable (${current.error}): creating a new one`);
      if (next && !next.ok) changes.push(`dropping the unusable next CA (${next.error})`);
    }
    if (previous) changes.push('dropping the previous CA (replaced)');
  } else {
    signing = current.x509;
    if (previous) {
      if (!previous.ok) {
        changes.push(`dropping the unusable previous CA (${previous.error})`);
      } else if (caSwitchedAt === undefined) {
        previousCa = 'keep';
        caSwitchedAt = now;
        changes.push('the previous CA has no switch time: its overlap starts now');
      } else if (now.getTime() >= caSwitchedAt.getTime() + settings.overlapMs) {
        changes.push('the overlap after the CA switch is over: dropping the previous CA');
      } else {
        previousCa = 'keep';
        wakeTimes.push(new Date(caSwitchedAt.getTime() + settings.overlapMs));
      }
    }
    if (next) {
      if (!next.ok) {
        changes.push(`dropping the unusable next CA (${next.error})`);
      } else if (nextCaAddedAt === undefined) {
        nextCa = 'keep';
        nextCaAddedAt = now;
        changes.push('the next CA has no publication time: its overlap starts now');
      } else if (now.getTime() < nextCaAddedAt.getTime() + settings.overlapMs) {
        nextCa = 'keep';
        wakeTimes.push(new Date(nextCaAddedAt.getTime() + settings.overlapMs));
      } else if (previousCa !== 'none') {
        // One rotation at a time: the CA before the current one must be gone first.
        nextCa = 'keep';
      } else if (input.publishedBundle === undefined || !bundleContains(input.publishedBundle, contents.nextCaCert as string)) {
        nextCa = 'keep';
        waiting = 'the switch to the next CA waits until the webhook configuration carries it in every caBundle';
      } else {
        ca = 'from-next';
        signing = next.x509;
        previousCa = 'from-current';
        caSwitchedAt = now;
        changes.push(`the next CA was published ${formatSince(nextCaAddedAt, now)}: it now signs, the old CA stays trusted as previous`);
      }
    }
    if (ca === 'keep' && nextCa === 'none' && previousCa === 'none') {
      const renewAt = caRenewalTime(current.facts, settings);
      // A CA an older version made has no Subject Key Identifier, which strict clients refuse:
      // replace it now, through the same overlap as any renewal.
      const lacksKeyId = !keyIdentifiersOf(contents.caCert as string).subject;
      if (lacksKeyId) {
        nextCa = 'create';
        nextCaAddedAt = now;
        changes.push('the CA has no Subject Key Identifier (made by an older version; strict X.509 clients refuse it): publishing a next CA');
      } else if (now.getTime() >= renewAt.getTime()) {
        nextCa = 'create';
        nextCaAddedAt = now;
        changes.push(`the CA reaches its renewal time (it expires at ${current.facts.notAfter.toISOString()}): publishing a next CA`);
      } else {
        wakeTimes.push(renewAt);
      }
    }
  }

  if (nextCa === 'none') nextCaAddedAt = undefined;
  if (previousCa === 'none') caSwitchedAt = undefined;
  if (nextCaAddedAt === undefined && contents.nextCaAddedAt !== undefined && changes.length === 0) changes.push('removing a stale next-CA time');
  if (caSwitchedAt === undefined && contents.caSwitchedAt !== undefined && changes.length === 0) changes.push('removing a stale CA switch time');

  let servingCertificate: RotationPlan['servingCertificate'] = 'keep';
  if (ca !== 'keep') {
    servingCertificate = 'issue';
    changes.push('the signing CA changed: issuing a new serving certificate');
  } else {
    const serving = servingVerdict(contents, signing as X509Certificate, input);
    if (serving.renew) {
      servingCertificate = 'issue';
      changes.push(serving.reason);
    } else if (serving.wakeAt) {
      wakeTimes.push(serving.wakeAt);
    }
  }

  const phase: RotationPhase = nextCa !== 'none' ? 'next-published' : previousCa !== 'none' ? 'switched' : 'single';
  const wakeAt = wakeTimes.length > 0 ? new Date(Math.min(...wakeTimes.map((t) => t.getTime()))) : undefined;
  return { ca, nextCa, previousCa, servingCertificate, nextCaAddedAt, caSwitchedAt, phase, changes, waiting, wakeAt };
}

/** When a next CA is created: `notAfter - max(20 % of life, 2 x serving validity)`, not before half its life. */
export function caRenewalTime(facts: Pick<CertificateFacts, 'notBefore' | 'notAfter'>, settings: Pick<RotationSettings, 'certValidityMs'>): Date {
  const issued = issuedAt(facts);
  const life = facts.notAfter.getTime() - issued;
  const lead = Math.max(0.2 * life, 2 * settings.certValidityMs);
  return new Date(Math.max(facts.notAfter.getTime() - lead, issued + life / 2));
}

/** When a serving certificate is renewed: at two thirds of its life. */
export function servingRenewalTime(facts: Pick<CertificateFacts, 'notBefore' | 'notAfter'>): Date {
  const issued = issuedAt(facts);
  return new Date(issued + ((facts.notAfter.getTime() - issued) * 2) / 3);
}

/**
 * generate.ts backdates notBefore by the clock-skew allowance; a certificate's life for renewal
 * purposes starts when it was made.
 */
function issuedAt(facts: Pick<CertificateFacts, 'notBefore' | 'notAfter'>): number {
  const backdated = facts.notBefore.getTime() + CLOCK_SKEW_ALLOWANCE_MS;
  return backdated < facts.notAfter.getTime() ? backdated : facts.notBefore.getTime();
}

function servingVerdict(
  contents: CertificateSecretContents,
  ca: X509Certificate,
  input: RotationInput,
): { renew: true; reason: string } | { renew: false; wakeAt: Date | undefined } {
  if (contents.tlsCert === undefined || contents.tlsKey === undefined) {
    return { renew: true, reason: 'no serving certificate yet: issuing one' };
  }
  const inspection = inspectKeyPair({ cert: contents.tlsCert, key: contents.tlsKey }, input.now);
  if (!inspection.ok) return { renew: true, reason: `the serving certificate is unusable (${inspection.error}): issuing a new one` };
  const cert = new X509Certificate(contents.tlsCert);
  if (!signedBy(cert, ca)) return { renew: true, reason: 'the serving certificate is not signed by the current CA: issuing a new one' };
  const ids = keyIdentifiersOf(contents.tlsCert);
  if (!ids.subject || !ids.authority) {
    return { renew: true, reason: 'the serving certificate has no key identifiers (made by an older version; strict X.509 clients refuse it): issuing a new one' };
  }
  const wanted = new Set(input.dnsNames);
  const names = new Set(inspection.dnsNames);
  if (inspection.ipAddresses.length > 0 || names.size !== wanted.size || [...wanted].some((name) => !names.has(name))) {
    return { renew: true, reason: `the serving certificate's DNS names (${inspection.dnsNames.join(', ')}) differ from the wanted ones: issuing a new one` };
  }
  const renewAt = servingRenewalTime(inspection);
  // A certificate cut short by its CA's expiry is not renewed if a new one would end no later:
  // the CA rotation replaces it (else renewals would come ever faster towards the CA's end).
  const caNotAfter = new Date(ca.validTo).getTime();
  const renewedNotAfter = Math.min(input.now.getTime() + input.settings.certValidityMs, caNotAfter);
  const gains = renewedNotAfter - inspection.notAfter.getTime() >= 1000;
  if (input.now.getTime() >= renewAt.getTime()) {
    if (gains) return { renew: true, reason: `the serving certificate is past two thirds of its life (it expires at ${inspection.notAfter.toISOString()}): issuing a new one` };
    return { renew: false, wakeAt: inspection.notAfter };
  }
  return { renew: false, wakeAt: renewAt };
}

function signedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

function inspectCa(cert: string | undefined, key: string | undefined, now: Date, what: string): CaInspection {
  if (cert === undefined) return { ok: false, error: `the ${what} certificate is missing`, certificateUsable: false };
  const certificate = inspectCertificate(cert, now, `${what} certificate`);
  const certificateUsable = certificate.ok && isCa(cert);
  if (!certificate.ok) return { ok: false, error: certificate.error, certificateUsable };
  if (key === undefined) return { ok: false, error: `the ${what} key is missing`, certificateUsable };
  const pair = inspectKeyPair({ cert, key }, now);
  if (!pair.ok) return { ok: false, error: pair.error, certificateUsable };
  if (!certificateUsable) return { ok: false, error: `the ${what} certificate is not a CA`, certificateUsable };
  const { ok: _ok, ...facts } = pair;
  return { ok: true, facts, x509: new X509Certificate(cert) };
}

function inspectPreviousCa(cert: string, now: Date): { ok: true } | { ok: false; error: string } {
  const inspection = inspectCertificate(cert, now, 'previous CA certificate');
  if (!inspection.ok) return inspection;
  return isCa(cert) ? { ok: true } : { ok: false, error: 'the previous CA certificate is not a CA' };
}

function isCa(pem: string): boolean {
  try {
    return new X509Certificate(pem).ca;
  } catch {
    return false;
  }
}

function formatSince(since: Date, now: Date): string {
  return `${Math.round((now.getTime() - since.getTime()) / 1000)} s ago`;
}
