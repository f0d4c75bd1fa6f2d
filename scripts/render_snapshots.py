"""Regenerate (or check) the golden SVGs of the renderers, ``tests/data/svg/*.svg``.

    python scripts/render_snapshots.py            # rewrite the files, print what changed
    python scripts/render_snapshots.py --check    # exit 1 if any file differs (a diff is printed)

The positions are defined in ``tests/render_scenarios.py``; ``tests/test_render.py`` diffs the
renderers' output against these files. Rewrite them only after a deliberate change to a
renderer, and look at the pictures (any browser opens them) before committing.
"""

from __future__ import annotations

import argparse
import difflib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from render_scenarios import GOLDEN_DIR, render_all  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = parser.parse_args()
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    changed = 0
    for name, svg in render_all().items():
        path = GOLDEN_DIR / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old == svg:
            continue
        changed += 1
        diff = difflib.unified_diff(
            old.split("><"), svg.split("><"), f"{name} (file)", f"{name} (now)", lineterm=""
        )
        print("\n".join(list(diff)[:40]))
        if not args.check:
            path.write_text(svg, encoding="utf-8")
    print(f"{changed} golden SVG(s) {'differ' if args.check else 'rewritten'} in {GOLDEN_DIR}")
    return 1 if (changed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
