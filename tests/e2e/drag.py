#!/usr/bin/env python3
"""A real drag and drop under X: a small GTK window offers FILES as a
text/uri-list drag source, and xdotool drags from it to (X, Y) on the screen,
where the app's window is. What the app receives is a native XDND drop, the
same as from a file manager, not an event made up in the web view.

    drag.py X Y FILE...
"""
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

x, y, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
uris = ["file://" + quote(f) for f in files]

win = Gtk.Window(title="e2e drag source")
win.set_default_size(120, 80)
win.move(1100, 660)
box = Gtk.EventBox()
box.add(Gtk.Label(label="drag me"))
win.add(box)
box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
box.drag_source_add_uri_targets()


def on_get(_widget, _context, data, _info, _time):
    data.set_uris(uris)


box.connect("drag-data-get", on_get)
done = {"ok": False}


def on_end(*_):
    done["ok"] = True
    GLib.timeout_add(300, Gtk.main_quit)


box.connect("drag-end", on_end)
win.show_all()


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)


def drive():
    time.sleep(1.0)  # mapped and on top
    xdo("mousemove", 1160, 700)
    time.sleep(0.3)
    xdo("mousedown", 1)
    # A few steps: GTK starts a drag after the pointer moves past a threshold.
    for i in range(1, 21):
        px = 1160 + (x - 1160) * i // 20
        py = 700 + (y - 700) * i // 20
        xdo("mousemove", px, py)
        time.sleep(0.05)
    time.sleep(0.5)
    xdo("mouseup", 1)
    time.sleep(3)
    GLib.idle_add(Gtk.main_quit)


threading.Thread(target=drive, daemon=True).start()
Gtk.main()
sys.exit(0 if done["ok"] else 1)
