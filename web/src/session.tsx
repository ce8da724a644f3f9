import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, onSessionEnd, request, setCredentials } from './api';

// The signed-in session. With IAM on, the user signs in with a name and password: that gives a
// domain-scoped token, which is traded (Keystone's token method) for a token scoped to the
// chosen project; both live in sessionStorage, so the session ends with the browser tab. With
// `--auth none` there is no sign-in and every project is open.

export interface Project {
  id: string;
  name: string;
}

export interface Session {
  /** 'loading' until the server answered; 'none' = the server runs with --auth none. */
  mode: 'loading' | 'none' | 'iam';
  signedIn: boolean;
  userName: string;
  projects: Project[];
  projectId: string;
  /** When the project token ends (ms since the epoch); 0 with --auth none. */
  expiresAtMs: number;
  /** Why the last session ended (expired, revoked), shown on the sign-in page. */
  endedMessage: string;
  /** The RBAC token for the registry and the config center when the server runs with --rbac. */
  rbacToken: string;
  signIn(userName: string, password: string, domain?: string): Promise<void>;
  signOut(): Promise<void>;
  selectProject(id: string): Promise<void>;
  setRbacToken(token: string): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

const STORE = 'openstage.console';
interface Stored {
  domainToken: string;
  token: string;
  userName: string;
  projectId: string;
  expiresAtMs: number;
  rbacToken?: string;
}

function load(): Stored | undefined {
  try {
    const raw = sessionStorage.getItem(STORE);
    return raw ? (JSON.parse(raw) as Stored) : undefined;
  } catch {
    return undefined;
  }
}

function save(s: Stored | undefined): void {
  if (s) sessionStorage.setItem(STORE, JSON.stringify(s));
  else sessionStorage.removeItem(STORE);
}

async function issueProjectToken(domainToken: string, projectId: string): Promise<{ token: string; expiresAtMs: number }> {
  const r = await request<any>('/v3/auth/tokens', { method: 'POST', anonymous: true, body: { auth: { identity: { methods: ['token'], token: { id: domainToken } }, scope: { project: { id: projectId } } } } });
  return { token: r.headers.get('X-Subject-Token') ?? '', expiresAtMs: Date.parse(r.body.token.expires_at) };
}

async function listProjects(token?: string): Promise<Project[]> {
  const r = await request<{ projects: Project[] }>('/v3/auth/projects', { anonymous: true, headers: token ? { 'X-Auth-Token': token } : {} });
  return r.body.projects.map((p) => ({ id: p.id, name: p.name }));
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [mode, setMode] = useState<Session['mode']>('loading');
  const [stored, setStored] = useState<Stored | undefined>(load);
  const [projects, setProjects] = useState<Project[]>([]);
  const [openProject, setOpenProject] = useState(() => localStorage.getItem(`${STORE}.project`) ?? '');
  const [endedMessage, setEndedMessage] = useState('');
  const [rbacToken, setRbacTokenState] = useState(() => sessionStorage.getItem(`${STORE}.rbac`) ?? '');

  const update = useCallback((s: Stored | undefined) => {
    save(s);
    setStored(s);
  }, []);

  const end = useCallback(
    (message: string) => {
      update(undefined);
      setProjects([]);
      setEndedMessage(message);
    },
    [update],
  );

  // Set while rendering (idempotent), not in an effect: the pages' queries start in their own
  // effects, which run before this provider's.
  setCredentials({ token: stored?.token, rbacToken: rbacToken || undefined });

  useEffect(() => {
    onSessionEnd((message) => end(`Your session has ended (${message}). Sign in again.`));
  }, [end]);

  // Which mode the server runs in: the project list answers without a token only with --auth none.
  useEffect(() => {
    let cancelled = false;
    listProjects()
      .then((list) => {
        if (cancelled) return;
        setMode('none');
        setProjects(list);
      })
      .catch(async (err: unknown) => {
        if (cancelled) return;
        if (!(err instanceof ApiError) || err.status !== 401) {
          setEndedMessage(`The server did not answer: ${(err as Error).message}`);
          setMode('iam');
          return;
        }
        setMode('iam');
        const s = load();
        if (!s) return;
        try {
          setProjects(await listProjects(s.domainToken));
        } catch (e) {
          end(`Your session has ended (${(e as Error).message}). Sign in again.`);
        }
      });
    return () => {
      cancelled = true;
    };
  }, [end]);

  // A clear message the moment the token ends, even without a request.
  useEffect(() => {
    if (!stored?.expiresAtMs) return;
    const left = stored.expiresAtMs - Date.now();
    const fire = () => end(`Your session expired at ${new Date(stored.expiresAtMs).toLocaleString()}. Sign in again.`);
    if (left <= 0) {
      fire();
      return;
    }
    const timer = setTimeout(fire, Math.min(left, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [stored, end]);

  const signIn = useCallback(
    async (userName: string, password: string, domain?: string) => {
      const user: Record<string, unknown> = { name: userName, password };
      if (domain) user.domain = { name: domain };
      const r = await request<any>('/v3/auth/tokens', { method: 'POST', anonymous: true, body: { auth: { identity: { methods: ['password'], password: { user } } } } });
      const domainToken = r.headers.get('X-Subject-Token') ?? '';
      const list = await listProjects(domainToken);
      if (list.length === 0) throw new Error('this user is a member of no project');
      const previous = localStorage.getItem(`${STORE}.project`);
      const projectId = list.find((p) => p.id === previous)?.id ?? list[0]!.id;
      const { token, expiresAtMs } = await issueProjectToken(domainToken, projectId);
      setProjects(list);
      setEndedMessage('');
      update({ domainToken, token, userName: r.body.token.user.name, projectId, expiresAtMs });
    },
    [update],
  );

  const signOut = useCallback(async () => {
    const s = load();
    for (const t of new Set([s?.token, s?.domainToken])) {
      if (t) await request('/v3/auth/tokens', { method: 'DELETE', anonymous: true, headers: { 'X-Auth-Token': t, 'X-Subject-Token': t } }).catch(() => undefined);
    }
    update(undefined);
    setEndedMessage('You have signed out.');
  }, [update]);

  const selectProject = useCallback(
    async (id: string) => {
      localStorage.setItem(`${STORE}.project`, id);
      if (mode === 'none') {
        setOpenProject(id);
        return;
      }
      const s = load();
      if (!s) return;
      const { token, expiresAtMs } = await issueProjectToken(s.domainToken, id);
      update({ ...s, token, projectId: id, expiresAtMs });
      // Revoked once the new token is in use.
      await request('/v3/auth/tokens', { method: 'DELETE', anonymous: true, headers: { 'X-Auth-Token': s.token, 'X-Subject-Token': s.token } }).catch(() => undefined);
    },
    [mode, update],
  );

  const setRbacToken = useCallback((token: string) => {
    if (token) sessionStorage.setItem(`${STORE}.rbac`, token);
    else sessionStorage.removeItem(`${STORE}.rbac`);
    setRbacTokenState(token);
  }, []);

  const value = useMemo<Session>(() => {
    const projectId = mode === 'none' ? (projects.find((p) => p.id === openProject)?.id ?? projects[0]?.id ?? '') : (stored?.projectId ?? '');
    return {
      mode,
      signedIn: mode === 'none' || (mode === 'iam' && !!stored),
      userName: mode === 'none' ? 'local (auth none)' : (stored?.userName ?? ''),
      projects,
      projectId,
      expiresAtMs: mode === 'none' ? 0 : (stored?.expiresAtMs ?? 0),
      endedMessage,
      rbacToken,
      signIn,
      signOut,
      selectProject,
      setRbacToken,
    };
  }, [mode, stored, projects, openProject, endedMessage, rbacToken, signIn, signOut, selectProject, setRbacToken]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session (inside SessionProvider). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The selected project's id (every ServiceStage path starts with it). */
export function useProject(): string {
  return useSession().projectId;
}
