import { jobsContract } from "./jobs.contract.js";
import { openStore } from "./index.js";

jobsContract("sqlite", () => openStore({ path: ":memory:" }));
