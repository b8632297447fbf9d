import { createContext, useContext } from 'react';
import type { Connection } from './client';
import type { Role } from '../gql/graphql';

export interface Session extends Connection {
  role: Role;
  tokenName: string;
  projectName: string;
  signOut(): void;
}

export const ConnectionContext = createContext<Session | null>(null);

export function useConnection(): Session {
  const session = useContext(ConnectionContext);
  if (!session) throw new Error('useConnection outside a signed-in session');
  return session;
}

const ORDER: Role[] = ['VIEWER', 'OPERATOR', 'REVIEWER', 'ADMIN'];
/** The same ladder as the server: viewer < operator < reviewer < admin. */
export const can = (role: Role, required: 'OPERATOR' | 'REVIEWER' | 'ADMIN') => ORDER.indexOf(role) >= ORDER.indexOf(required);
