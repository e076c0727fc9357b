// prepack: start from an empty dist/, so no file of a removed source ends up in the tarball.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
