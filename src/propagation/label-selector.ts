/**
 * Label selectors in the string grammar of k8s.io/apimachinery labels.Parse, the form kubectl's
 * `-l` takes: comma-separated requirements, all of which must hold.
 *   k=v  k==v  k!=v  k  !k  k in (a,b)  k notin (a,b)
 * `!=` and `notin` also match objects without the key, as in Kubernetes.
 */

export type LabelOperator = 'exists' | 'not-exists' | 'equals' | 'not-equals' | 'in' | 'notin';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Empty for exists/not-exists, one value for (not-)equals. */
  values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** The selector as given, for logs. */
  readonly text: string;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

export class LabelSelectorError extends Error {
  constructor(
    readonly selector: string,
    readonly reason: string,
  ) {
    super(`invalid label selector "${selector}": ${reason}`);
    this.name = 'LabelSelectorError';
  }
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ','; at: number }
  | { kind: 'end'; at: number };

/** Parses `text`; the empty selector matches everything (labels.Everything). Throws LabelSelectorError. */
export function parseLabelSelector(text: string): LabelSelector {
  const tokens = tokenize(text);
  const requirements: LabelRequirement[] = [];
  let i = 0;
  const peek = (): Token => tokens[i] as Token;
  const next = (): Token => tokens[i++] as Token;
  const fail = (reason: string): never => {
    throw new LabelSelectorError(text, reason);
  };
  const expectWord = (what: string): string => {
    const token = next();
    if (token.kind !== 'word') fail(`expected ${what} at position ${token.at + 1}${found(token)}`);
    return (token as { text: string }).text;
  };

  if (peek().kind === 'end') return selector(text, requirements);
  for (;;) {
    const first = next();
    if (first.kind === 'op' && first.text === '!') {
      const key = expectWord('a label key after "!"');
      requirements.push({ key: checkKey(key, fail), operator: 'not-exists', values: [] });
    } else if (first.kind === 'word') {
      const key = checkKey(first.text, fail);
      const op = peek();
      if (op.kind === 'end' || (op.kind === 'op' && op.text === ',')) {
        requirements.push({ key, operator: 'exists', values: [] });
      } else if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
        next();
        // `k=` (empty value) is valid in Kubernetes: the label is present with value "".
        const after = peek();
        const value = after.kind === 'word' ? (next(), after.text) : '';
        requirements.push({ key, operator: op.text === '!=' ? 'not-equals' : 'equals', values: [checkValue(value, fail)] });
      } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        next();
        const open = next();
        if (open.kind !== 'op' || open.text !== '(') fail(`expected "(" after "${op.text}" at position ${open.at + 1}${found(open)}`);
        const values: string[] = [];
        for (;;) {
          const value = peek();
          if (value.kind === 'word') {
            next();
            values.push(checkValue(value.text, fail));
          } else {
            fail(`expected a value in "${key} ${op.text} (...)" at position ${value.at + 1}${found(value)}`);
          }
          const sep = next();
          if (sep.kind === 'op' && sep.text === ')') break;
          if (sep.kind !== 'op' || sep.text !== ',') fail(`expected "," or ")" at position ${sep.at + 1}${found(sep)}`);
        }
        requirements.push({ key, operator: op.text, values });
      } else {
        fail(`expected an operator (=, ==, !=, in, notin) or "," after "${key}" at position ${op.at + 1}${found(op)}`);
      }
    } else {
      fail(`expected a label key at position ${first.at + 1}${found(first)}`);
    }
    const sep = next();
    if (sep.kind === 'end') break;
    if (sep.kind !== 'op' || sep.text !== ',') fail(`expected "," at position ${sep.at + 1}${found(sep)}`);
    if (peek().kind === 'end') fail('trailing ","');
  }
  return selector(text, requirements);
}

function selector(text: string, requirements: readonly LabelRequirement[]): LabelSelector {
  return {
    requirements,
    text,
    matches: (labels) => requirements.every((r) => matchesRequirement(r, labels ?? {})),
  };
}

function matchesRequirement(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'exists':
      return has;
    case 'not-exists':
      return !has;
    case 'equals':
      return has && value === r.values[0];
    case 'not-equals':
      return !has || value !== r.values[0];
    case 'in':
      return has && r.values.includes(value as string);
    case 'notin':
      return !has || !r.values.includes(value as string);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'op', text: c, at: i });
      i++;
    } else if (c === '=' || c === '!') {
      const two = text.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two, at: i });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c, at: i });
        i++;
      }
    } else {
      const start = i;
      while (i < text.length && !/[\s(),=!]/.test(text[i] as string)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    }
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

function found(token: Token): string {
  return token.kind === 'end' ? ' (found the end)' : ` (found "${token.text}")`;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A qualified name: `[prefix/]name`, prefix a DNS subdomain (≤253), name ≤63 characters. */
function checkKey(key: string, fail: (reason: string) => never): string {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    fail(`label key "${key}": prefix must be a DNS subdomain`);
  }
  if (name === '' || name.length > 63 || !NAME.test(name)) {
    fail(`label key "${key}": name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
  }
  return key;
}

/** A label value: empty, or ≤63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric. */
function checkValue(value: string, fail: (reason: string) => never): string {
  if (value !== '' && (value.length > 63 || !NAME.test(value))) {
    fail(`label value "${value}": must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
  }
  return value;
}
