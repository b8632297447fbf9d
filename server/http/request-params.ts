import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * `variables` and `extensions` sent as text (a GET's query string, a form-encoded POST) that are not
 * JSON: Yoga's parser let JSON.parse's SyntaxError escape, so `GET /graphql?query=…&variables={`
 * answered INTERNAL_SERVER_ERROR and logged an "unexpected error" per request. Now a 400 BAD_REQUEST
 * that names the parameter.
 */
export function requestParamsPlugin(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
          throw new GraphQLError(
            "The request's `variables` or `extensions` parameter is not valid JSON (send them as a JSON object, URL-encoded in a query string or form).",
            {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            },
          );
        }
      });
    },
  };
}
