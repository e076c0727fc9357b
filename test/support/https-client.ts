import { request as httpsRequest, Agent } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

/** A minimal HTTPS client that trusts only the given CA (as the API server trusts only caBundle). */
export function httpsCall(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca: string; agent?: Agent; servername?: string; cert?: string; key?: string },
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'POST',
        headers: options.headers,
        ca: options.ca,
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
        // A client certificate (as kube-apiserver presents one from its AdmissionConfiguration kubeconfig).
        ...(options.cert && options.key ? { cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** POST an AdmissionReview the way kube-apiserver does (headers from the recording, Content-Length included). */
export function postReview(url: string, body: string | Buffer, ca: string, agent?: Agent, extraHeaders: Record<string, string> = {}): Promise<HttpResponse> {
  return httpsCall(url, {
    method: 'POST',
    ca,
    ...(agent ? { agent } : {}),
    headers: {
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'kube-apiserver-admission',
      accept: 'application/json, */*',
      'content-type': 'application/json',
      'accept-encoding': 'gzip',
      ...extraHeaders,
    },
    body,
  });
}
