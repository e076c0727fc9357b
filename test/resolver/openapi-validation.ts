/**
 * Checks real answers against an OpenAPI 3.1 document with Ajv (JSON Schema 2020-12, the 3.1
 * default dialect): the document says, per path, method, status and content type, which schema
 * the body has and which headers come with it. Nothing here knows the resolver's shapes.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`: under NodeNext the default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type JsonObject = Record<string, unknown>;

const SCHEMAS_ID = 'urn:openapi-under-test:schemas';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as parsed JSON (for NDJSON: one line). */
  body: unknown;
}

export interface AnswerValidator {
  /** Problems with `answer` as an answer of `method path` with `contentType`; empty when it conforms. */
  problems(method: string, path: string, contentType: string, answer: Answer): string[];
}

export function openApiValidator(document: JsonObject): AnswerValidator {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const components = (document.components ?? {}) as JsonObject;
  // Component schemas as $defs of one schema, their `#/components/schemas/` refs pointing there.
  const rewrite = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${SCHEMAS_ID}#/$defs/`));
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: rewrite(components.schemas ?? {}) as JsonObject });
  const compiled = new Map<string, ValidateFunction>();

  const resolve = (value: unknown): JsonObject => {
    const target = value as JsonObject;
    if (typeof target.$ref !== 'string') return target;
    const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(target.$ref) ?? [];
    const found = section && name ? ((components[section] as JsonObject | undefined)?.[name] as JsonObject | undefined) : undefined;
    if (!found) throw new Error(`unresolved $ref ${target.$ref}`);
    return found;
  };

  return {
    problems(method, path, contentType, answer) {
      const operation = ((document.paths as JsonObject)[path] as JsonObject | undefined)?.[method.toLowerCase()] as JsonObject | undefined;
      if (!operation) return [`${method} ${path} is not in the document`];
      const responses = operation.responses as JsonObject;
      const described = responses[String(answer.status)] ?? responses.default;
      if (!described) return [`${method} ${path}: status ${answer.status} is not described`];
      const response = resolve(described);
      const problems: string[] = [];
      for (const [name, header] of Object.entries((response.headers ?? {}) as JsonObject)) {
        const value = answer.headers[name.toLowerCase()];
        if (value === undefined) problems.push(`header ${name} is described but missing`);
        else if (!ajv.validate(rewrite((header as JsonObject).schema) as JsonObject, value)) problems.push(`header ${name}: ${JSON.stringify(value)} ${ajv.errorsText()}`);
      }
      const media = (response.content as JsonObject | undefined)?.[contentType] as JsonObject | undefined;
      if (!media) return [...problems, `${method} ${path} ${answer.status}: content type ${contentType} is not described`];
      const key = `${method} ${path} ${answer.status} ${contentType}`;
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.compile(rewrite(media.schema) as JsonObject);
        compiled.set(key, validate);
      }
      if (!validate(answer.body)) problems.push(...(validate.errors ?? []).map((e: ErrorObject) => `body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
      return problems;
    },
  };
}
