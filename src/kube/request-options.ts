/**
 * Per-call options for client-node API calls: a User-Agent naming this component (the API server
 * derives the managedFields manager from it, and audit logs show who wrote) and a timeout
 * (client-node sets none, and a hung request must not stall a lease renewal or a reconcile).
 */
import { type ConfigurationOptions, Observable, type ObservableMiddleware, type RequestContext } from '@kubernetes/client-node';

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

/** Like requestOptions, plus a Content-Type (a merge patch needs `application/merge-patch+json`). */
export function withContentType(
  options: ConfigurationOptions<ObservableMiddleware>,
  contentType: string,
): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { ...options, middleware: [...(options.middleware ?? []), middleware], middlewareMergeStrategy: 'append' };
}
