// CrewAI's `{name}` placeholders in task descriptions and expected outputs, filled from the job
// input. A name is an identifier, optionally a dotted path into nested input (`{repo.url}`); any
// other brace text (JSON examples such as `{"a": 1}`) is left alone. `{{name}}` writes a literal
// `{name}`.

const PLACEHOLDER = /\{\{([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\}\}|\{([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\}/g;

/** The distinct placeholder names in `text`, in order of first appearance (escaped ones excluded). */
export function findPlaceholders(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) if (m[2] !== undefined) names.add(m[2]);
  return [...names];
}

function lookup(input: unknown, path: string): unknown {
  let value: unknown = input;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * `text` with each placeholder replaced by its input value: strings as they are, other values as
 * JSON, an absent or null value (an optional field left out) as the empty string. One pass: a value
 * that itself contains `{x}` is inserted verbatim, never expanded again.
 */
export function fillPlaceholders(text: string, input: unknown): string {
  return text.replace(PLACEHOLDER, (_whole, escaped: string | undefined, name: string | undefined) => {
    if (escaped !== undefined) return `{${escaped}}`;
    const value = lookup(input, name!);
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/**
 * The placeholders in `text` that the template's input schema does not declare (each dotted
 * segment must be a declared property of the object schema above it). upsertTemplate refuses a
 * template with any, so a typo fails when the template is saved, not when a job runs.
 */
export function undeclaredPlaceholders(text: string, inputSchema: unknown): string[] {
  return findPlaceholders(text).filter((path) => {
    let schema = inputSchema;
    for (const key of path.split('.')) {
      const props: unknown = schema !== null && typeof schema === 'object' && 'properties' in schema ? schema.properties : undefined;
      if (!props || typeof props !== 'object' || !Object.hasOwn(props, key)) return true;
      schema = (props as Record<string, unknown>)[key];
    }
    return false;
  });
}
