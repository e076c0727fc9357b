import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';

/** A TLS connection to the webhook port that sends only what a test writes (an attacker's client). */
export function openTls(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A plain TCP connection that never starts TLS. */
export function openTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export interface Closed {
  /** Milliseconds from the call until the server closed the connection. */
  afterMs: number;
  /** Everything the server sent. */
  received: string;
}

/** Resolves when the connection closes, with what the server sent until then. */
export function whenClosed(socket: Socket): Promise<Closed> {
  const started = performance.now();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    socket.once('close', () => resolve({ afterMs: performance.now() - started, received: Buffer.concat(chunks).toString('latin1') }));
  });
}

/** Request line and headers of a review POST as the API server sends it, with the given Content-Length. */
export function reviewHead(path: string, contentLength: number): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;
}
