/**
 * Removes the userinfo of every URL in a text (`https://user:token@host` → `https://***@host`) and
 * any of the given secret values, so git's messages can be shown and logged.
 */
export function redactUrls(text: string, secrets: string[] = []): string {
  let out = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
