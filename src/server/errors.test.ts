/**
 * Every typed error becomes the status of its category with the field to fix, in one place; anything else is
 * a 500 that says nothing of its cause.
 */
import { describe, expect, it } from "vitest";
import { API_ERROR_CODES, ArgumentError, ERROR_CODES, NotFoundError, RlxfError, ValidationError } from "../errors.js";
import { bradleyTerry, createRng } from "../eval/index.js";
import { MissingReferenceError } from "../store/index.js";
import { ApiError, toErrorResponse } from "./errors.js";

describe("toErrorResponse", () => {
  it("answers a domain function's bad argument with a 400 naming the field, never a 500", () => {
    let thrown: unknown;
    try {
      bradleyTerry([{ a: "x", b: "y", pB: 1.5 }]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect(toErrorResponse(thrown)).toEqual({
      status: 400,
      body: { error: { code: "validation_failed", message: "comparison 0: pB = 1.5 not in [0, 1]", issues: [{ path: "comparisons.0.pB", message: "comparison 0: pB = 1.5 not in [0, 1]" }] } },
    });
    let rng: unknown;
    try {
      createRng(1).int(0);
    } catch (e) {
      rng = e;
    }
    expect(toErrorResponse(rng).status).toBe(400);
  });

  it("maps each category to its status and keeps the codes the API documents", () => {
    const cases: [unknown, number, string][] = [
      [new RlxfError("invalid_config", "bad judge"), 400, "validation_failed"],
      [new RlxfError("unknown_name", "no verifier \"x\""), 400, "validation_failed"],
      [new ValidationError([{ path: "value.score", message: "too big" }]), 400, "validation_failed"],
      [new ApiError("unauthorized", "no key"), 401, "unauthorized"],
      [new ApiError("forbidden", "no"), 403, "forbidden"],
      [new NotFoundError("no such thing"), 404, "not_found"],
      [new MissingReferenceError({ what: "feedback", path: "targets.0", refKind: "generation", project: "p", refId: "g" }), 404, "missing_reference"],
      [new RlxfError("conflict", "differs"), 409, "conflict"],
      [new ApiError("unsupported_media_type", "send JSON"), 415, "unsupported_media_type"],
      [new ApiError("method_not_allowed", "GET only"), 405, "method_not_allowed"],
      [new ApiError("batch_too_large", "split it"), 413, "batch_too_large"],
      [new RlxfError("queue_full", "wait"), 413, "payload_too_large"],
      [new RlxfError("sandbox_unavailable", "no bwrap"), 503, "unavailable"],
      [new RlxfError("store_closed", "closed"), 503, "unavailable"],
    ];
    for (const [e, status, code] of cases) {
      const r = toErrorResponse(e);
      expect([r.status, r.body.error.code], (e as Error).message).toEqual([status, code]);
    }
    // The store's own words (which may name its host) never reach the client.
    expect(toErrorResponse(new RlxfError("store_unavailable", "cannot reach db.internal:5432")).body.error.message).toBe("the store is not available; retry later");
  });

  it("hides internal errors and foreign ones behind a 500", () => {
    for (const e of [new RlxfError("store_inconsistent", "row 7 of table x"), new TypeError("x is undefined"), "a string"]) {
      expect(toErrorResponse(e)).toEqual({ status: 500, body: { error: { code: "internal_error", message: "internal error; it has been logged" } } });
    }
  });

  it("has a category for every code, and the API's codes among them", () => {
    for (const c of API_ERROR_CODES) expect(Object.hasOwn(ERROR_CODES, c)).toBe(true);
    expect(new ArgumentError("k", "k must be >= 2").category).toBe("validation");
  });
});
