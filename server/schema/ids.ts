const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

declare const uuid: unique symbol;
/** A string checked to be a UUID (a plain `string` guard would call a string that is not one `never`). */
export type Uuid = string & { readonly [uuid]: true };

/** IDs are opaque to clients; anything that is not one of ours simply does not exist. */
export function isId(value: unknown): value is Uuid {
  return typeof value === 'string' && UUID.test(value);
}
