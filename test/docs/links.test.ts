/**
 * Every relative link in README.md, docs/*.md and the chart's README leads to a file that exists, and every
 * #anchor to a heading.
 */
import { existsSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, anchors, documentationFiles, links, readDoc } from './markdown.js';

const CHECKED = [...documentationFiles(), 'charts/registry-config-webhook/README.md'];

interface Target {
  from: string;
  line: number;
  link: string;
  file: string;
  anchor: string | undefined;
}

function relativeTargets(): Target[] {
  const targets: Target[] = [];
  for (const from of CHECKED) {
    for (const { line, target } of links(readDoc(from))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path = '', anchor] = target.split('#', 2);
      const file = path === '' ? from : normalize(relative(ROOT, join(ROOT, dirname(from), decodeURIComponent(path))));
      targets.push({ from, line, link: target, file, anchor });
    }
  }
  return targets;
}

describe('documentation links', () => {
  const targets = relativeTargets();

  it('the README links every page in docs/', () => {
    const fromReadme = targets.filter((t) => t.from === 'README.md').map((t) => t.file);
    for (const page of documentationFiles().filter((f) => f.startsWith('docs/'))) expect(fromReadme, `README.md links ${page}`).toContain(page);
  });

  it('every relative link points to a file or folder that exists', () => {
    const broken = targets.filter((t) => !t.file.startsWith('..') && !existsSync(join(ROOT, t.file)));
    const outside = targets.filter((t) => t.file.startsWith('..'));
    expect(outside.map((t) => `${t.from}:${t.line} ${t.link} leaves the repository`)).toEqual([]);
    expect(broken.map((t) => `${t.from}:${t.line} ${t.link} (${t.file} does not exist)`)).toEqual([]);
  });

  it('every #anchor names a heading of the page it points to', () => {
    const bad = targets
      .filter((t) => t.anchor !== undefined && t.file.endsWith('.md') && existsSync(join(ROOT, t.file)))
      .filter((t) => !anchors(readDoc(t.file)).has(t.anchor ?? ''))
      .map((t) => `${t.from}:${t.line} ${t.link}: no heading "#${t.anchor}" in ${t.file} (has: ${[...anchors(readDoc(t.file))].join(', ')})`);
    expect(bad).toEqual([]);
  });

  it('docs/README.md lists every page in docs/', () => {
    const listed = new Set(targets.filter((t) => t.from === 'docs/README.md').map((t) => t.file));
    const pages = documentationFiles().filter((f) => f.startsWith('docs/') && f !== 'docs/README.md');
    for (const page of pages) expect(listed.has(page), `docs/README.md lists ${page}`).toBe(true);
  });
});
