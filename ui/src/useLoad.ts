// Loads something through IPC: data, the error as an IpcError, a reload.
import { useCallback, useEffect, useRef, useState } from "react";
import { toIpcError, type IpcError } from "./ipc";

export interface Loaded<T> {
  data: T | null;
  error: IpcError | null;
  loading: boolean;
  reload: () => Promise<void>;
  /** Replaces the data (after a command returned a newer value). */
  set: (data: T) => void;
}

export function useLoad<T>(load: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const mounted = useRef(true);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const d = await loadRef.current();
      if (mounted.current && mine === generation.current) {
        setData(d);
        setError(null);
      }
    } catch (e) {
      if (mounted.current && mine === generation.current) setError(toIpcError(e));
    } finally {
      if (mounted.current && mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    mounted.current = true;
    void reload();
    return () => {
      mounted.current = false;
    };
  }, [reload]);

  return { data, error, loading, reload, set: setData };
}
