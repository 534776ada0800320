import { apiContract } from "./api.contract.js";
import { sqliteMemory } from "./helpers.js";

apiContract("sqlite", sqliteMemory);
