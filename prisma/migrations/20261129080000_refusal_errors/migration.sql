-- Written by hand in Prisma's layout. A refusal as an error, for a statement whose result would
-- make its transaction roll back: raised inside the statement, it fails the statement, so a COMMIT
-- sent with it (server/db/pipelined-statement.ts) does not run and the caller rolls back (the
-- usage charge, server/budgets/charge-usage.ts). SQLSTATE AD001, the reason as the message.
CREATE FUNCTION autodev_refuse(reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'AD001', MESSAGE = reason;
END
$$;
