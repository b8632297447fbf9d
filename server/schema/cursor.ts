import { parsePrismaCursor } from '@pothos/plugin-prisma';
import { badInput } from '../errors.ts';
import { principalOf, type GraphQLContext } from './context.ts';
import { isId } from './ids.ts';

// Whether a row belongs to the caller's project, per list. A cursor positions a page at its row
// wherever that row lives, so a foreign row's cursor would tell whether it exists: only our own are taken.
const OWN_ROW = {
  Job: `SELECT 1 FROM "Job" WHERE id = $1 AND "projectId" = $2`,
  Template: `SELECT 1 FROM "Template" WHERE id = $1 AND "projectId" = $2`,
  Review: `SELECT 1 FROM "Review" r JOIN "Job" j ON j.id = r."jobId" WHERE r.id = $1 AND j."projectId" = $2`,
} as const;

/**
 * BAD_USER_INPUT unless `after` and `before` are cursors of this list for this caller's project.
 * A cursor of another project's row, of another list, or of a row that is gone gets the same answer.
 */
export async function checkCursors(
  ctx: GraphQLContext,
  list: keyof typeof OWN_ROW,
  args: { after?: string | null; before?: string | null },
): Promise<void> {
  for (const name of ['after', 'before'] as const) {
    const cursor = args[name];
    if (cursor === null || cursor === undefined) continue;
    let id: unknown;
    try {
      id = parsePrismaCursor(cursor);
    } catch {
      id = null;
    }
    const own = isId(id) && (await ctx.services.pool.query(OWN_ROW[list], [id, principalOf(ctx).projectId])).rows.length > 0;
    if (!own) {
      throw badInput(
        `\`${name}\` is not a cursor of this list: use a \`cursor\` or \`endCursor\` this list gave you (a cursor of another list or project, or of an item that is gone, is not one). Start again without \`${name}\`.`,
        {
          field: name,
        },
      );
    }
  }
}
