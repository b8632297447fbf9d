-- A template's input and output schemas keep the author's key order, so the form generated from
-- the input schema shows its fields in that order: `json` keeps the text as written, `jsonb`
-- sorted the keys. Rows stored before keep jsonb's order (their original text is gone); the
-- bundled templates get theirs back when the server seeds them at start.
ALTER TABLE "Template" ALTER COLUMN "inputSchema" TYPE json USING "inputSchema"::json;
ALTER TABLE "Template" ALTER COLUMN "outputSchema" TYPE json USING "outputSchema"::json;
