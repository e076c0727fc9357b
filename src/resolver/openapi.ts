/**
 * The resolver API described as OpenAPI 3.1: served at `GET /openapi.json` and committed as
 * `docs/openapi.json` (`npm run openapi` writes it; a test keeps the two identical and checks real
 * answers against it). Controllers in other languages (Go) generate their types from it.
 *
 * Bodies are closed (`additionalProperties: false`): a new field must be described here first, or
 * the validation test fails.
 */
import { NDJSON_CONTENT_TYPE, NO_REGISTRY_CONFIG, REGISTRY_CONFIG_ROUTE } from './api.js';

/** Where the document is served, on the resolver's port. */
export const OPENAPI_PATH = '/openapi.json';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

/** `/v1/namespaces/:namespace/...` (Fastify) as `/v1/namespaces/{namespace}/...` (OpenAPI). */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const stringList: JsonObject = { type: 'array', items: { type: 'string' } };

const schemas: JsonObject = {
  RegistrySource: {
    type: 'string',
    enum: ['cluster', 'namespace', 'default'],
    description:
      'Which rule the answer came from: the cluster-wide Secret, the namespace\'s own Secret, or the default Secret (in that order; a namespace Secret labelled `managed-by: user` comes before the cluster-wide one).',
  },
  SecretName: {
    type: 'object',
    required: ['namespace', 'name'],
    additionalProperties: false,
    properties: { namespace: { type: 'string' }, name: { type: 'string' } },
  },
  RegistryConfig: {
    type: 'object',
    description: 'The registry config that applies to a namespace. Never carries a credential: read `secret` with your own RBAC.',
    required: ['namespace', 'source', 'secret', 'revision', 'skipped', 'registryAddress', 'serverAddress', 'isInternal', 'pushRegAddress', 'pullRegAddress'],
    additionalProperties: false,
    properties: {
      namespace: { type: 'string' },
      source: ref('RegistrySource'),
      secret: { ...ref('SecretName'), description: 'The Secret that applies; it holds the credentials.' },
      revision: {
        type: 'string',
        description: "The effective Secret's `uid:resourceVersion`: changes whenever that Secret changes; never a hash of its data.",
      },
      skipped: { ...stringList, description: 'Higher-precedence Secrets passed over because they are invalid, each with why.' },
      credentials: ref('CredentialStatus'),
      registryAddress: { type: 'string' },
      serverAddress: { type: 'string' },
      isInternal: { type: 'boolean' },
      pushRegAddress: { type: 'string', description: '`pushRegAddr` when set (internal registry), else registryAddress.' },
      pullRegAddress: { type: 'string', description: '`pullRegAddr` when set (internal registry), else registryAddress.' },
    },
  },
  RegistryConfigNotFound: {
    type: 'object',
    description: 'Nothing applies to the namespace (the 404 body).',
    required: ['code', 'message', 'namespace', 'reason', 'skipped'],
    additionalProperties: false,
    properties: {
      code: { const: NO_REGISTRY_CONFIG, description: 'Tells "nothing applies" from a wrong URL (`NOT_FOUND`).' },
      message: { type: 'string', description: 'Same as `reason`.' },
      namespace: { type: 'string' },
      reason: { type: 'string' },
      skipped: stringList,
    },
  },
  CredentialStatus: {
    type: 'object',
    description: 'The last registry login check of the Secret the answer names (docs/credential-check.md); never a credential. Absent when the server runs without credential checks.',
    required: ['state', 'pushGranted', 'checkedAt', 'reason'],
    additionalProperties: false,
    properties: {
      state: {
        enum: ['ok', 'rejected', 'unreachable', 'skipped', 'pending'],
        description:
          "The same on every replica: the propagation leader checks and publishes its outcomes, the others answer with them. `pending`: no outcome yet for the Secret's current credentials (just changed; a watch then sends `MODIFIED` with the outcome).",
      },
      pushGranted: { type: ['boolean', 'null'], description: "What the registry's token granted; null when it does not say or the login did not succeed." },
      checkedAt: { type: ['string', 'null'], format: 'date-time', description: 'When the outcome was found; null while pending or skipped without a check.' },
      reason: { type: 'string', description: "For people; carries at most the registry's error code." },
    },
  },
  RegistryConfigEvent: {
    description:
      'One line of the watch stream (NDJSON): the first line states the current answer (`ADDED`, or `DELETED` when nothing applies), then `MODIFIED`/`DELETED` on every change, and `HEARTBEAT` when idle.',
    oneOf: [ref('ConfigEvent'), ref('DeletedEvent'), ref('HeartbeatEvent')],
  },
  ConfigEvent: {
    type: 'object',
    description: '`ADDED` (first line) or `MODIFIED` (a change): a config applies.',
    required: ['type', 'config'],
    additionalProperties: false,
    properties: { type: { enum: ['ADDED', 'MODIFIED'] }, config: ref('RegistryConfig') },
  },
  DeletedEvent: {
    type: 'object',
    description: 'Nothing applies (first line, or since a change), with the reason a GET would give.',
    required: ['type', 'config', 'namespace', 'reason', 'skipped'],
    additionalProperties: false,
    properties: { type: { const: 'DELETED' }, config: { type: 'null' }, namespace: { type: 'string' }, reason: { type: 'string' }, skipped: stringList },
  },
  HeartbeatEvent: {
    type: 'object',
    description: 'Sent every 30 s on an idle stream so proxies keep it open; carries no state.',
    required: ['type'],
    additionalProperties: false,
    properties: { type: { const: 'HEARTBEAT' } },
  },
  Error: {
    type: 'object',
    description: 'Every error but the 404 of a namespace without config.',
    required: ['code', 'message'],
    additionalProperties: false,
    properties: {
      code: {
        type: 'string',
        description:
          'Machine-readable: `INVALID_NAMESPACE`, `INVALID_WATCH` (400), `UNAUTHORIZED` (401), `FORBIDDEN` (403), `NOT_FOUND` (no such route), `TOO_MANY_REQUESTS` (429), `AUTHORIZATION_UNAVAILABLE`, `OVERLOADED` (503), `INTERNAL` (500).',
        examples: ['INVALID_NAMESPACE', 'FORBIDDEN', 'AUTHORIZATION_UNAVAILABLE'],
      },
      message: { type: 'string', description: 'For people; never contains a token or a credential.' },
    },
  },
};

