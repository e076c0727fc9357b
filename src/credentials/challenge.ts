/**
 * `WWW-Authenticate` challenges (RFC 7235): `Basic realm="x"`, `Bearer realm="...",service="...",scope="..."`.
 * Several challenges may share one header; parameter values are tokens or quoted strings.
 */
export interface AuthChallenge {
  /** Lower case: "basic", "bearer", ... */
  scheme: string;
  /** Parameter names in lower case. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Every challenge in `header` (one or several joined by commas); what cannot be parsed is ignored. */
export function parseChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(', ');
  const challenges: AuthChallenge[] = [];
  let rest = text.slice(0, 8192);
  let current: AuthChallenge | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const token = TOKEN.exec(rest)?.[0];
    if (token === undefined) break;
    const afterToken = rest.slice(token.length);
    const param = /^\s*=\s*/.exec(afterToken);
    if (param && current) {
      // name=value inside the current challenge
      let value: string;
      let remaining = afterToken.slice(param[0].length);
      if (remaining.startsWith('"')) {
        const quoted = readQuoted(remaining);
        if (quoted === undefined) break;
        value = quoted.value;
        remaining = quoted.rest;
      } else {
        value = TOKEN.exec(remaining)?.[0] ?? '';
        remaining = remaining.slice(value.length);
      }
      current.params[token.toLowerCase()] = value;
      rest = remaining;
      continue;
    }
    current = { scheme: token.toLowerCase(), params: {} };
    challenges.push(current);
    rest = afterToken;
  }
  return challenges;
}

function readQuoted(text: string): { value: string; rest: string } | undefined {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      value += text[++i];
    } else if (ch === '"') {
      return { value, rest: text.slice(i + 1) };
    } else {
      value += ch;
    }
  }
  return undefined;
}
