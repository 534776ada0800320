// Send feedback to a running `rlxf serve` with the TypeScript client.
//
//   KEY=$(npx rlxf keys create --role admin)
//   RLXF_API_KEY=$KEY node examples/send-feedback.mjs
//
// RLXF_URL defaults to http://127.0.0.1:8787. Running it twice stores nothing twice:
// every record has an id, so the second run reports each one as already stored.
import { Rlxf, RlxfApiError } from "rlxf/client";

const url = process.env.RLXF_URL || "http://127.0.0.1:8787";
const where = process.env.RLXF_URL ? `RLXF_URL=${url}` : `${url} (RLXF_URL is not set, so the default)`;
/** One line on stderr saying what to fix, and a failing exit code. */
function fail(line) {
  console.error(line);
  process.exit(1);
}
if (!process.env.RLXF_API_KEY) {
  fail(`RLXF_API_KEY is not set: make a key with \`npx rlxf keys create --role admin\` and run RLXF_API_KEY=<key> RLXF_URL=<server> node examples/send-feedback.mjs`);
}

const rlxf = new Rlxf({ url }); // the key comes from RLXF_API_KEY
let me;
try {
  me = await rlxf.me();
} catch (e) {
  if (e instanceof RlxfApiError && e.code === "network_error") fail(`cannot reach an rlxf server at ${where}: start one with \`npx rlxf serve\`, or set RLXF_URL to where one runs (and RLXF_API_KEY to its key)`);
  if (e instanceof RlxfApiError && e.status === 401) fail(`the server at ${where} refused the key in RLXF_API_KEY: ${e.message}`);
  fail(`${e instanceof Error ? e.message : String(e)} (server: ${where})`);
}
console.log(`key ${me.id}: project "${me.project}", role ${me.role}`);

// An item (a prompt) and two generations (outputs of two policies) to give feedback on.
await rlxf.createItems({ id: "hello", prompt: "Say hello in French." });
await rlxf.createGenerations([
  { id: "hello/model-a", itemId: "hello", policy: "model-a", output: "Bonjour !" },
  { id: "hello/model-b", itemId: "hello", policy: "model-b", output: "Hola!" },
]);

// feedback() queues and returns at once; records go out in batches, retried on failure.
rlxf.feedback({
  id: "hello/preference-1",
  kind: "pairwise",
  targets: ["hello/model-a", "hello/model-b"],
  source: { type: "human", id: "me" },
  value: { choice: "first" },
});
rlxf.feedback({
  id: "hello/thumbs-1",
  kind: "binary",
  targets: ["hello/model-b"],
  source: { type: "user", id: "user-42" },
  value: { ok: false },
});
await rlxf.close(); // sends what is queued
console.log("feedback:", rlxf.stats);

const board = await rlxf.leaderboard({ method: "bt" });
for (const row of board.rows) console.log(`${String(row.model).padEnd(16)} ${Number(row.rating).toFixed(0)}`);
