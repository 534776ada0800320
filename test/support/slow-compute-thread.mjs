// A compute thread (src/server/compute-thread.ts's protocol) that takes 3 s to start, as a real
// one does on a busy machine, then answers every call at once, except a reward call for project "hang" (never).
import { parentPort } from "node:worker_threads";

const port = parentPort;
let ready = false;
const waiting = [];
const answer = (m) => {
  if (m.op === "reward" && m.args?.project === "hang") return;
  port.postMessage({ id: m.id, ok: true, value: { echoed: m.op } });
};
port.on("message", (m) => (ready ? answer(m) : waiting.push(m)));
setTimeout(() => {
  ready = true;
  port.postMessage({ ready: true });
  for (const m of waiting.splice(0)) answer(m);
}, 3000);
