// GraphQL literals and selections built from the schema, for tests that generate requests over every
// field and argument (argument-fuzz.test.ts, null-variable.test.ts).
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';

export const NO_UUID = '00000000-0000-4000-8000-000000000000';

const SCALAR_LITERALS: Record<string, string> = {
  ID: `"${NO_UUID}"`,
  String: '"x"',
  Int: '1',
  Float: '1.5',
  Boolean: 'true',
  JSON: '{}',
  DateTime: '"2026-01-01T00:00:00.000Z"',
};

/** A literal of `type` that validation accepts (its required fields filled; usable as a default), or null. */
export function literal(type: GraphQLInputType, depth = 0): string | null {
  if (depth > 6) return null;
  if (isNonNullType(type)) return literal(type.ofType, depth);
  if (isListType(type)) return '[]';
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isScalarType(type)) return SCALAR_LITERALS[type.name] ?? null;
  if (isInputObjectType(type)) {
    const parts: string[] = [];
    for (const f of Object.values(type.getFields())) {
      if (!isNonNullType(f.type) || f.defaultValue !== undefined) continue;
      const v = literal(f.type, depth + 1);
      if (v === null) return null;
      parts.push(`${f.name}: ${v}`);
    }
    return `{ ${parts.join(', ')} }`;
  }
  return null;
}

/** The smallest selection a field of this type accepts. */
export function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isObjectType(named) || 'getFields' in named ? ' { __typename }' : '';
}
