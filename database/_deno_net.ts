// Deno refuses a connection it has no --allow-net for one tick after the socket is created,
// before postgres.js listens for the socket's errors, so the refusal would surface only as a
// timeout of every attempt. Ask first, once, and fail at once naming the flag.

/** The part of `Deno.permissions` used here (feature-detected: absent on Node and Bun). */
export interface NetPermissions {
  querySync(descriptor: { name: "net"; host: string }): { readonly state: string };
  requestSync(descriptor: { name: "net"; host: string }): { readonly state: string };
}

/**
 * On Deno, whether the process may connect to `host:port`; a permission in the "prompt" state is
 * requested (Deno asks on a terminal, or refuses at once under `--no-prompt`). Always true on
 * Node and Bun.
 */
export function netAllowed(
  host: string,
  port: number,
  permissions: NetPermissions | undefined =
    (globalThis as { Deno?: { permissions?: NetPermissions } }).Deno?.permissions,
): boolean {
  if (typeof permissions?.querySync !== "function") return true;
  const descriptor = {
    name: "net" as const,
    host: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
  };
  let state = permissions.querySync(descriptor).state;
  if (state === "prompt" && typeof permissions.requestSync === "function") {
    state = permissions.requestSync(descriptor).state;
  }
  return state === "granted";
}

/**
 * Whether `error`, or an error in its `cause` chain, is Deno's refusal of a permission
 * (`NotCapable`; `PermissionDenied` before Deno 2): retrying cannot help.
 */
export function deniedByDeno(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const name = (current as { name?: unknown }).name;
    if (name === "NotCapable" || name === "PermissionDenied") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
