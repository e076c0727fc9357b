/** coordination.k8s.io/v1 Lease: MicroTime fields must carry exactly six fractional digits (recorded 400). */
import type { ResourceKindDefinition } from '../kinds.js';
import { errors, fieldErrors, type FieldError } from '../status.js';
import { isPlainObject } from '../types.js';
import { parseMicroTime } from '../validation.js';

export const leases: ResourceKindDefinition = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
  shape: {
    order: ['spec'],
    fields: {
      spec: { order: ['holderIdentity', 'leaseDurationSeconds', 'acquireTime', 'renewTime', 'leaseTransitions', 'strategy', 'preferredHolder'] },
    },
  },
  zeroValues: { spec: {} },
  decode(obj) {
    if (!isPlainObject(obj.spec)) return;
    for (const field of ['acquireTime', 'renewTime']) {
      const value = obj.spec[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw errors.undecodable('Lease', 'v1', `json: cannot unmarshal ${typeof value} into Go struct field LeaseSpec.spec.${field} of type string`);
      const parsed = parseMicroTime(value);
      if (!parsed.ok) throw errors.undecodable('Lease', 'v1', parsed.error);
      obj.spec[field] = parsed.value;
    }
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const spec = isPlainObject(obj.spec) ? obj.spec : {};
    const duration = spec.leaseDurationSeconds;
    if (typeof duration === 'number' && duration <= 0) errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
    const transitions = spec.leaseTransitions;
    if (typeof transitions === 'number' && transitions < 0) errs.push(fieldErrors.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
    return errs;
  },
};
