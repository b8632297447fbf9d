import type { Role } from '../db/generated/enums.ts';

// The roles are prisma/schema.prisma's `Role` enum; their order of power is decided here (a Record,
// so a role added to the schema does not compile until it is ranked).
export type { Role };
const RANK: Record<Role, number> = { VIEWER: 0, OPERATOR: 1, REVIEWER: 2, ADMIN: 3 };

/** The roles from least to most powerful. */
export const ROLES: readonly Role[] = (Object.keys(RANK) as Role[]).sort((a, b) => RANK[a] - RANK[b]);

/** viewer < operator (create/cancel jobs) < reviewer (decide reviews) < admin (templates, budgets, tokens). */
export function hasRole(actual: Role, required: Role): boolean {
  return RANK[actual] >= RANK[required];
}
