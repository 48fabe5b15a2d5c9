#!/usr/bin/env python3
"""Vendors KaTeX for the offline HTML report: `python scripts/vendor_katex.py KATEX.tgz` (from `npm pack katex@0.16`).

Writes sciresearcher/eval/katex/: katex.min.js, auto-render.min.js, katex.min.css with its woff2 fonts inlined as
data URIs (the woff and ttf fallbacks dropped: every current browser reads woff2), and KaTeX's MIT LICENSE. The
report inlines these only when a trajectory holds LaTeX, so it stays one self-contained file.
"""

from __future__ import annotations

import base64
import re
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sciresearcher" / "eval" / "katex"


def main() -> None:
    with tarfile.open(sys.argv[1]) as tar:
        files = {m.name.removeprefix("package/"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    OUT.mkdir(parents=True, exist_ok=True)
    css = files["dist/katex.min.css"].decode()

    def font(match: re.Match[str]) -> str:
        data = base64.b64encode(files[f"dist/fonts/{match.group(1)}.woff2"]).decode()
        return f"src:url(data:font/woff2;base64,{data}) format(\"woff2\")"

    css = re.sub(r"src:url\(fonts/([A-Za-z0-9_-]+)\.woff2\) format\(\"woff2\"\)(,url\([^)]*\) format\(\"[a-z]+\"\))*",
                 font, css)
    assert "fonts/" not in css, "a font URL was not inlined"
    (OUT / "katex.min.css").write_text(css)
    (OUT / "katex.min.js").write_bytes(files["dist/katex.min.js"])
    (OUT / "auto-render.min.js").write_bytes(files["dist/contrib/auto-render.min.js"])
    (OUT / "LICENSE").write_bytes(files["LICENSE"])
    version = re.search(rb'"version":\s*"([^"]+)"', files["package.json"]).group(1).decode()
    (OUT / "VERSION").write_text(version + "\n")
    print(f"KaTeX {version} -> {OUT} ({sum(p.stat().st_size for p in OUT.iterdir()) // 1024} KiB)")


if __name__ == "__main__":
    main()
