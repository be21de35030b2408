import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n";
import { Modal } from "./Modal";

function Page({ onClose = () => {} }: { onClose?: () => void }) {
  return (
    <I18nProvider initial="en">
      <button type="button">behind</button>
      <Modal title="Details" onClose={onClose}>
        <input aria-label="name" />
        <button type="button">Save</button>
      </Modal>
    </I18nProvider>
  );
}

describe("modal", () => {
  it("keeps Tab and Shift+Tab inside the dialog", async () => {
    render(<Page />);
    const dialog = screen.getByRole("dialog", { name: "Details" });
    expect(dialog).toHaveFocus();
    await userEvent.tab();
    expect(screen.getByRole("button", { name: "Close" })).toHaveFocus();
    await userEvent.tab();
    expect(screen.getByLabelText("name")).toHaveFocus();
    await userEvent.tab();
    expect(screen.getByRole("button", { name: "Save" })).toHaveFocus();
    // Past the last control: back to the first, never the page behind.
    await userEvent.tab();
    expect(screen.getByRole("button", { name: "Close" })).toHaveFocus();
    await userEvent.tab({ shift: true });
    expect(screen.getByRole("button", { name: "Save" })).toHaveFocus();
    expect(screen.getByRole("button", { name: "behind" })).not.toHaveFocus();
  });

  it("closes on Escape and gives the focus back", async () => {
    const onClose = vi.fn();
    render(<Page onClose={onClose} />);
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledOnce();
  });
});
