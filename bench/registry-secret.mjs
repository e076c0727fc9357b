// A registry Secret as the webhook leaves it (credentials plus the generated .dockerconfigjson),
// for the benchmarks that fill a fake API server or an index with thousands of them.
const b64 = (text) => Buffer.from(text).toString('base64');

export function registrySecret({ namespace, name, labels, username, password, registry, metadata = {} }) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...metadata, labels },
    type: 'kubernetes.io/dockerconfigjson',
    data: {
      username: b64(username),
      password: b64(password),
      serverAddress: b64(registry),
      registryAddress: b64(`${registry}/functions`),
      '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { username, password, auth: b64(`${username}:${password}`) } } })),
    },
  };
}
