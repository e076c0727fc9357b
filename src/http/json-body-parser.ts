import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkJsonShape, type JsonShapeLimits } from './json-shape.js';

/**
 * Bounds on what one body may make `JSON.parse` build. The deepest recorded AdmissionReview nests
 * 10 levels (review > request > object > metadata > managedFields > [ ] > fieldsV1 > f:metadata >
 * f:labels > key); a Secret's schema is flat (`data` is a map of strings), so only managedFields
 * mirrors its structure, and no Secret review nests beyond about 15. 32 is twice that. The recorded
 * reviews hold 20-40 arrays and objects; 10,000 leaves room for a Secret with thousands of
 * owner references or managed-field entries, and caps a body of `[],[],...` at 10,000 objects
 * instead of 2.3 million.
 */
export const JSON_SHAPE_LIMITS: JsonShapeLimits = { maxDepth: 32, maxContainers: 10_000 };

type ParserError = Error & { statusCode: number; code: string };

function badJson(code: string, message: string): ParserError {
  return Object.assign(new Error(message), { statusCode: 400, code });
}

/**
 * The only body parser of a scope: `application/json`, at most `bodyLimit` bytes, shape checked in
 * one pass over the bytes before `JSON.parse`. Error messages never quote the body (it may hold a
 * Secret).
 */
export function addJsonBodyParser(scope: FastifyInstance, options: { bodyLimit: number; shape?: JsonShapeLimits }): void {
  const shape = options.shape ?? JSON_SHAPE_LIMITS;
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: options.bodyLimit },
    (_request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const verdict = checkJsonShape(body, shape);
      if (!verdict.ok) return done(badJson('JSON_TOO_COMPLEX', `request body rejected: ${verdict.reason}`));
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        // JSON.parse messages quote the input, which may be a Secret: say only what failed.
        return done(badJson('INVALID_JSON', 'request body is not valid JSON'));
      }
      done(null, parsed);
    },
  );
}
