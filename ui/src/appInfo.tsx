// What the status bar shows (app_info), shared so that a panel which changes
// it (storing the API key) can refresh it.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import type { AppInfo } from "./bindings";
import { call, commands, toIpcError, type IpcError } from "./ipc";

interface AppInfoValue {
  info: AppInfo | null;
  error: IpcError | null;
  refresh: () => Promise<void>;
}

const AppInfoContext = createContext<AppInfoValue | null>(null);

export function AppInfoProvider({ children }: { children: ReactNode }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const refresh = useCallback(async () => {
    try {
      setInfo(await call(commands.appInfo()));
      setError(null);
    } catch (e) {
      setError(toIpcError(e));
    }
  }, []);
  // The key's state can change outside the window (`llmaas key set`, a
  // keychain that stops answering): read again when the window comes back
  // to the front, as the Settings panel does.
  useEffect(() => {
    void refresh();
    const onFocus = () => void refresh();
    window.addEventListener("focus", onFocus);
    return () => window.removeEventListener("focus", onFocus);
  }, [refresh]);
  return <AppInfoContext.Provider value={{ info, error, refresh }}>{children}</AppInfoContext.Provider>;
}

export function useAppInfo(): AppInfoValue {
  const v = useContext(AppInfoContext);
  if (!v) throw new Error("useAppInfo outside <AppInfoProvider>");
  return v;
}
