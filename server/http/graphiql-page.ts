import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

/**
 * GraphiQL with its scripts, styles and editor workers inlined (about 9 MB), so that it works
 * without internet access; Yoga's default loads them from a CDN. Rendered once per set of options.
 */
export function renderGraphiqlPage(): (opts: Parameters<typeof renderGraphiQL>[0]) => string {
  let last: { key: string; page: string } | undefined;
  return (opts) => {
    const key = JSON.stringify(opts ?? {});
    if (last?.key !== key) last = { key, page: renderGraphiQL(opts) };
    return last.page;
  };
}
