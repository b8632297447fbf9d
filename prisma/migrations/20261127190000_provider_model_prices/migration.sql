-- Written by hand in Prisma's layout (the Prisma CLI's schema engine cannot run offline).
-- Models named with their provider (`openai:gpt-4o`, `anthropic:claude-sonnet-4-5`), as agents on
-- the agent runtime name them, priced like the bare names. Prices stay data: setModelPrice changes
-- them; rows an admin already set are kept.
INSERT INTO "ModelPrice" ("model", "inputUsdPerMillion", "outputUsdPerMillion") VALUES
  ('openai:gpt-4o', 2.50, 10.00),
  ('openai:gpt-4o-mini', 0.15, 0.60),
  ('openai:gpt-4.1', 2.00, 8.00),
  ('openai:gpt-4.1-mini', 0.40, 1.60),
  ('anthropic:claude-sonnet-4-5', 3.00, 15.00),
  ('anthropic:claude-haiku-4-5', 1.00, 5.00),
  ('anthropic:claude-opus-4-1', 15.00, 75.00)
ON CONFLICT ("model") DO NOTHING;
