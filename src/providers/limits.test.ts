import { describe, expect, it } from "vitest";
import { RateLimiter, Semaphore, backoffDelay, virtualClock } from "./limits.js";
import { retryAfterMs } from "./transport.js";

describe("Semaphore", () => {
  it("admits at most `limit` holders, first come first served", async () => {
    const s = new Semaphore(2);
    const order: string[] = [];
    const r1 = await s.acquire();
    const r2 = await s.acquire();
    const p3 = s.acquire().then((r) => (order.push("3"), r));
    const p4 = s.acquire().then((r) => (order.push("4"), r));
    await Promise.resolve();
    expect(s.active).toBe(2);
    expect(s.waiting).toBe(2);
    expect(order).toEqual([]);
    r1();
    r1(); // releasing twice frees one slot only
    const r3 = await p3;
    expect(order).toEqual(["3"]);
    expect(s.waiting).toBe(1);
    r2();
    const r4 = await p4;
    expect(order).toEqual(["3", "4"]);
    r3();
    r4();
    expect(s.active).toBe(0);
  });

  it("rejects a non-positive limit", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe("RateLimiter (virtual time)", () => {
  it("spaces requests at the per-minute rate after the burst", async () => {
    const clock = virtualClock();
    const rpm = new RateLimiter(60, { clock }); // 1 per second, burst 1
    const times: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map(() => rpm.acquire(1).then(() => times.push(clock.now()))));
    expect(times).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it("lets a burst through at once, then refills", async () => {
    const clock = virtualClock();
    const rl = new RateLimiter(600, { clock, burst: 3 }); // 10 per second
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await rl.acquire(1);
      times.push(clock.now());
    }
    expect(times).toEqual([0, 0, 0, 100, 200]);
  });

  it("holds the long-run token rate for requests larger than the bucket (debt), and corrects estimates", async () => {
    const clock = virtualClock();
    const tpm = new RateLimiter(6000, { clock }); // 100 tokens per second, burst 100
    await tpm.acquire(300); // larger than the bucket: goes through on a full bucket, leaves a debt of 200
    expect(clock.now()).toBe(0);
    expect(tpm.available).toBeCloseTo(-200);
    await tpm.acquire(100); // must wait for the debt (2 s) and its own 100 (1 s)
    expect(clock.now()).toBe(3000);
    tpm.adjust(-50); // the last request used 50 fewer tokens than estimated
    expect(tpm.available).toBeCloseTo(50);
  });
});

describe("backoff and Retry-After", () => {
  it("grows exponentially up to the cap, with half of each delay jittered", () => {
    const lo = () => 0;
    const hi = () => 0.999999;
    expect(backoffDelay(0, { initialMs: 100 }, lo)).toBe(50);
    expect(backoffDelay(3, { initialMs: 100 }, lo)).toBe(400);
    expect(backoffDelay(3, { initialMs: 100 }, hi)).toBeCloseTo(800, 2);
    expect(backoffDelay(20, { initialMs: 100, maxMs: 1000 }, hi)).toBeCloseTo(1000, 2);
  });

  it("reads seconds, HTTP dates and retry-after-ms", () => {
    expect(retryAfterMs({ "retry-after": "7" })).toBe(7000);
    expect(retryAfterMs({ "retry-after": "0.5" })).toBe(500);
    expect(retryAfterMs({ "retry-after-ms": "250", "retry-after": "9" })).toBe(250);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }, now)).toBe(3000);
    expect(retryAfterMs({ "retry-after": "soon" })).toBeUndefined();
    expect(retryAfterMs({})).toBeUndefined();
  });
});
