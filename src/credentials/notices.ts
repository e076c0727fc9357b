/**
 * Which Event a settled check deserves, on the Secret it checked. Only transitions speak, so a
 * periodic check that finds the same problem again adds nothing (and the recorder aggregates):
 * - Warning RegistryCredentialsRejected / RegistryUnreachable when the state becomes one of them,
 *   or stays one of them after the credentials were changed (the fix did not work);
 * - Normal RegistryCredentialsAccepted when a rejected or unreachable config works again.
 */
import type { CheckResult } from './checker.js';

export interface CredentialNotice {
  type: 'Normal' | 'Warning';
  reason: 'RegistryCredentialsRejected' | 'RegistryUnreachable' | 'RegistryCredentialsAccepted';
  message: string;
}

export function noticeFor(result: CheckResult): CredentialNotice | undefined {
  const { previous, next, changed } = result;
  const before = previous?.state;
  if (next.state === 'rejected' && (before !== 'rejected' || changed)) {
    return { type: 'Warning', reason: 'RegistryCredentialsRejected', message: `Registry login failed: ${next.reason}. Builds will fail to push until the Secret is fixed.` };
  }
  if (next.state === 'unreachable' && (before !== 'unreachable' || changed)) {
    return { type: 'Warning', reason: 'RegistryUnreachable', message: `Registry not reachable for a login check: ${next.reason}` };
  }
  if (next.state === 'ok' && (before === 'rejected' || before === 'unreachable')) {
    return { type: 'Normal', reason: 'RegistryCredentialsAccepted', message: `Registry login works again: ${next.reason}` };
  }
  return undefined;
}
