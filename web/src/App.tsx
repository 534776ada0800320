/** The shell: who is logged in, the navigation, and which screen a path shows. */
import { Suspense, lazy, useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Me, errorText, getKey, request, setKey } from "./api";
import { Link } from "./components/Link";
import { match, navigate, useLocation } from "./router";
import { Annotate } from "./screens/Annotate";
import { Login, SwitchKey } from "./screens/Login";
import { Queues } from "./screens/Queues";

// Screens annotators never open load on first use, so the annotation path stays small.
const Browse = lazy(() => import("./screens/Browse").then((m) => ({ default: m.Browse })));
const CreateQueue = lazy(() => import("./screens/CreateQueue").then((m) => ({ default: m.CreateQueue })));
const Dashboard = lazy(() => import("./screens/Dashboard").then((m) => ({ default: m.Dashboard })));
const QueueDashboard = lazy(() => import("./screens/QueueDashboard").then((m) => ({ default: m.QueueDashboard })));
const MyTasks = lazy(() => import("./screens/Review").then((m) => ({ default: m.MyTasks })));
const Adjudicate = lazy(() => import("./screens/Review").then((m) => ({ default: m.Adjudicate })));
const LabList = lazy(() => import("./screens/Lab").then((m) => ({ default: m.LabList })));
const LabResult = lazy(() => import("./screens/Lab").then((m) => ({ default: m.LabResult })));
const LoopList = lazy(() => import("./screens/Loops").then((m) => ({ default: m.LoopList })));
const LoopRunView = lazy(() => import("./screens/Loops").then((m) => ({ default: m.LoopRunView })));
const CriticList = lazy(() => import("./screens/Critics").then((m) => ({ default: m.CriticList })));
const CriticResult = lazy(() => import("./screens/Critics").then((m) => ({ default: m.CriticResult })));
const JobList = lazy(() => import("./screens/Jobs").then((m) => ({ default: m.JobList })));
const JobView = lazy(() => import("./screens/Jobs").then((m) => ({ default: m.JobView })));
const RuleList = lazy(() => import("./screens/Rules").then((m) => ({ default: m.RuleList })));

type Session =
  | { state: "checking" }
  | { state: "out"; message?: string }
  | { state: "in"; me: Me; notice?: string }
  /** A link brought another key while a session is active: nothing changes until the person says so. */
  | { state: "confirm"; current: Me; next: Me; nextKey: string };

/** Who a key is, or why it cannot be used. */
async function whoIs(key: string): Promise<{ me: Me } | { error: string; invalid: boolean }> {
  try {
    return { me: await request<Me>("/v1/me", { key }) };
  } catch (e) {
    const invalid = e instanceof ApiError && e.status === 401;
    return { error: invalid ? "This key is not valid (unknown or revoked)." : errorText(e), invalid };
  }
}

