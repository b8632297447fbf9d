-- The sizes of a job's input and output as the API sends them (their JSON text), kept by PostgreSQL
-- as generated columns: the per-request response budget (server/schema/large-field.ts) reads
-- these instead of converting every document to text on every request.
ALTER TABLE "Job" ADD COLUMN "inputBytes" integer GENERATED ALWAYS AS (octet_length(input::text)) STORED;
ALTER TABLE "Job" ADD COLUMN "outputBytes" integer GENERATED ALWAYS AS (octet_length(output::text)) STORED;
