import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { installIpc } from "../../test/ipc";
import { Markdown } from "./Markdown";

describe("Markdown links", () => {
  it("open through the back end, never in the window", () => {
    const ipc = installIpc({ open_link: () => null });
    render(<Markdown text="See [the report](https://docs.example.invalid/r?x=1)." highlight={false} />);
    const link = screen.getByRole("link", { name: "the report" });
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    fireEvent(link, click);
    expect(click.defaultPrevented).toBe(true);
    expect(ipc.callsTo("open_link")).toEqual([{ url: "https://docs.example.invalid/r?x=1" }]);
  });
});
