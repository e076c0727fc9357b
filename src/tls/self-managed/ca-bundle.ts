import { X509Certificate } from 'node:crypto';
import type { CertificateSecretContents } from './secret-contents.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of a bundle, in order, each ending with a newline. */
export function splitPemCertificates(bundle: string): string[] {
  return (bundle.match(PEM_CERTIFICATE) ?? []).map((block) => `${block}\n`);
}

/** SHA-256 fingerprints of the certificates in a bundle that parse. */
export function bundleFingerprints(bundle: string): Set<string> {
  const fingerprints = new Set<string>();
  for (const block of splitPemCertificates(bundle)) {
    const fingerprint = fingerprintOf(block);
    if (fingerprint) fingerprints.add(fingerprint);
  }
  return fingerprints;
}

/** Whether `bundle` holds the certificate `pem` (same fingerprint). */
export function bundleContains(bundle: string, pem: string): boolean {
  const fingerprint = fingerprintOf(pem);
  return fingerprint !== undefined && bundleFingerprints(bundle).has(fingerprint);
}

/**
 * The caBundle for the Secret's state: the signing CA first, then the next CA (phase 1) and the
 * previous CA (phase 2). Blocks that do not parse are left out.
 */
export function caBundleOf(contents: CertificateSecretContents): string {
  const blocks: string[] = [];
  const seen = new Set<string>();
  for (const pem of [contents.caCert, contents.nextCaCert, contents.previousCaCert]) {
    if (pem === undefined) continue;
    for (const block of splitPemCertificates(pem)) {
      const fingerprint = fingerprintOf(block);
      if (fingerprint === undefined || seen.has(fingerprint)) continue;
      seen.add(fingerprint);
      blocks.push(block);
    }
  }
  return blocks.join('');
}

/**
 * Whether some certificate of `bundle` issued the first certificate of `servingPem` (issuer name
 * matches and its key verifies the signature): what the API server needs to trust the server.
 */
export function bundleTrusts(bundle: string, servingPem: string): boolean {
  const [leafPem] = splitPemCertificates(servingPem);
  if (leafPem === undefined) return false;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafPem);
  } catch {
    return false;
  }
  return splitPemCertificates(bundle).some((block) => {
    try {
      const ca = new X509Certificate(block);
      return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
}

function fingerprintOf(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}
