/** Labels, annotations and finalizer the propagation controller puts on objects it manages. */
import { REGISTRY_SECRET_NAME } from '../registry/labels.js';

/** On every copy: how copies are found (`kubectl get secrets -A -l app.kubernetes.io/managed-by=registry-config-webhook`). */
export const COPY_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const COPY_MANAGED_BY_VALUE = 'registry-config-webhook';
export const COPY_SELECTOR = `${COPY_MANAGED_BY_LABEL}=${COPY_MANAGED_BY_VALUE}`;

/** On every copy: `<namespace>/<name>@<resourceVersion>` of the base the content was last written from. */
export const SOURCE_ANNOTATION = 'registry-config-webhook.kyma-project.io/source';

/** On the base while copies may exist: its deletion waits until every copy is gone. */
export const PROPAGATION_FINALIZER = 'registry-config-webhook.kyma-project.io/propagation';

/** Base and copies share the name; the controller never reads or writes Secrets of any other name. */
export const COPY_NAME = REGISTRY_SECRET_NAME;

/** For Events and logs. */
export const CONTROLLER_NAME = 'registry-config-webhook-propagation';
