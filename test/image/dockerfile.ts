/** A small Dockerfile reader and a .dockerignore matcher, enough to check the image's layout without Docker. */

export interface Instruction {
  keyword: string;
  /** Arguments as written, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions in order; comments, blank lines and parser directives dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let current: { parts: string[]; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === undefined)) continue;
    if (trimmed === '') continue;
    const continued = trimmed.endsWith('\\');
    const content = continued ? trimmed.slice(0, -1).trim() : trimmed;
    if (current) current.parts.push(content);
    else current = { parts: [content], line: i + 1 };
    if (!continued) {
      const joined = current.parts.filter((p) => p !== '').join(' ');
      const match = /^(\S+)\s*(.*)$/s.exec(joined);
      if (match) instructions.push({ keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim(), line: current.line });
      current = undefined;
    }
  }
  return instructions;
}

export function stages(instructions: readonly Instruction[]): Stage[] {
  const result: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const tokens = instruction.args.split(/\s+/).filter((t) => !t.startsWith('--'));
      const asIndex = tokens.findIndex((t) => t.toUpperCase() === 'AS');
      result.push({ image: tokens[0] as string, name: asIndex >= 0 ? tokens[asIndex + 1] : undefined, instructions: [] });
    } else {
      const stage = result[result.length - 1];
      if (!stage) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return result;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
  line: number;
}

/** COPY/ADD in shell form (`COPY [--from=x] [--chown=..] src... dest`) or JSON form. */
export function parseCopy(instruction: Instruction): Copy {
  const flags: string[] = [];
  let rest = instruction.args;
  while (rest.startsWith('--')) {
    const match = /^(\S+)\s*(.*)$/s.exec(rest);
    flags.push(match?.[1] as string);
    rest = (match?.[2] as string) ?? '';
  }
  const paths: string[] = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] as string, line: instruction.line };
}

/** The WORKDIR in effect at each instruction of a stage (absolute; relative WORKDIRs resolved). */
export function workdirAt(stage: Stage, instruction: Instruction): string {
  let dir = '/';
  for (const item of stage.instructions) {
    if (item === instruction) break;
    if (item.keyword === 'WORKDIR') dir = item.args.startsWith('/') ? item.args : `${dir.replace(/\/$/, '')}/${item.args}`;
  }
  return dir;
}

// ---- .dockerignore ----------------------------------------------------------------------------------------

interface IgnoreRule {
  pattern: string;
  negate: boolean;
  regex: RegExp;
}

function compilePattern(pattern: string): RegExp {
  const p = pattern.replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '*') {
      if (p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = negate ? line.slice(1).trim() : line;
    rules.push({ pattern, negate, regex: compilePattern(pattern) });
  }
  return rules;
}

/**
 * Whether a context path (relative, `/`-separated) is left out of the build context, the way Docker decides:
 * a pattern matches a path or any of its parent directories, and the last matching pattern wins.
 */
export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const parts = path.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (prefixes.some((prefix) => rule.regex.test(prefix))) ignored = !rule.negate;
  }
  return ignored;
}
