/**
 * Just enough Markdown for the docs tests: fenced blocks marked `<!-- tested: <name> -->`, relative
 * links, and the anchors GitHub gives headings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../scripts/helm.mjs';

export const ROOT = projectRoot;

/** README.md and every docs/*.md, as paths relative to the repository root. */
export function documentationFiles(): string[] {
  const pages = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...pages];
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

export interface TestedBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  name: string;
  lang: string;
  code: string;
}

const MARKER = /^<!--\s*tested:\s*([\w./-]+)\s*-->\s*$/;
const FENCE = /^(`{3,})(\S*)\s*$/;

/** Every fenced block directly after a `<!-- tested: name -->` line (blank lines between are allowed). */
export function testedBlocks(file: string, text = readDoc(file)): TestedBlock[] {
  const lines = text.split('\n');
  const blocks: TestedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i] ?? '');
    if (!marker) continue;
    let open = i + 1;
    while (open < lines.length && (lines[open] ?? '').trim() === '') open++;
    const fence = FENCE.exec(lines[open] ?? '');
    if (!fence) throw new Error(`${file}:${i + 1}: the marker "${marker[1]}" is not followed by a fenced code block`);
    const close = lines.findIndex((l, j) => j > open && l.trim() === fence[1]);
    if (close < 0) throw new Error(`${file}:${open + 1}: unclosed code block`);
    blocks.push({ file, line: open + 1, name: marker[1] ?? '', lang: fence[2] ?? '', code: lines.slice(open + 1, close).join('\n') });
    i = close;
  }
  return blocks;
}

/** The lines outside fenced code blocks; inline code spans blanked unless asked not to (links in code are not links). */
function prose(text: string, blankCode = true): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const match = /^\s*(`{3,}|~{3,})/.exec(line);
    if (match) {
      if (fence === undefined) fence = match[1];
      else if (line.trim().startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line: index + 1, text: blankCode ? line.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) : line });
  });
  return out;
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links `[text](target)` and autolinks `<https://...>` outside code. */
export function links(text: string): Link[] {
  const found: Link[] = [];
  for (const { line, text: content } of prose(text)) {
    for (const m of content.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push({ line, target: m[1] ?? '' });
    for (const m of content.matchAll(/<(https?:\/\/[^>\s]+)>/g)) found.push({ line, target: m[1] ?? '' });
  }
  return found;
}

/** The anchors GitHub generates for the headings of a page (`## Foo bar` → `foo-bar`, repeats get -1, -2). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const { text: line } of prose(text, false)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = (heading[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}
