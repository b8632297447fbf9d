export const ROLES = ['VIEWER', 'OPERATOR', 'REVIEWER', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** viewer < operator (create/cancel jobs) < reviewer (decide reviews) < admin (templates, budgets, tokens). */
export function hasRole(actual: Role, required: Role): boolean {
  return ROLES.indexOf(actual) >= ROLES.indexOf(required);
}
