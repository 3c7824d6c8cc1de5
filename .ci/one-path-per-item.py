#!/usr/bin/env python3
"""Fails when an item of a published crate can be imported by more than one documented path.

Reads the HTML that `cargo doc --workspace --no-deps --all-features` wrote. Two things give an
item a second path: a page of the same kind and name in two modules (rustdoc inlines an item
re-exported from another crate or from a private module), and a "Re-exports" entry (rustdoc
lists `pub use` of an item that is already public elsewhere). Pages that only redirect do not
count, nor do two items of the same name defined in two places. A re-export of a whole foreign
crate (e.g. `rustls`) is allowed: it adds no path to an item of ours.

Usage: one-path-per-item.py [DOC_DIR]   (default: $CARGO_TARGET_DIR/doc or target/doc)
"""

import html
import os
import re
import sys
from collections import defaultdict

CRATES = ["scylla2", "scylla2_cql", "scylla2_macros", "scylla2_sim"]
ITEM_PAGE = re.compile(
    r"^(struct|enum|trait|fn|type|constant|static|macro|derive|attr|union|traitalias)"
    r"\.([A-Za-z0-9_]+)\.html$"
)
# `pub use some_crate;` / `pub use some_crate as name;`: a crate, not an item.
CRATE_REEXPORT = re.compile(r"^pub use (::)?[a-z0-9_]+( as [a-z0-9_]+)?;$")
# The source location a page links to: what tells one item from another of the same name.
SOURCE = re.compile(r'href="[^"]*/src/([^"]+)"')


def reexports(page_text):
    start = page_text.find('id="reexports"')
    if start < 0:
        return []
    end = page_text.find("<h2", start + 10)
    section = page_text[start : end if end > 0 else None]
    lines = []
    for code in re.findall(r"<code>(.*?)</code>", section, re.S):
        lines.append(html.unescape(re.sub(r"<[^>]+>", "", code)).strip())
    return lines


def check(doc_dir, crate):
    root = os.path.join(doc_dir, crate)
    if not os.path.isdir(root):
        return [f"no documentation for {crate} under {doc_dir}"]
    pages = defaultdict(list)
    problems = []
    for directory, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if 'http-equiv="refresh"' in text:
                continue
            relative = os.path.relpath(path, doc_dir)
            if ITEM_PAGE.match(name):
                source = SOURCE.search(text)
                pages[(name, source.group(1) if source else relative)].append(relative)
            if name == "index.html":
                module = os.path.dirname(relative).replace(os.sep, "::")
                for line in reexports(text):
                    if not CRATE_REEXPORT.match(line):
                        problems.append(f"{module}: `{line}` gives an item a second path")
    for (name, _), where in sorted(pages.items()):
        if len(where) > 1:
            problems.append(f"{name} documented at {len(where)} paths: {', '.join(sorted(where))}")
    return problems


def main():
    default = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "doc")
    doc_dir = sys.argv[1] if len(sys.argv) > 1 else default
    failed = False
    for crate in CRATES:
        problems = check(doc_dir, crate)
        for problem in problems:
            print(f"{crate}: {problem}", file=sys.stderr)
        failed |= bool(problems)
    if failed:
        print("one path per item: see above (re-export each item once; make the other"
              " module private)", file=sys.stderr)
        sys.exit(1)
    print("one path per item: every documented item has one import path")


if __name__ == "__main__":
    main()
