import { badInput } from '../errors.ts';

/** Items per page of every connection (`jobs`, `templates`, `reviews`): the default and the most one page may ask for. */
export const PAGE = { default: 20, max: 100 } as const;
/** `Job.events(first:)`: the default and the most. */
export const EVENTS_PAGE = { default: 500, max: 1000 } as const;

/** The page size a field's `first` argument asks for, or BAD_USER_INPUT naming the maximum (never a silent cut). */
export function pageSize(fieldName: string, first: number | null | undefined, limits: { default: number; max: number }): number {
  if (first === null || first === undefined) return limits.default;
  if (!Number.isInteger(first) || first < 0 || first > limits.max) {
    throw badInput(`\`${fieldName}(first: ${first})\` asks for more than a page holds: \`first\` must be between 0 and ${limits.max}.`, {
      field: 'first',
      maximum: limits.max,
    });
  }
  return first;
}
