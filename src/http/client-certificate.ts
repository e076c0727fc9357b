/**
 * Optional client certificates on the admission path (WEBHOOK_CLIENT_CA): kube-apiserver presents
 * one when an AdmissionConfiguration gives it a kubeconfig for this webhook. The TLS server asks
 * every client for a certificate but does not refuse the handshake without one (the resolver API
 * on the same port authenticates by bearer token); this hook answers 401 on the webhook path,
 * before any body is read, unless the certificate verified against the configured CA bundle
 * (chain, validity period, clientAuth purpose: checked by the TLS stack, `socket.authorized`).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a PEM CA bundle; throws a message naming the file when it holds no usable certificate. */
export function readClientCaBundle(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`WEBHOOK_CLIENT_CA: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`WEBHOOK_CLIENT_CA: "${path}" holds no PEM certificate`);
  for (const block of blocks) {
    try {
      const cert = new X509Certificate(block);
      if (!cert.ca) throw new Error(`"${cert.subject}" is not a CA certificate`);
    } catch (err) {
      throw new Error(`WEBHOOK_CLIENT_CA: "${path}": ${(err as Error).message.startsWith('"') ? (err as Error).message : 'a certificate in it cannot be parsed'}`);
    }
  }
  return blocks.join('\n');
}

export interface ClientCertificateCheckOptions {
  /** The route path the check applies to (the admission path). */
  path: string;
  /** Called for each refusal with the TLS verification error (e.g. CERT_HAS_EXPIRED), or "none" when no certificate was sent. */
  onRefused?: (reason: string) => void;
}

/** Registers the onRequest hook (runs after routing, before the body is read). */
export function requireClientCertificate(app: FastifyInstance, options: ClientCertificateCheckOptions): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.url !== options.path) {
      done();
      return;
    }
    const socket = request.raw.socket as TLSSocket;
    if (socket.authorized) {
      done();
      return;
    }
    const hasCertificate = typeof socket.getPeerCertificate === 'function' && Object.keys(socket.getPeerCertificate()).length > 0;
    options.onRefused?.(hasCertificate ? String(socket.authorizationError ?? 'unverified') : 'none');
    void reply
      .code(401)
      .send({ code: 'CLIENT_CERTIFICATE_REQUIRED', message: 'this path requires a client certificate signed by the configured CA (WEBHOOK_CLIENT_CA)' });
  });
}
