"""Fill translations into a package's catalog from a JSON file of {msgid: msgstr}, and compile it.

For translators working with a script rather than a .po editor:

    .venv/bin/python tools/po_fill.py kehu_core zh_CN translations.json [--domain click]

A plural message is keyed by its singular; its msgstr is one string (Chinese has one form).
Messages not in the catalog are reported and skipped (run `kehu plugin catalog` first);
the file is written under a lock, so two translators can fill one catalog in turn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from kehu_core.catalogs import compile_catalog, locked, po_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "package", type=Path, help="the package folder, e.g. kehu_core or plugins/loyalty/kehu_loyalty"
    )
    parser.add_argument("lang")
    parser.add_argument("translations", type=Path)
    parser.add_argument("--domain", default=None)
    args = parser.parse_args()
    domain = args.domain or args.package.name
    path = po_path(args.package, args.lang, domain)
    given: dict[str, str] = json.loads(args.translations.read_text(encoding="utf-8"))
    with locked(path):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=args.lang, domain=domain)
        unknown = []
        for msgid, msgstr in given.items():
            message = next(
                (
                    m
                    for m in catalog
                    if m.id and (m.id == msgid or (isinstance(m.id, tuple) and m.id[0] == msgid))
                ),
                None,
            )
            if message is None:
                unknown.append(msgid)
                continue
            message.string = (msgstr,) if isinstance(message.id, tuple) else msgstr
            message.flags.discard("fuzzy")
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, no_location=True, include_previous=False)
        compile_catalog(path, args.lang, domain)
    left = sum(
        1 for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    )
    print(f"{path}: filled {len(given) - len(unknown)}, still untranslated {left}")
    for msgid in unknown:
        print(f"  not in the catalog (skipped): {msgid!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
