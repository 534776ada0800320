import { runCode } from "./dist/sources/verifiers/code/index.js";
const progs = {
  fb: "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
  spin: "while True:\n    pass\n",
  two: "import os\nos.fork()\nx=0\nwhile True:\n    x+=1\n",
  ok: "s=0\nfor i in range(3*10**6):\n    s+=i\nprint(s)\n",
};
const lang = process.argv[3] ?? "python";
const t = performance.now();
const r = await runCode({ language: lang, program: lang === "javascript" ? "for(;;){}" : progs[process.argv[2]], limits: { wallMs: 5000, cpuSeconds: 1 } });
console.log(process.argv[2], lang, Math.round(performance.now() - t), "ms", r.status, r.limit ?? "", r.sandbox?.start ?? "", r.sandbox?.memory ?? "");
process.exit(0);
