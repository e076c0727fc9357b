/**
 * Strict X.509 verification by the tools users run: `openssl verify -x509_strict` and Python's
 * `ssl` with VERIFY_X509_STRICT (the default from Python 3.13 on). Both need a binary on the
 * machine; tests that use them are skipped, with one line saying what to install, without it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from '@peculiar/x509';
import type { CertificateAuthority } from '../../src/tls/generate.js';
import type { KeyPair } from '../../src/tls/types.js';

function available(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const HAS_OPENSSL = available('openssl', ['version']);
export const HAS_PYTHON_SSL = available('python3', ['-c', 'import ssl; ssl.VERIFY_X509_STRICT']);
if (!HAS_OPENSSL) console.log('skipping `openssl verify -x509_strict` checks: install openssl (apt-get install -y openssl)');
if (!HAS_PYTHON_SSL) console.log("skipping Python ssl VERIFY_X509_STRICT checks: install python3 (apt-get install -y python3)");

/** `openssl verify -x509_strict -CAfile ca leaf`: ok, or OpenSSL's complaint. */
export function opensslVerifyStrict(caPem: string, leafPem: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rcw-strict-'));
  writeFileSync(join(dir, 'ca.pem'), caPem);
  writeFileSync(join(dir, 'leaf.pem'), leafPem);
  return new Promise((resolve) => {
    execFile('openssl', ['verify', '-x509_strict', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() });
    });
  });
}

// Python 3.11 does not set VERIFY_X509_STRICT by default (3.13 does): set it, as 3.13 would.
const PYTHON_HANDSHAKE = `
import json, socket, ssl, sys
host, port, cafile, server_name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
try:
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            print(json.dumps({"ok": True, "strict": bool(ctx.verify_flags & ssl.VERIFY_X509_STRICT), "subject": subject.get("commonName")}))
except ssl.SSLCertVerificationError as err:
    print(json.dumps({"ok": False, "error": err.verify_message}))
`;

export interface PythonHandshake {
  ok: boolean;
  strict?: boolean;
  subject?: string;
  error?: string;
}

/** A TLS handshake by Python's ssl, strict, trusting only `caPem`, checking `serverName`. */
export function pythonStrictHandshake(port: number, caPem: string, serverName: string): Promise<PythonHandshake> {
  const dir = mkdtempSync(join(tmpdir(), 'rcw-strict-'));
  writeFileSync(join(dir, 'ca.pem'), caPem);
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', PYTHON_HANDSHAKE, '127.0.0.1', String(port), join(dir, 'ca.pem'), serverName], { timeout: 20_000 }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (error) reject(new Error(`python3 failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as PythonHandshake);
    });
  });
}

interface CraftOptions {
  now?: Date;
  validityMs?: number;
}

/**
 * Made by us for the negative and upgrade checks: a serving certificate signed by `ca` like ours,
 * but with no Subject or Authority Key Identifier, as older versions (selfsigned) made them.
 */
export async function leafWithoutKeyIdentifiers(ca: CertificateAuthority, dnsNames: string[], ipAddresses: string[] = [], options: CraftOptions = {}): Promise<KeyPair> {
  return craft({
    subject: dnsNames[0] ?? 'localhost',
    issuer: new X509Certificate(ca.cert).subject,
    signingKeyPem: ca.key,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
      new SubjectAlternativeNameExtension([...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))]),
    ],
    ...options,
  });
}

/** Made by us: a CA as older versions made it, without a Subject Key Identifier. */
export async function caWithoutKeyIdentifiers(commonName: string, options: CraftOptions = {}): Promise<CertificateAuthority> {
  return craft({
    subject: commonName,
    issuer: `CN=${commonName}`,
    extensions: [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
    ...options,
  });
}

/** An EC P-256 certificate with exactly the given extensions; self-signed without `signingKeyPem`. */
async function craft(spec: { subject: string; issuer: string; signingKeyPem?: string; extensions: Extension[] } & CraftOptions): Promise<KeyPair> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = spec.signingKeyPem ? createPrivateKey(spec.signingKeyPem) : privateKey;
  const signingKey = await webcrypto.subtle.importKey('pkcs8', signer.export({ type: 'pkcs8', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const now = (spec.now ?? new Date()).getTime();
  const cert = await X509CertificateGenerator.create(
    {
      subject: [{ CN: [spec.subject] }],
      issuer: spec.issuer,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (spec.validityMs ?? 24 * 60 * 60 * 1000)),
      publicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      signingKey,
      extensions: spec.extensions,
    },
    webcrypto,
  );
  return { cert: `${cert.toString('pem')}\n`, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
