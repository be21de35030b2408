// Renders a component inside the app's providers (kept on rerender).
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { AppInfoProvider } from "../appInfo";
import { I18nProvider, type Language } from "../i18n";
import { ThemeProvider } from "../theme";

export function renderWithApp(ui: ReactElement, lang: Language = "en"): RenderResult {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <ThemeProvider>
      <I18nProvider initial={lang}>
        <AppInfoProvider>{children}</AppInfoProvider>
      </I18nProvider>
    </ThemeProvider>
  );
  return render(ui, { wrapper });
}
