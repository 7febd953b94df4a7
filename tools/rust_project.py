#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Completes the kernel's rust-project.json for zc9p's crates (tools/rust-analyzer.sh).

The kernel's scripts/generate_rust_analyzer.py gives an external module's crate root (a
`<stem>.rs` whose folder's Kbuild names `<stem>.o`) the kernel's own cfgs, and a source root
of its folder alone. zc9p's crates are built with more: each compiles rust/common/ into
itself (`#[path = ...]` modules, outside its folder) and is given cfgs of its own by Kbuild
(`--cfg MODULE`, `--cfg zc9p_since_X_Y`). This adds, to each crate root under the tree:
  - the cfgs and the edition its compiler command line had (the `.<stem>.o.cmd` file Kbuild
    left beside it: the modules are built first);
  - its folder and the folders its `#[path]` attributes name as the source's include_dirs;
  - an absolute root_module.

usage: rust_project.py TREE    (rewrites TREE/rust-project.json; prints one line per crate)
"""

import json
import pathlib
import re
import shlex
import sys


def compiler_flags(root: pathlib.Path) -> tuple[list[str], str | None]:
    """The --cfg values and the edition of the command line that compiled `root`."""
    cmd = root.parent / f".{root.stem}.o.cmd"
    try:
        text = cmd.read_text()
    except FileNotFoundError:
        sys.exit(f"error: no {cmd}: build the modules first (tools/rust-analyzer.sh does)")
    line = next((l for l in text.splitlines() if l.startswith("savedcmd_")), None)
    if line is None:
        sys.exit(f"error: {cmd} holds no savedcmd_ line")
    words = shlex.split(line.split(":=", 1)[1])
    cfgs, edition = [], None
    for i, word in enumerate(words):
        if word == "--cfg" and i + 1 < len(words):
            cfgs.append(words[i + 1])
        elif word.startswith("--cfg="):
            cfgs.append(word[len("--cfg="):])
        elif word.startswith("--edition="):
            edition = word[len("--edition="):]
    return cfgs, edition


def path_dirs(root: pathlib.Path) -> list[pathlib.Path]:
    """The folders the crate root's `#[path = "..."]` attributes reach into."""
    dirs = []
    for target in re.findall(r'#\[path\s*=\s*"([^"]+)"\]', root.read_text()):
        p = (root.parent / target).resolve()
        dirs.append(p if p.is_dir() else p.parent)
    return dirs


def main() -> None:
    tree = pathlib.Path(sys.argv[1]).resolve()
    project = tree / "rust-project.json"
    data = json.loads(project.read_text())
    ours = 0
    for crate in data["crates"]:
        root = pathlib.Path(crate["root_module"])
        if not root.is_absolute():
            root = tree / root
        root = root.resolve()
        if not root.is_relative_to(tree):
            continue
        ours += 1
        crate["root_module"] = str(root)
        cfgs, edition = compiler_flags(root)
        crate["cfg"] += [c for c in cfgs if c not in crate["cfg"]]
        if edition:
            crate["edition"] = edition
        include = [root.parent]
        for d in path_dirs(root):
            if d not in include:
                include.append(d)
        crate["source"] = {"include_dirs": [str(d) for d in include], "exclude_dirs": []}
        print(f"{crate['display_name']}: {root.relative_to(tree)}, edition {crate['edition']}, "
              f"cfgs +{' '.join(cfgs) or ' none'}, sources {' '.join(str(d.relative_to(tree)) for d in include)}")
    if ours == 0:
        sys.exit(f"error: {project} has no crate root under {tree}: does each module folder's "
                 "Kbuild name its <stem>.o?")
    project.write_text(json.dumps(data, sort_keys=True, indent=4) + "\n")


if __name__ == "__main__":
    main()
