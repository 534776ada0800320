/** The jobs contract (jobs.contract.ts) on PostgreSQL (pg-boss): needs RLXF_TEST_DATABASE_URL (test/support/postgres.ts). */
import { postgresForFile } from "../../test/support/postgres.js";
import { openStore } from "../store/index.js";
import { jobsContract } from "./jobs.contract.js";

const pg = postgresForFile("jobs.test");

jobsContract("postgres", async () => openStore({ url: await pg.fresh() }), { skip: !pg.available });
