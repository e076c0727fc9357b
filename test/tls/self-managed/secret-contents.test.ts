import { describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../../src/tls/generate.js';
import { bundleContains, caBundleOf, splitPemCertificates } from '../../../src/tls/self-managed/ca-bundle.js';
import { ROTATION_ANNOTATIONS, decodeCertificateSecret, encodeCertificateSecret, sameContents } from '../../../src/tls/self-managed/secret-contents.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('certificate Secret contents', () => {
  it('round-trips through base64 data and annotations, keeping keys that are not ours', () => {
    const existing = { metadata: { annotations: { 'someone/else': 'x' } }, data: { 'other.key': b64('kept'), 'ca-next.crt': b64('stale') } };
    const contents = { caCert: 'CA', caKey: 'CAKEY', tlsCert: 'CERT', tlsKey: 'KEY', caSwitchedAt: new Date('2030-01-01T00:00:00.123Z'), previousCaCert: 'OLD' };
    const { data, annotations } = encodeCertificateSecret(contents, existing);
    expect(data).toEqual({
      'other.key': b64('kept'),
      'ca.crt': b64('CA'),
      'ca.key': b64('CAKEY'),
      'tls.crt': b64('CERT'),
      'tls.key': b64('KEY'),
      'ca-previous.crt': b64('OLD'),
    });
    expect(annotations).toEqual({ 'someone/else': 'x', [ROTATION_ANNOTATIONS.caSwitchedAt]: '2030-01-01T00:00:00.123Z' });
    const decoded = decodeCertificateSecret({ metadata: { annotations }, data });
    expect(sameContents(decoded, contents)).toBe(true);
  });

  it('decodes an absent Secret, empty values and bad annotations to nothing', () => {
    expect(decodeCertificateSecret(undefined)).toEqual({});
    expect(decodeCertificateSecret({ data: { 'tls.crt': '' }, metadata: { annotations: { [ROTATION_ANNOTATIONS.nextCaAddedAt]: 'yesterday' } } })).toEqual({});
  });
});

describe('caBundleOf', () => {
  it('lists the signing CA, then next and previous, skipping garbage and duplicates', async () => {
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((name) => createCertificateAuthority({ commonName: `${name} CA`, validityMs: 86_400_000 })));
    const bundle = caBundleOf({ caCert: a?.cert, nextCaCert: 'garbage', previousCaCert: `${c?.cert}${a?.cert}` });
    expect(splitPemCertificates(bundle)).toEqual([a?.cert, c?.cert].map((pem) => pem?.trim() + '\n'));
    expect(bundleContains(bundle, c?.cert as string)).toBe(true);
    expect(bundleContains(bundle, b?.cert as string)).toBe(false);
    expect(caBundleOf({})).toBe('');
  });
});
