-- Optional expiry of API tokens: past "expiresAt" a token authenticates as UNAUTHENTICATED and its
-- open subscriptions end. NULL: the token does not expire.
ALTER TABLE "ApiToken" ADD COLUMN "expiresAt" TIMESTAMPTZ(3);
