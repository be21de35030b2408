// Copying text. The web view's clipboard API where the page may use it;
// else the older execCommand("copy") on a hidden text area, which WebKitGTK
// allows inside the click that asks (its async API needs a secure context and
// a permission the app's own scheme may not get).
export async function copyText(text: string): Promise<void> {
  if (typeof navigator.clipboard?.writeText === "function") {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused: the older way below may still be allowed.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand?.("copy") ?? false;
  area.remove();
  if (!copied) throw new Error("the clipboard refused the text");
}
