/**
 * Readiness is the AND of named checks registered by the parts that can make the server unfit to
 * take traffic (certificate, resolver sync, shutdown). `/readyz` reports each by name.
 */
export interface CheckResult {
  ok: boolean;
  /** Why it is not ok; never carries a Secret value. */
  reason?: string;
}

export type ReadinessCheck = () => CheckResult;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  remove(name: string): void {
    this.checks.delete(name);
  }

  evaluate(): { ok: boolean; checks: Record<string, CheckResult> } {
    const checks: Record<string, CheckResult> = {};
    let ok = true;
    for (const [name, check] of this.checks) {
      let result: CheckResult;
      try {
        result = check();
      } catch (err) {
        result = { ok: false, reason: `check failed: ${(err as Error).message}` };
      }
      checks[name] = result;
      if (!result.ok) ok = false;
    }
    return { ok, checks };
  }
}
