/**
 * metav1.MicroTime as kube-apiserver parses it: RFC 3339 with exactly six fractional digits
 * (`2026-11-27T18:07:21.014000Z`). A JS Date serialises with three digits, which the server
 * rejects with 400 (Lease acquireTime/renewTime, events.k8s.io eventTime).
 */
import type { V1MicroTime } from '@kubernetes/client-node';

const MICRO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** `2026-11-27T18:07:21.014000Z`: milliseconds padded to microseconds, always UTC. */
export function formatMicroTime(time: Date | number): string {
  const date = typeof time === 'number' ? new Date(time) : time;
  const iso = date.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  return `${iso.slice(0, -1)}000Z`;
}

/**
 * The value to put in a client-node model field typed V1MicroTime. client-node's serializer passes
 * strings through untouched, so the six digits reach the wire whatever Date subclass it would use.
 */
export function microTime(time: Date | number): V1MicroTime {
  return formatMicroTime(time) as unknown as V1MicroTime;
}

/**
 * Milliseconds since the epoch of a MicroTime/Time as read back: client-node leaves MicroTime
 * fields as the server's string, Time fields become Dates. Undefined when absent or malformed.
 */
export function parseMicroTime(value: unknown): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value !== 'string' || !MICRO_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
