// Feature detection of the Node-compatible process object (Node, Deno and Bun all have one).

/** The parts of `process` the logger uses. */
export interface ProcessLike {
  readonly env?: Record<string, string | undefined>;
  getBuiltinModule?(name: string): unknown;
  on?(event: "exit", listener: () => void): unknown;
}

/** The global `process`, when the runtime has one. */
export function processObject(): ProcessLike | undefined {
  const value = (globalThis as { process?: unknown }).process;
  return typeof value === "object" && value !== null ? value as ProcessLike : undefined;
}

/** A built-in module loaded synchronously (`process.getBuiltinModule`), when available. */
export function builtin<T>(name: string): T | undefined {
  try {
    return processObject()?.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined;
  }
}

/** The environment variable `name`, or `undefined` when unset or unreadable (no permission). */
export function envVar(name: string): string | undefined {
  try {
    const value = processObject()?.env?.[name];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
