// The window's languages: a typed dictionary per language, a React context and
// `useT()`. The language is the `language` setting when set ("fr" / "en"),
// else the system's (navigator.language starting with "fr" → French).
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { en, type Dictionary } from "./en";
import { fr } from "./fr";

export type Language = "fr" | "en";

export const dictionaries: Record<Language, Dictionary> = { en, fr };

/** Every dotted key of the dictionaries: "settings.title", "catalog.col.name", … */
export type Key = Paths<Dictionary>;
type Paths<T> = {
  [K in keyof T & string]: T[K] extends string ? K : `${K}.${Paths<T[K]>}`;
}[keyof T & string];

export type Vars = Record<string, string | number>;
export type TFunction = (key: Key, vars?: Vars) => string;

export function isLanguage(s: unknown): s is Language {
  return s === "fr" || s === "en";
}

/** The system's language as the back end read it from the environment
 * (LC_ALL, LC_MESSAGES, LANG): WebKitGTK's navigator.language says "en-US"
 * when the system's locale is not compiled in. Null until app_info answers. */
let backendSystem: Language | null = null;

export function setSystemLanguage(lang: string | null | undefined): void {
  backendSystem = isLanguage(lang) ? lang : null;
}

/** The system's language: the back end's reading, else the engine's. */
export function systemLanguage(): Language {
  if (backendSystem) return backendSystem;
  const tags = typeof navigator === "undefined" ? [] : [navigator.language, ...(navigator.languages ?? [])];
  const first = tags.find((t) => typeof t === "string" && t.length > 0) ?? "en";
  return first.toLowerCase().startsWith("fr") ? "fr" : "en";
}

/** The setting when it names a language, else the system's. */
export function resolveLanguage(setting: string | null | undefined): Language {
  return isLanguage(setting) ? setting : systemLanguage();
}

/** The BCP 47 tag used for numbers, money and dates. */
export function localeOf(lang: Language): string {
  return lang === "fr" ? "fr-FR" : "en-GB";
}

function lookup(dict: Dictionary, key: string): string | undefined {
  let node: unknown = dict;
  for (const part of key.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "string" ? node : undefined;
}

/** Fills {name} placeholders; unknown ones stay visible so they get noticed. */
export function interpolate(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole,
  );
}

export function translate(lang: Language, key: Key, vars?: Vars): string {
  const text = lookup(dictionaries[lang], key) ?? lookup(en, key) ?? key;
  return interpolate(text, vars);
}

interface I18nValue {
  lang: Language;
  locale: string;
  t: TFunction;
  /** The `language` setting: "fr", "en", or null/"" for the system's. */
  setPreference: (setting: string | null) => void;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ initial, children }: { initial?: string | null; children: ReactNode }) {
  const [lang, setLang] = useState<Language>(() => resolveLanguage(initial));
  const setPreference = useCallback((setting: string | null) => setLang(resolveLanguage(setting)), []);
  const value = useMemo<I18nValue>(
    () => ({
      lang,
      locale: localeOf(lang),
      t: (key, vars) => translate(lang, key, vars),
      setPreference,
    }),
    [lang, setPreference],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const v = useContext(I18nContext);
  if (!v) throw new Error("useI18n outside <I18nProvider>");
  return v;
}

export function useT(): TFunction {
  return useI18n().t;
}
