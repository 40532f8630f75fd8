/**
 * Whether a principal's scopes let `permission` through: absent or an empty list, yes (the
 * role's whole grant); a list, when it names the permission; anything else, no — a string in
 * particular, which `includes` would otherwise match as a substring.
 */
export function scopesAllow(scopes: unknown, permission: string): boolean {
  if (scopes === undefined) return true;
  return Array.isArray(scopes) && (scopes.length === 0 || scopes.includes(permission));
}
