/**
 * Non-fatal findings about a registry-config Secret, shown by kubectl as `Warning: …`.
 * Each is under 120 characters and names keys only, never a value.
 */
import type { RegistryCredentials } from './credentials.js';
import { DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, REQUIRED_KEYS } from './labels.js';

/** kubectl shows warnings on one line each; the API server's own stay well below this. */
export const MAX_WARNING_LENGTH = 119;

export interface RegistryWarningInput {
  credentials: RegistryCredentials;
  /** The Secret's `type` as it arrived, of any shape. */
  secretType: unknown;
  /** A `.dockerconfigjson` not derived by this webhook (hand-written or from other credentials) is being replaced. */
  replacesForeignDockerConfig: boolean;
}

export function registryWarnings(input: RegistryWarningInput): string[] {
  const warnings: string[] = [];
  for (const key of REQUIRED_KEYS) {
    const warning = whitespaceWarning(key, input.credentials[key]);
    if (warning !== undefined) warnings.push(warning);
  }
  if (input.credentials.username.includes(':')) {
    // kubelet takes the user from the decoded `auth`, split at its first colon: part of the name becomes the password.
    warnings.push('data[username] contains ":"; docker auth is split at its first colon, so image pulls will fail');
  }
  if (input.secretType !== DOCKER_CONFIG_JSON_TYPE) warnings.push(secretTypeWarning(input.secretType));
  if (input.replacesForeignDockerConfig) {
    warnings.push(
      `data[${DOCKER_CONFIG_JSON_KEY}] was written by hand and is replaced` +
        ' with one built from username, password, serverAddress',
    );
  }
  return warnings;
}

/** The `echo secret | base64` mistake: the newline becomes part of the value. */
function whitespaceWarning(key: string, text: string): string | undefined {
  if (/[\r\n]$/.test(text)) return `data[${key}] ends with a newline (echo without -n?); it is used as is`;
  if (/^\s|\s$/u.test(text)) return `data[${key}] starts or ends with whitespace; it is used as is`;
  return undefined;
}

const PRINTABLE_TYPE = /^[A-Za-z0-9._/-]+$/;

function secretTypeWarning(secretType: unknown): string {
  const consequence = `is not ${DOCKER_CONFIG_JSON_TYPE}: pods cannot use it as an image pull secret`;
  if (typeof secretType === 'string' && PRINTABLE_TYPE.test(secretType)) {
    const named = `Secret type "${secretType}" ${consequence}`;
    if (named.length <= MAX_WARNING_LENGTH) return named;
  }
  return `Secret type ${consequence}`;
}
