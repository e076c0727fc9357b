import { randomBytes } from 'node:crypto';
import { type CertificateAuthority, createCertificateAuthority, createServingCertificate } from '../generate.js';
import type { RotationPlan, RotationSettings } from './rotation-plan.js';
import type { CertificateSecretContents } from './secret-contents.js';

export interface ApplyRotationOptions {
  now: Date;
  settings: RotationSettings;
  dnsNames: readonly string[];
  /** Names the CAs: `<name> CA <time> <random>`. */
  name: string;
}

/** Builds the Secret contents a plan asks for, generating the keys and certificates it needs. */
export async function applyRotationPlan(contents: CertificateSecretContents, plan: RotationPlan, options: ApplyRotationOptions): Promise<CertificateSecretContents> {
  const { now, settings } = options;
  const newCa = () => createCertificateAuthority({ commonName: caCommonName(options.name, now), validityMs: settings.caValidityMs, now });

  let ca: CertificateAuthority;
  if (plan.ca === 'keep') ca = required(contents.caCert, contents.caKey, 'CA');
  else if (plan.ca === 'from-next') ca = required(contents.nextCaCert, contents.nextCaKey, 'next CA');
  else ca = await newCa();

  const result: CertificateSecretContents = { caCert: ca.cert, caKey: ca.key };
  if (plan.nextCa === 'keep') {
    const next = required(contents.nextCaCert, contents.nextCaKey, 'next CA');
    result.nextCaCert = next.cert;
    result.nextCaKey = next.key;
  } else if (plan.nextCa === 'create') {
    const next = await newCa();
    result.nextCaCert = next.cert;
    result.nextCaKey = next.key;
  }
  if (plan.previousCa === 'keep') result.previousCaCert = contents.previousCaCert;
  else if (plan.previousCa === 'from-current') result.previousCaCert = contents.caCert;

  if (plan.servingCertificate === 'keep') {
    const serving = required(contents.tlsCert, contents.tlsKey, 'serving certificate');
    result.tlsCert = serving.cert;
    result.tlsKey = serving.key;
  } else {
    const serving = await createServingCertificate({ ca, dnsNames: options.dnsNames, validityMs: settings.certValidityMs, now });
    result.tlsCert = serving.cert;
    result.tlsKey = serving.key;
  }
  if (plan.nextCaAddedAt) result.nextCaAddedAt = plan.nextCaAddedAt;
  if (plan.caSwitchedAt) result.caSwitchedAt = plan.caSwitchedAt;
  return result;
}

/**
 * A distinct subject per CA: old and new CA are trusted side by side during a rotation, and TLS
 * libraries look issuers up by subject name first (the key identifiers only break ties).
 */
export function caCommonName(name: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const suffix = ` CA ${stamp} ${randomBytes(3).toString('hex')}`;
  const prefix = name.replace(/[^A-Za-z0-9 ._:*-]/g, '-').slice(0, 64 - suffix.length);
  return `${prefix}${suffix}`;
}

function required(cert: string | undefined, key: string | undefined, what: string): CertificateAuthority {
  // The plan keeps only what it found usable; a missing part here is a planning bug.
  if (cert === undefined || key === undefined) throw new Error(`internal error: the plan keeps the ${what}, but it is missing`);
  return { cert, key };
}
