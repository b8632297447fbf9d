import { badInput } from '../errors.ts';

/** Items per page of every connection (`jobs`, `templates`, `reviews`): the default and the most one page may ask for. */
export const PAGE = { default: 20, max: 100 } as const;
/** `Job.events(first:)`: the default and the most. */
export const EVENTS_PAGE = { default: 500, max: 1000 } as const;

/** The page sizes of a connection type (server/http/response-limits.ts refuses a larger `first`/`last` before anything runs). */
export function connectionPage(typeName: string): { default: number; max: number } {
  return typeName === 'JobEventsConnection' ? EVENTS_PAGE : PAGE;
}

/** The page size a field's `first` (or `last`) argument asks for, or BAD_USER_INPUT naming the maximum (never a silent cut). */
export function pageSize(
  fieldName: string,
  size: number | null | undefined,
  limits: { default: number; max: number },
  argName: 'first' | 'last' = 'first',
): number {
  if (size === null || size === undefined) return limits.default;
  if (!Number.isInteger(size) || size < 0 || size > limits.max) {
    throw badInput(
      `\`${fieldName}(${argName}: ${size})\` asks for more than a page holds: \`${argName}\` must be between 0 and ${limits.max}.`,
      {
        field: argName,
        maximum: limits.max,
      },
    );
  }
  return size;
}
