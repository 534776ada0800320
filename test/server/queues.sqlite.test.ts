import { queuesContract } from "./queues.contract.js";
import { sqliteMemory } from "./helpers.js";

queuesContract("sqlite", sqliteMemory);
