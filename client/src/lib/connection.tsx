import { createContext, useContext } from 'react';
import type { Connection } from './client';
import { hasRole } from '../../../server/auth/roles.ts';
import type { Role } from '../gql/graphql';

export interface Session extends Connection {
  role: Role;
  tokenName: string;
  projectName: string;
  /** Back to the sign-in page, showing `why` when given. */
  signOut: (why?: string) => void;
}

export const ConnectionContext = createContext<Session | null>(null);

export function useConnection(): Session {
  const session = useContext(ConnectionContext);
  if (!session) throw new Error('useConnection outside a signed-in session');
  return session;
}

/** What a role may do: the server's own ladder (viewer < operator < reviewer < admin). */
export const can: (role: Role, required: Role) => boolean = hasRole;
