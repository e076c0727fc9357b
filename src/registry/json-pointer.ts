/** RFC 6901 JSON pointers, for the paths of RFC 6902 patch operations. */

/** Escapes one reference token: `~` becomes `~0` first, then `/` becomes `~1`. */
export function escapeJsonPointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The pointer to the member reached through `tokens`, e.g. `['data', 'a/b']` -> `/data/a~1b`. */
export function jsonPointer(...tokens: string[]): string {
  return tokens.map((token) => `/${escapeJsonPointerToken(token)}`).join('');
}
