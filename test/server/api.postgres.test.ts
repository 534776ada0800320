/** The API suite against PostgreSQL (needs RLXF_TEST_DATABASE_URL; `source .ci/postgres.sh`). */
import { openStore } from "../../src/store/index.js";
import { apiContract } from "./api.contract.js";
import { postgresForFile } from "./helpers.js";

const pg = postgresForFile("api.postgres.test");
apiContract("postgres", async () => openStore({ url: await pg.fresh() }), { skip: !pg.available });
