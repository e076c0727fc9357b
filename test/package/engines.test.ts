/**
 * Every package that `npm ci` installs runs on the Node versions we support: the `engines` floor
 * (package.json, 20.19) and the image's Node 24. An engine range that excludes one is npm's
 * EBADENGINE warning at install and, as with cookie@2 on Node 20, code that may not load.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean }>;
};

describe('installed packages and the supported Node versions', () => {
  const floor = semver.minVersion(pkg.engines.node);
  const supported = [floor?.version ?? '', '24.0.0'];

  it('the floor is Node 20.19', () => {
    expect(floor?.version).toBe('20.19.0');
  });

  it.each(supported)('no package in package-lock.json excludes Node %s in its engines', (node) => {
    const excluding = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .flatMap(([path, entry]) => {
        const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
        return range && !semver.satisfies(node, range) ? [`${path.replace(/^.*node_modules\//, '')}@${entry.version ?? '?'} wants node ${range}`] : [];
      });
    expect(excluding).toEqual([]);
  });
});
