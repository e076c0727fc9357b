import { LabelSelectorError, parseLabelSelector, type LabelSelector } from './label-selector.js';

/** What the default PROPAGATION_EXCLUDE leaves out: the namespaces Kubernetes itself runs in. */
export const DEFAULT_PROPAGATION_EXCLUDE = 'kubernetes.io/metadata.name in (kube-system,kube-public,kube-node-lease)';

export class PropagationExcludeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropagationExcludeError';
  }
}

/**
 * PROPAGATION_EXCLUDE as a selector over namespace labels. Blank is refused: an empty selector
 * matches everything, which would silently exclude every namespace.
 */
export function parseExcludeSelector(text: string): LabelSelector {
  if (text.trim() === '') {
    throw new PropagationExcludeError(
      'invalid PROPAGATION_EXCLUDE: an empty label selector matches every namespace (use PROPAGATION=off to disable propagation)',
    );
  }
  try {
    return parseLabelSelector(text);
  } catch (err) {
    if (err instanceof LabelSelectorError) {
      throw new PropagationExcludeError(`invalid PROPAGATION_EXCLUDE "${text}": ${err.reason}`);
    }
    throw err;
  }
}
