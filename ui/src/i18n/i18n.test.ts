import { afterEach, describe, expect, it, vi } from "vitest";
import { en } from "./en";
import { fr } from "./fr";
import { interpolate, resolveLanguage, systemLanguage, translate } from "./index";

type Tree = { [k: string]: string | Tree };

function leaves(t: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("dictionaries", () => {
  const e = leaves(en);
  const f = leaves(fr);

  it("French has exactly the English keys", () => {
    expect([...f.keys()].sort()).toEqual([...e.keys()].sort());
  });

  it("no French string is empty and each keeps the English placeholders", () => {
    for (const [k, v] of e) {
      const french = f.get(k) ?? "";
      expect(french.trim(), k).not.toBe("");
      expect(placeholders(french), k).toEqual(placeholders(v));
    }
  });

  it("has a panel section for every panel", () => {
    for (const s of ["common", "chat", "meetings", "ocr", "catalog", "spend", "settings"]) {
      expect(Object.keys(en)).toContain(s);
    }
  });
});

describe("translate", () => {
  it("looks up dotted keys and fills placeholders", () => {
    expect(translate("en", "catalog.count", { shown: 3, total: 10 })).toBe("3 of 10 models");
    expect(translate("fr", "catalog.count", { shown: 3, total: 10 })).toBe("3 modèles sur 10");
    expect(translate("fr", "nav.settings")).toBe("Réglages");
  });

  it("leaves unknown placeholders visible", () => {
    expect(interpolate("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
});

describe("language", () => {
  afterEach(() => vi.restoreAllMocks());

  it("uses the setting when it names a language", () => {
    vi.spyOn(navigator, "language", "get").mockReturnValue("en-US");
    expect(resolveLanguage("fr")).toBe("fr");
    expect(resolveLanguage("en")).toBe("en");
  });

  it("else follows the system", () => {
    vi.spyOn(navigator, "language", "get").mockReturnValue("fr-CA");
    expect(systemLanguage()).toBe("fr");
    expect(resolveLanguage(null)).toBe("fr");
    expect(resolveLanguage("")).toBe("fr");
    vi.spyOn(navigator, "language", "get").mockReturnValue("de-DE");
    expect(resolveLanguage(undefined)).toBe("en");
  });
});
