/** The jobs contract (jobs.contract.ts) on a SQLite file: the task table as queue. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openStore } from "../store/index.js";
import { jobsContract } from "./jobs.contract.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-jobs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

jobsContract("sqlite", async () => openStore({ path: join(dir, `${Math.random().toString(36).slice(2)}.db`) }));
