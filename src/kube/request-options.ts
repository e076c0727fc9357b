/**
 * Per-call options for client-node API calls: a User-Agent naming this component (the API server
 * derives the managedFields manager from it, and audit logs show who wrote) and a timeout
 * (client-node sets none, and a hung request must not stall a lease renewal or a reconcile).
 */
import { type ConfigurationOptions, type KubeConfig, Observable, type ObservableMiddleware, type RequestContext } from '@kubernetes/client-node';

export function requestOptions(settings: { userAgent: string; timeoutMs: number }): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setHeaderParam('User-Agent', settings.userAgent);
      context.setSignal(AbortSignal.timeout(settings.timeoutMs));
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * Like requestOptions, with one request header set after the generated client set its own: a merge
 * patch needs `Content-Type: application/merge-patch+json`, the issuer's key set `Accept:
 * application/jwk-set+json`.
 */
export function withHeader(
  options: ConfigurationOptions<ObservableMiddleware>,
  name: string,
  value: string,
): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setHeaderParam(name, value);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { ...options, middleware: [...(options.middleware ?? []), middleware], middlewareMergeStrategy: 'append' };
}

/** Like requestOptions, plus a Content-Type (a merge patch needs `application/merge-patch+json`). */
export function withContentType(options: ConfigurationOptions<ObservableMiddleware>, contentType: string): ConfigurationOptions<ObservableMiddleware> {
  return withHeader(options, 'Content-Type', contentType);
}

/**
 * The same KubeConfig, with a User-Agent on every request made through `applyToFetchOptions`.
 * client-node's Watch takes no per-call middleware and sends node-fetch's User-Agent; watches are
 * most of a controller's API-server traffic, and operators filter audit logs and
 * apiserver_request_total by client. Reads fall through to the original config.
 */
export function kubeConfigWithUserAgent(kubeConfig: KubeConfig, userAgent: string): KubeConfig {
  const withUserAgent = Object.create(kubeConfig) as KubeConfig;
  withUserAgent.applyToFetchOptions = async (options) => {
    const init = await kubeConfig.applyToFetchOptions(options);
    // client-node 1.4 returns a Headers instance; a plain record is handled too.
    if (hasSet(init.headers)) init.headers.set('User-Agent', userAgent);
    else init.headers = { ...(init.headers as Record<string, string> | undefined), 'User-Agent': userAgent };
    return init;
  };
  return withUserAgent;
}

function hasSet(headers: unknown): headers is { set(name: string, value: string): void } {
  return typeof headers === 'object' && headers !== null && typeof (headers as { set?: unknown }).set === 'function';
}
