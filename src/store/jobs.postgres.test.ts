import { postgresForFile } from "../../test/support/postgres.js";
import { jobsContract } from "./jobs.contract.js";
import { openStore } from "./index.js";

const pg = postgresForFile("jobs.postgres.test");
jobsContract("postgres", async () => openStore({ url: await pg.fresh() }), { skip: !pg.available });
