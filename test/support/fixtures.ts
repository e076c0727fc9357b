import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = join(here, '..', 'fixtures');
export const ADMISSION_REVIEWS_DIR = join(FIXTURES_DIR, 'admission-reviews');
export const APISERVER_HTTP_DIR = join(FIXTURES_DIR, 'apiserver-http');

/** The recorded AdmissionReview requests (`*.v1.json`, `*.v1beta1.json`), by file name. */
export function recordedAdmissionReviews(): { file: string; raw: string; review: RecordedReview }[] {
  return readdirSync(ADMISSION_REVIEWS_DIR)
    .filter((f) => /\.v1(beta1)?\.json$/.test(f) && !f.includes('.response'))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(ADMISSION_REVIEWS_DIR, file), 'utf8');
      return { file, raw, review: JSON.parse(raw) as RecordedReview };
    });
}

export function readAdmissionFixture<T = RecordedReview>(file: string): T {
  return JSON.parse(readFileSync(join(ADMISSION_REVIEWS_DIR, file), 'utf8')) as T;
}

export interface RecordedReview {
  apiVersion: string;
  kind: string;
  request: {
    uid: string;
    kind: { group: string; version: string; kind: string };
    name?: string;
    namespace?: string;
    operation: string;
    object: SecretLike | null;
    oldObject: SecretLike | null;
    dryRun?: boolean;
    [key: string]: unknown;
  };
}

export interface SecretLike {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  type?: string;
  data?: Record<string, string>;
  [key: string]: unknown;
}