export function App() {
  const url = useLocation();
  const [session, setSession] = useState<Session>({ state: "checking" });

  const login = useCallback(async (key: string): Promise<string | undefined> => {
    const who = await whoIs(key);
    if ("error" in who) return who.error;
    setKey(key);
    setSession({ state: "in", me: who.me });
    return undefined;
  }, []);

  // A link holding a key (`/?key=...`) logs in at once when no one is logged in; the key then leaves the
  // address bar. It never replaces an active session silently (a link could log an admin into someone
  // else's project): with a session under another key, the person is asked first.
  useEffect(() => {
    const params = new URL(location.href).searchParams;
    const fromUrl = params.get("key");
    if (fromUrl) {
      params.delete("key");
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
    }
    const stored = getKey();
    void (async () => {
      if (fromUrl && stored && fromUrl !== stored) {
        const [current, next] = await Promise.all([whoIs(stored), whoIs(fromUrl)]);
        if ("me" in current) {
          if ("me" in next) setSession({ state: "confirm", current: current.me, next: next.me, nextKey: fromUrl });
          else setSession({ state: "in", me: current.me, notice: `The link's key was not used: ${next.error}` });
          return;
        }
        if (current.invalid) setKey(null);
      }
      const key = fromUrl ?? stored;
      if (!key) {
        setSession({ state: "out" });
        return;
      }
      const err = await login(key);
      if (err) {
        setKey(null);
        setSession({ state: "out", message: err });
      }
    })();
  }, [login]);

  // After an in-app navigation, focus moves to the new screen (screen readers announce it).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [url.pathname]);

  const logout = () => {
    setKey(null);
    setSession({ state: "out" });
    navigate("/");
  };

  if (session.state === "checking") {
    return (
      <main id="main" className="center">
        <p role="status">Checking your key…</p>
      </main>
    );
  }
  if (session.state === "out") {
    return <Login onLogin={login} message={session.message} />;
  }
  if (session.state === "confirm") {
    const { current, next, nextKey } = session;
    return (
      <SwitchKey
        current={current}
        next={next}
        onSwitch={() => {
          setKey(nextKey);
          setSession({ state: "in", me: next });
        }}
        onKeep={() => setSession({ state: "in", me: current })}
      />
    );
  }
  const { me } = session;
  const path = url.pathname;
  const isAdmin = me.role === "admin";
  const canRead = me.role === "admin" || me.role === "read";

  let screen: React.ReactNode;
  let params: Record<string, string> | null;
  if (path === "/" || path === "/queues") screen = <Queues me={me} />;
  else if (path === "/queues/new" && isAdmin) screen = <CreateQueue />;
  else if ((params = match("/queues/:id/annotate", path))) screen = <Annotate me={me} queueId={params.id!} />;
  else if ((params = match("/queues/:id/mine", path))) screen = <MyTasks queueId={params.id!} />;
  else if ((params = match("/queues/:id/mine/:taskId", path))) screen = <Annotate key={params.taskId} me={me} queueId={params.id!} taskId={params.taskId!} />;
  else if ((params = match("/queues/:id/tasks/:taskId", path)) && isAdmin) screen = <Adjudicate queueId={params.id!} taskId={params.taskId!} />;
  else if ((params = match("/queues/:id", path)) && canRead) screen = <QueueDashboard me={me} queueId={params.id!} />;
  else if (path === "/dashboard" && canRead) screen = <Dashboard me={me} />;
  else if (path === "/browse" && canRead) screen = <Browse />;
  else if (path === "/lab" && canRead) screen = <LabList canRun={isAdmin} />;
  else if ((params = match("/lab/:name", path)) && canRead) {
    const v = Number(url.searchParams.get("version"));
    screen = <LabResult name={params.name!} {...(Number.isInteger(v) && v > 0 ? { version: v } : {})} />;
  } else if (path === "/loops" && canRead) screen = <LoopList />;
  else if ((params = match("/loops/:id", path)) && canRead) screen = <LoopRunView id={params.id!} />;
  else if (path === "/critics" && canRead) screen = <CriticList />;
  else if ((params = match("/critics/:name", path)) && canRead) {
    const v = Number(url.searchParams.get("version"));
    screen = <CriticResult name={params.name!} {...(Number.isInteger(v) && v > 0 ? { version: v } : {})} />;
  }
  else if (path === "/jobs" && canRead) screen = <JobList />;
  else if ((params = match("/jobs/:id", path)) && canRead) screen = <JobView id={params.id!} canControl={isAdmin || me.role === "read"} />;
  else if (path === "/rules" && canRead) screen = <RuleList canManage={isAdmin} />;
  else
    screen = (
      <section>
        <h1>Not found</h1>
        <p>
          Nothing here for a <strong>{me.role}</strong> key. <Link href="/">Back to the queues</Link>.
        </p>
      </section>
    );

  const nav: [string, string][] = [["/", "Queues"]];
  if (isAdmin) nav.push(["/queues/new", "New queue"]);
  if (canRead) nav.push(["/dashboard", "Dashboard"], ["/browse", "Browse"], ["/lab", "Lab"], ["/loops", "Loops"], ["/critics", "Critics"], ["/jobs", "Jobs"], ["/rules", "Rules"]);

  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">rlxf</span>
        <nav aria-label="Main">
          <ul>
            {nav.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={path === href || (href === "/" && path === "/queues") || ((href === "/lab" || href === "/loops" || href === "/critics" || href === "/jobs") && path.startsWith(`${href}/`)) ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {me.name} · <span className="role">{me.role}</span> · project <strong>{me.project}</strong>
        </span>
        <button type="button" className="link-button" onClick={logout}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {session.notice && (
          <p className="error" role="alert">
            {session.notice}
          </p>
        )}
        <Suspense fallback={<p role="status">Loading…</p>}>{screen}</Suspense>
      </main>
    </>
  );
}
