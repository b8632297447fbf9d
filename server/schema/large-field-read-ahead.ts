import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { getDatamodel } from '../db/generated/pothos-types.ts';
import type { GraphQLContext } from './context.ts';
import { isLargeField, readAhead, type LargeField } from './large-field.ts';

// Which large fields to read ahead for a page of rows (large-field.ts reads them): those the
// document selects anywhere below the page's field, on the rows the planned query loaded with it.
// Both may be more than will be resolved (a field under @skip, a connection's extra row that only
// tells hasNextPage): a value read ahead is reserved in the response budget only when a resolver
// answers with it, so reading too much costs a little reading, never a refusal.

/** Per model, its relation fields (the keys a loaded row holds its related rows under). */
const RELATIONS = new Map<string, { name: string; model: string }[]>(
  Object.entries(getDatamodel().datamodel.models).map(([model, { fields }]) => [
    model,
    fields.filter((f) => f.kind === 'object').map((f) => ({ name: f.name, model: f.type })),
  ]),
);

/** Per page field of a (cached, reused) document: the large fields selected below it. */
const selections = new WeakMap<FieldNode, LargeField[]>();

function selectedLargeFields(info: GraphQLResolveInfo): LargeField[] {
  let found = selections.get(info.fieldNodes[0]);
  if (!found) {
    const fields = new Set<LargeField>();
    const spread = new Set<string>();
    // By type name: the schema's own objects stay out of closures' inferred types.
    const fieldTypeName = (typeName: string, fieldName: string): string | undefined => {
      const type = info.schema.getType(typeName);
      const field =
        isObjectType(type) || isInterfaceType(type) ? (type.getFields()[fieldName] as { type: GraphQLOutputType } | undefined) : undefined;
      return field && getNamedType(field.type).name;
    };
    const walk = (set: SelectionSetNode | undefined, typeName: string) => {
      if (!set) return;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          const below = fieldTypeName(typeName, sel.name.value);
          if (below === undefined) continue;
          const name = `${typeName}.${sel.name.value}`;
          if (isLargeField(name)) fields.add(name);
          walk(sel.selectionSet, below);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          walk(sel.selectionSet, sel.typeCondition?.name.value ?? typeName);
        } else if (!spread.has(sel.name.value)) {
          spread.add(sel.name.value);
          const fragment = info.fragments[sel.name.value] as (typeof info.fragments)[string] | undefined;
          if (fragment) walk(fragment.selectionSet, fragment.typeCondition.name.value);
        }
      }
    };
    for (const node of info.fieldNodes) walk(node.selectionSet, getNamedType(info.returnType).name);
    selections.set(info.fieldNodes[0], (found = [...fields]));
  }
  return found;
}

/**
 * Reads ahead the large fields `info`'s selection asks for on `rows` (of `model`, as a planned query
 * loaded them, related rows included), so that their resolvers answer synchronously.
 */
export async function readLargeFieldsAhead(ctx: GraphQLContext, info: GraphQLResolveInfo, model: string, rows: object[]): Promise<void> {
  const selected = selectedLargeFields(info);
  if (selected.length === 0) return;
  const byModel = new Map<string, LargeField[]>();
  for (const field of selected) {
    const owner = field.slice(0, field.indexOf('.'));
    byModel.set(owner, [...(byModel.get(owner) ?? []), field]);
  }
  const wanted = new Map<LargeField, Set<string>>();
  const visit = (row: Record<string, unknown>, of: string) => {
    const fields = byModel.get(of);
    if (fields && (typeof row.id === 'string' || typeof row.id === 'bigint')) {
      for (const field of fields) {
        let ids = wanted.get(field);
        if (!ids) wanted.set(field, (ids = new Set()));
        ids.add(String(row.id));
      }
    }
    for (const relation of RELATIONS.get(of) ?? []) {
      const related = row[relation.name];
      if (Array.isArray(related)) for (const r of related) visit(r as Record<string, unknown>, relation.model);
      else if (related && typeof related === 'object') visit(related as Record<string, unknown>, relation.model);
    }
  };
  for (const row of rows) visit(row as Record<string, unknown>, model);
  await readAhead(ctx, wanted);
}
