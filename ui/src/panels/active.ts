import { createContext, useContext } from "react";

/** Whether the panel around the caller is the one shown (panels stay mounted once opened). */
export const PanelActiveContext = createContext(true);

export function usePanelActive(): boolean {
  return useContext(PanelActiveContext);
}
