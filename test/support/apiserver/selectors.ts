/**
 * Label and field selectors with the grammar of k8s.io/apimachinery (labels.Parse, fields.ParseSelector).
 * Parse errors throw SelectorError; the server answers them with 400 BadRequest.
 */

export class SelectorError extends Error {}

type LabelOperator = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export type LabelSelector = readonly LabelRequirement[];

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'op'; text: '!' | '=' | '==' | '!=' | '(' | ')' | ',' | '>' | '<' }
  | { kind: 'end'; text: '' };

const SPECIAL = new Set(['!', '=', '(', ')', ',', '>', '<']);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const two = input.slice(i, i + 2);
      if (two === '!=' || two === '==') {
        tokens.push({ kind: 'op', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c as '!' | '=' | '(' | ')' | ',' | '>' | '<' });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < input.length && !/\s/.test(input.charAt(j)) && !SPECIAL.has(input.charAt(j))) j++;
    tokens.push({ kind: 'ident', text: input.slice(i, j) });
    i = j;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

/** Parses `a=b,c!=d,e in (x,y),!f,g,h notin (z),n>3`; an empty string selects everything. */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = tokenize(input);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { kind: 'end', text: '' };
  const next = (): Token => tokens[pos++] ?? { kind: 'end', text: '' };
  const fail = (found: Token, expected: string): never => {
    throw new SelectorError(`unable to parse requirement: found '${found.text}', expected: ${expected}`);
  };
  const ident = (expected: string): string => {
    const t = next();
    if (t.kind !== 'ident' || t.text === 'in' || t.text === 'notin') return fail(t, expected);
    return t.text;
  };

  const requirements: LabelRequirement[] = [];
  if (peek().kind === 'end') return requirements;
  for (;;) {
    let requirement: LabelRequirement;
    if (peek().text === '!' && peek().kind === 'op') {
      next();
      requirement = { key: ident('identifier after \'!\''), operator: '!', values: [] };
    } else {
      const key = ident('identifier');
      const op = peek();
      if (op.kind === 'end' || op.text === ',') {
        requirement = { key, operator: 'exists', values: [] };
      } else {
        next();
        if (op.text === '=' || op.text === '==' || op.text === '!=') {
          const v = peek();
          const value = v.kind === 'ident' ? (next(), v.text) : '';
          requirement = { key, operator: op.text === '!=' ? '!=' : '=', values: [value] };
        } else if (op.kind === 'ident' && (op.text === 'in' || op.text === 'notin')) {
          const open = next();
          if (open.text !== '(') fail(open, "'('");
          const values: string[] = [];
          if (peek().text === ')') next();
          else {
            for (;;) {
              const t = next();
              if (t.kind !== 'ident') fail(t, 'identifier');
              values.push(t.text);
              const sep = next();
              if (sep.text === ')') break;
              if (sep.text !== ',') fail(sep, "',' or ')'");
            }
          }
          if (values.length === 0) throw new SelectorError("unable to parse requirement: for 'in', 'notin' operators, values set can't be empty");
          requirement = { key, operator: op.text === 'in' ? 'in' : 'notin', values };
        } else if (op.text === '>' || op.text === '<') {
          const value = ident('integer');
          if (!/^-?\d+$/.test(value)) throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
          requirement = { key, operator: op.text === '>' ? 'gt' : 'lt', values: [value] };
        } else {
          return fail(op, "'=', '!=', '==', 'in', notin'");
        }
      }
    }
    requirements.push(requirement);
    const sep = next();
    if (sep.kind === 'end') return requirements;
    if (sep.text !== ',') fail(sep, "',' or 'end of string'");
  }
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const value = l[r.key];
    switch (r.operator) {
      case 'exists': return has;
      case '!': return !has;
      case '=':
      case 'in': return has && r.values.includes(value ?? '');
      case '!=':
      case 'notin': return !has || !r.values.includes(value ?? '');
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(value ?? '')) return false;
        const n = Number(value);
        const bound = Number(r.values[0]);
        return r.operator === 'gt' ? n > bound : n < bound;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Parses `metadata.name=x,type!=y` (with `\,` `\=` `\\` escapes). */
export function parseFieldSelector(input: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (input.trim() === '') return requirements;
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const c = input.charAt(i);
    if (c === '\\' && i + 1 < input.length) {
      current += c + input.charAt(i + 1);
      i++;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  for (const part of parts) {
    const match = /^(.*?)(!=|==|=)(.*)$/s.exec(unescapedOperatorSplit(part));
    if (!match) throw new SelectorError(`invalid selector: '${input}'; can't understand '${part}'`);
    const [, field = '', op = '=', value = ''] = match;
    requirements.push({ field: field.trim(), operator: op === '!=' ? '!=' : '=', value: unescapeField(value) });
  }
  return requirements;
}

// Escaped '=' / '!' must not act as operators: swap them for placeholders until split.
function unescapedOperatorSplit(part: string): string {
  return part.replace(/\\=/g, '\u0001').replace(/\\!/g, '\u0002');
}

function unescapeField(value: string): string {
  return value.replace(/\u0001/g, '=').replace(/\u0002/g, '!').replace(/\\(.)/g, '$1');
}

/** Matches; throws SelectorError for a field label the kind does not support. */
export function matchesFields(selector: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => {
    if (!Object.hasOwn(fields, r.field)) throw new SelectorError(`field label not supported: ${r.field}`);
    const equal = fields[r.field] === r.value;
    return r.operator === '=' ? equal : !equal;
  });
}

/** Validates the field labels up front so bad selectors fail before a watch starts. */
export function checkFieldLabels(selector: FieldSelector, supported: readonly string[]): void {
  for (const r of selector) {
    if (!supported.includes(r.field)) throw new SelectorError(`field label not supported: ${r.field}`);
  }
}
