// Tokens of several projects a person holds, kept in local storage next to the current one
// (auth.ts), so the app can switch between projects without pasting a token again.
const KEY = 'autodev.tokens';

export interface SavedToken {
  token: string;
  projectName: string;
  projectSlug: string;
  tokenName: string;
  role: string;
}

export function loadSavedTokens(): SavedToken[] {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(list) ? (list as SavedToken[]) : [];
  } catch {
    return [];
  }
}

/** Adds or refreshes a token (one entry per token), keeping the list sorted by project. */
export function rememberToken(entry: SavedToken): SavedToken[] {
  const list = [...loadSavedTokens().filter((e) => e.token !== entry.token), entry].sort((a, b) =>
    a.projectName.localeCompare(b.projectName),
  );
  localStorage.setItem(KEY, JSON.stringify(list));
  return list;
}

export function forgetToken(token: string): SavedToken[] {
  const list = loadSavedTokens().filter((e) => e.token !== token);
  localStorage.setItem(KEY, JSON.stringify(list));
  return list;
}

/** Asks the API who a token is; throws the API's sentence when it is refused. */
export async function describeToken(token: string): Promise<SavedToken> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { role tokenName project { slug name } } }' }),
  });
  const body = (await res.json()) as {
    errors?: { message: string }[];
    data?: { viewer: { role: string; tokenName: string; project: { slug: string; name: string } } };
  };
  if (body.errors?.length || !body.data) throw new Error(body.errors?.map((x) => x.message).join(' ') ?? 'The token was refused.');
  const v = body.data.viewer;
  return { token, projectName: v.project.name, projectSlug: v.project.slug, tokenName: v.tokenName, role: v.role };
}
