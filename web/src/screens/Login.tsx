import { useState } from "react";
import type { Me } from "../api";

export function Login({ onLogin, message }: { onLogin: (key: string) => Promise<string | undefined>; message?: string | undefined }) {
  const [key, setKeyText] = useState("");
  const [error, setError] = useState<string | undefined>(message);
  const [busy, setBusy] = useState(false);
  const origin = location.origin;
  return (
    <main id="main" className="login">
      <h1>rlxf</h1>
      <p className="lead">Feedback on model outputs: annotation queues, agreement and leaderboards.</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!key.trim()) {
            setError("Paste an API key first.");
            return;
          }
          setBusy(true);
          const err = await onLogin(key.trim());
          setBusy(false);
          setError(err);
        }}
      >
        <label htmlFor="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKeyText(e.target.value)}
          aria-describedby="key-help"
          aria-invalid={error ? true : undefined}
          autoFocus
        />
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </button>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <div id="key-help" className="help">
        <p>No key yet? With the server running (<code>npx rlxf serve</code>), create one in another terminal:</p>
        <pre>
          <code>npx rlxf keys create --role admin</code>
        </pre>
        <p>
          An <strong>admin</strong> key creates queues and sees the dashboards; an <strong>annotate</strong> key (
          <code>--role annotate --name alice</code>) annotates as its name. A link{" "}
          <code>
            {origin}/?key=<em>KEY</em>
          </code>{" "}
          logs in directly.
        </p>
      </div>
    </main>
  );
}

/** Who a key is, for the switch screen. */
function KeyCard({ title, me }: { title: string; me: Me }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      <dl>
        <dt>Project</dt>
        <dd>{me.project}</dd>
        <dt>Role</dt>
        <dd>{me.role}</dd>
        <dt>Name</dt>
        <dd>{me.name}</dd>
      </dl>
    </section>
  );
}

/**
 * A link brought a key while another session is active. Nothing changes until the person chooses:
 * a link alone must not move someone into another project or role (login CSRF).
 */
export function SwitchKey({ current, next, onSwitch, onKeep }: { current: Me; next: Me; onSwitch: () => void; onKeep: () => void }) {
  return (
    <main id="main" className="login">
      <h1>Switch to another key?</h1>
      <p className="lead">
        The link you opened holds a different API key. You stay logged in as before unless you switch; switch only if you expected this link.
      </p>
      <div className="switch-keys">
        <KeyCard title="Logged in now" me={current} />
        <KeyCard title="Key in the link" me={next} />
      </div>
      <div className="actions">
        <button type="button" onClick={onKeep} autoFocus>
          Stay logged in to {current.project} as {current.role}
        </button>
        <button type="button" className="secondary" onClick={onSwitch}>
          Switch to {next.project} as {next.role}
        </button>
      </div>
    </main>
  );
}
