/**
 * A budget for the bytes of request bodies being received at once. Partial bodies are Buffers
 * outside the V8 heap, so `--max-old-space-size` does not bound them: this does.
 *
 * A request reserves its declared Content-Length (or the whole body limit when it declares none,
 * as with chunked encoding) when its headers arrive, and releases it when its response is done or
 * its connection closes. Large bodies may only use the budget minus a reserve kept for small ones,
 * so that clients sending many large bodies never crowd out the few-KB reviews the API server sends.
 */
export interface BodyBudgetLimits {
  /** Bytes of request bodies that may be in flight at once. */
  budgetBytes: number;
  /** Bodies up to this size may use the whole budget; larger ones only `budgetBytes - smallReserveBytes`. */
  smallBodyBytes: number;
  smallReserveBytes: number;
}

export class BodyBudget {
  #inUse = 0;

  constructor(readonly limits: BodyBudgetLimits) {}

  get inUseBytes(): number {
    return this.#inUse;
  }

  /** Reserves the bytes and returns the function that releases them (once), or undefined when they do not fit. */
  tryReserve(bytes: number): (() => void) | undefined {
    const { budgetBytes, smallBodyBytes, smallReserveBytes } = this.limits;
    const ceiling = bytes <= smallBodyBytes ? budgetBytes : budgetBytes - smallReserveBytes;
    if (this.#inUse + bytes > ceiling) return undefined;
    this.#inUse += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse -= bytes;
    };
  }
}

/** Small bodies: real AdmissionReviews are a few KB; 64 KiB covers a Secret with a sizeable CA bundle. */
export const SMALL_BODY_BYTES = 64 * 1024;

/** The limits for a total budget: a quarter of it is kept for small bodies. */
export function bodyBudgetLimits(budgetBytes: number): BodyBudgetLimits {
  return { budgetBytes, smallBodyBytes: SMALL_BODY_BYTES, smallReserveBytes: Math.floor(budgetBytes / 4) };
}
