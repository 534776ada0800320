import { useState } from "react";

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
          <code>npx rlxf keys create --project demo --role admin</code>
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
