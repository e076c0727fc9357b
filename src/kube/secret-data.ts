/**
 * What the API server does with a Secret's `stringData` before admission and storage: each value
 * is base64-encoded (UTF-8) into `data`, winning over a `data` entry of the same key.
 */
export function foldStringData<T>(data: Record<string, T> | undefined, stringData: Record<string, unknown>): Record<string, T | string> {
  const folded: Record<string, T | string> = Object.create(null) as Record<string, T | string>;
  Object.assign(folded, data);
  for (const [key, value] of Object.entries(stringData)) folded[key] = Buffer.from(String(value), 'utf8').toString('base64');
  return { ...folded };
}