const retryAfter: JsonObject = { description: 'Seconds to wait before retrying.', schema: { type: 'string', pattern: '^[0-9]+$' } };
const errorContent: JsonObject = { 'application/json': { schema: ref('Error') } };

const responses: JsonObject = {
  BadRequest: { description: 'The namespace is not a DNS-1123 label (`INVALID_NAMESPACE`), or `watch` is not one of its values (`INVALID_WATCH`).', content: errorContent },
  Unauthorized: {
    description: 'No bearer token, or the API server did not accept it (TokenReview, with `AUTH_AUDIENCES`).',
    headers: { 'WWW-Authenticate': { schema: { const: 'Bearer' } } },
    content: errorContent,
  },
  Forbidden: { description: 'A valid token whose identity may not `get` `secrets` in the namespace (SubjectAccessReview).', content: errorContent },
  TooManyRequests: {
    description: "The server's budget of authentication checks (TokenReview, SubjectAccessReview) made on callers' behalf is spent; retry after `Retry-After`.",
    headers: { 'Retry-After': retryAfter },
    content: errorContent,
  },
  ServiceUnavailable: {
    description: 'The API server could not be asked whether the caller may read (`AUTHORIZATION_UNAVAILABLE`), or the server sheds load (`OVERLOADED`). Retry after `Retry-After`.',
    headers: { 'Retry-After': retryAfter },
    content: errorContent,
  },
  InternalError: { description: 'Unexpected failure; the message is generic.', content: errorContent },
};

/** The OpenAPI 3.1 document of the resolver API. */
export const resolverOpenApiDocument: JsonObject = {
  openapi: '3.1.0',
  info: {
    title: 'registry-config-webhook resolver API',
    version: 'v1',
    description:
      'Which registry config applies to a namespace, and a watch of it. Served on the webhook\'s HTTPS port. In a cluster every request needs `Authorization: Bearer <ServiceAccount token>` of an identity that may `get` `secrets` in the namespace asked about; outside a cluster authentication is off.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  servers: [{ url: 'https://registry-config-webhook.kyma-system.svc', description: "In a cluster, the chart's Service (trust the webhook's CA)." }],
  security: [{ serviceAccountToken: [] }],
  paths: {
    [openApiPath(REGISTRY_CONFIG_ROUTE)]: {
      get: {
        operationId: 'getRegistryConfig',
        summary: "The namespace's registry config, or a watch of it",
        description:
          'Without `watch`: the current answer, 200 or 404. With `watch=true`: 200 and an NDJSON stream (`application/x-ndjson`, one `RegistryConfigEvent` per line) until the client leaves or the server shuts down; a reconnecting client gets the current state first, so it needs no GET. Authorization is checked once, when the request arrives.',
        parameters: [
          {
            name: 'namespace',
            in: 'path',
            required: true,
            description: 'A DNS-1123 label, as Kubernetes requires of namespace names.',
            schema: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
          },
          {
            name: 'watch',
            in: 'query',
            required: false,
            description: '`true`, `1` or empty: stream events. `false`, `0` or absent: one answer.',
            allowEmptyValue: true,
            schema: { type: 'string', enum: ['true', '1', '', 'false', '0'] },
          },
        ],
        responses: {
          '200': {
            description: 'A config applies (JSON), or the watch stream (NDJSON).',
            headers: { 'Cache-Control': { schema: { const: 'no-store' } } },
            content: {
              'application/json': { schema: ref('RegistryConfig') },
              [NDJSON_CONTENT_TYPE]: {
                schema: { ...ref('RegistryConfigEvent'), description: 'The schema of each line; lines are separated by `\\n`.' },
              },
            },
          },
          '400': response('BadRequest'),
          '401': response('Unauthorized'),
          '403': response('Forbidden'),
          '404': {
            description: 'Nothing applies to the namespace (`code: NO_REGISTRY_CONFIG`). Only without `watch`: a watch says so with a `DELETED` line.',
            headers: { 'Cache-Control': { schema: { const: 'no-store' } } },
            content: { 'application/json': { schema: ref('RegistryConfigNotFound') } },
          },
          '429': response('TooManyRequests'),
          '500': response('InternalError'),
          '503': response('ServiceUnavailable'),
        },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        security: [],
        responses: {
          '200': { description: 'The OpenAPI 3.1 document of this API.', content: { 'application/json': { schema: { type: 'object' } } } },
          '503': response('ServiceUnavailable'),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      serviceAccountToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'A Kubernetes ServiceAccount token (projected tokens rotate: read the file on every request).',
      },
    },
    schemas,
    responses,
  },
};
