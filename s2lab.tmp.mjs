import { readLabAnnotations, buildLabEnvironment } from "./dist/lab/environment.js";
import { runLab } from "./dist/lab/run.js";
import { LAB_METHODS } from "./dist/lab/methods.js";
const files=["/work/shared/data/alpaca_eval/annotations"];
let t=performance.now();
const rows = await readLabAnnotations(files);
const env = await buildLabEnvironment(rows, { seed: 1, maxInstructions: 300, includeConstant: true }); console.log("env", (performance.now()-t).toFixed(0)); t=performance.now();
const r = await runLab(env, { methods: LAB_METHODS, feedback: "gold", labels: 600, seed: 1, settings: { steps: 80, evalEvery: 10 }, lengthControlled: false }); console.log("gold", (performance.now()-t).toFixed(0));
console.log(r.methods.map(m=>[m.method, m.seconds?.toFixed?.(2)]), r.proxy?.seconds);
