import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatContext,
  formatCost,
  formatDate,
  formatDuration,
  formatEuros,
  formatMonth,
  formatPrice,
  formatTokens,
  percentOf,
  splitEuros,
} from "./format";

// French number formatting uses narrow no-break spaces; compare with plain spaces.
const plain = (s: string) => s.replace(/[\u202f\u00a0]/g, " ");

describe("money", () => {
  it("rounds nano-euros half away from zero with integers", () => {
    expect(splitEuros(1_234_565_000_000, 2)).toEqual([false, 1234n, "57"]);
    expect(splitEuros(1_234_564_999_999, 2)).toEqual([false, 1234n, "56"]);
    expect(splitEuros(-5_000_000, 2)).toEqual([true, 0n, "01"]);
    expect(splitEuros(-4_999_999, 2)).toEqual([false, 0n, "00"]);
    expect(splitEuros(999_999_999, 0)).toEqual([false, 1n, ""]);
    // Beyond float precision: 2^53 + 1 nanos as a bigint stays exact.
    expect(splitEuros(9_007_199_254_740_993n, 9)).toEqual([false, 9_007_199n, "254740993"]);
  });

  it("formats euros per locale", () => {
    expect(formatEuros(1_234_560_000_000, 2, "en")).toBe("€1,234.56");
    expect(plain(formatEuros(1_234_560_000_000, 2, "fr"))).toBe("1 234,56 €");
    expect(formatEuros(0, 2, "en")).toBe("€0.00");
    expect(formatEuros(-1_500_000_000, 2, "en")).toBe("-€1.50");
    expect(formatEuros(123_456_789, 4, "en")).toBe("€0.1235");
    expect(formatEuros(100_000_000_000, 0, "en")).toBe("€100");
  });

  it("shows small costs with enough decimals", () => {
    expect(formatCost(0, "en")).toBe("€0.00");
    expect(formatCost(12_345_678_901, "en")).toBe("€12.35");
    expect(formatCost(1_234_567, "en")).toBe("€0.0012");
    expect(formatCost(12_345, "en")).toBe("€0.000012");
  });

  it("shows prices with the decimals they have", () => {
    expect(formatPrice(500_000_000, "en")).toBe("€0.50");
    expect(formatPrice(125_000_000, "en")).toBe("€0.125");
    expect(plain(formatPrice(1_500_000_000, "fr"))).toBe("1,50 €");
  });
});

describe("numbers and dates", () => {
  it("groups tokens per locale", () => {
    expect(formatTokens(1_234_567, "en")).toBe("1,234,567");
    expect(plain(formatTokens(1_234_567, "fr"))).toBe("1 234 567");
  });

  it("writes contexts and sizes", () => {
    expect(formatContext(131_072, "en")).toBe("128K");
    expect(formatContext(8192, "en")).toBe("8K");
    expect(formatContext(32_000, "en")).toBe("32k");
    expect(formatContext(512, "en")).toBe("512");
    expect(formatBytes(105_000_000, "en")).toBe("100.1 MB");
    expect(formatBytes(105_000_000, "fr")).toBe("100,1 Mo");
    expect(formatBytes(512, "en")).toBe("512 B");
  });

  it("writes durations and percentages", () => {
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(3720)).toBe("1 h 02 min");
    expect(percentOf(45_000, 50_000)).toBe(90);
    expect(percentOf(1, 3)).toBe(33);
    expect(percentOf(5, null)).toBe(0);
  });

  it("writes calendar dates without a time-zone shift", () => {
    expect(formatDate("2026-12-31", "en")).toBe("31 Dec 2026");
    expect(formatDate("2026-01-01", "fr")).toBe("1 janv. 2026");
    expect(formatDate("not a date", "en")).toBe("not a date");
    expect(formatMonth("2026-11", "fr")).toBe("novembre 2026");
    expect(formatMonth("2026-11", "en")).toBe("November 2026");
  });
});
