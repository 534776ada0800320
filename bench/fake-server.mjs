// A local OpenAI-compatible server for the judge benchmark: a fixed latency,
// and AlpacaEval-2-style one-token answers with top logprobs. Prints its base URL.
import { startFakeModelServer } from "../dist/providers/testing/index.js";

const latencyMs = Number(process.argv[2] ?? 50);
const server = await startFakeModelServer({
  latencyMs,
  respond: (r) => {
    // Prefer the longer answer, with some confidence: enough to look like a judge.
    const m = r.prompt.indexOf("## Answer of m");
    const M = r.prompt.indexOf("## Answer of M");
    const end = r.prompt.indexOf("## Your verdict");
    const firstLonger = M - m > end - M;
    return firstLonger ? { text: "m", top: { m: 0.75, M: 0.25 } } : { text: "M", top: { M: 0.7, m: 0.3 } };
  },
});
process.stdout.write(JSON.stringify({ baseUrl: server.baseUrl }) + "\n");
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
