"""Build ``src/kiban/blocks/address/data/former_municipalities.tsv`` from jpcity's data.

jpcity (MIT, Copyright (c) 2023 jpcity authors) keeps, in ``R/sysdata.rda``, a graph of Japan's
municipality codes since 1970 derived from e-Stat's 市区町村コードの改正等 (municipality code
change history, 総務省; government standard terms of use, compatible with CC BY 4.0): one vertex
per municipality and period, one edge per change (merger, renaming, split). This script reads
that file once and writes, for each municipality that no longer exists, the municipalities of
today its area belongs to. Only the data is taken.

It needs an R-data reader, which is no dependency of kiban; run it from a scratch venv::

    python3 -m venv /tmp/rds && /tmp/rds/bin/pip install rdata
    git -C JPCITY_REPO show HEAD:R/sysdata.rda > /tmp/sysdata.rda
    /tmp/rds/bin/python bench/build_former_municipalities.py /tmp/sysdata.rda \
        src/kiban/blocks/address/data/former_municipalities.tsv JPCITY_COMMIT

Rows: a former municipality (its code, prefecture, name and kana, the date, JST, it ceased to
exist) and the codes (five digits) of today's municipalities it became; a ward of a designated
city is given as its city. A former name that a municipality of the same prefecture still has
(a merger that kept the name, a change of county) and former wards are left out.
"""

from __future__ import annotations

import datetime
import sys
import warnings
from typing import Any


def main(source: str, target: str, commit: str) -> None:
    import rdata  # type: ignore[import-not-found]  # noqa: PLC0415 - scratch venv only

    warnings.simplefilter("ignore")
    data: Any = rdata.conversion.convert(rdata.parser.parse_file(source), default_encoding="utf8")
    graph = data["graph_city"]["graph_city"]
    vertices, edges = graph[8][2], graph[8][3]
    sources = [int(x) for x in graph[2]]
    targets = [int(x) for x in graph[3]]
    desig = dict(
        zip(
            data["city_desig_code"]["city_code"],
            data["city_desig_code"]["city_desig_code"],
            strict=True,
        )
    )
    codes = list(vertices["city_code"])
    prefs = list(vertices["pref_name"])
    names = list(vertices["city_name"])
    kanas = list(vertices["city_name_kana"])
    parents = list(vertices["city_desig_name"])
    current = [x == float("inf") for x in vertices["interval"]]
    outgoing: dict[int, list[tuple[int, float]]] = {}
    for at, (a, b) in enumerate(zip(sources, targets, strict=True)):
        outgoing.setdefault(a, []).append((b, float(edges["date"][at])))

    today_names = set()
    for v, now in enumerate(current):
        if now:
            today_names.add((prefs[v], parents[v] or names[v]))

    def today_of(v: int) -> set[str]:
        seen, stack, found = {v}, [v], set()
        while stack:
            for w, _ in outgoing.get(stack.pop(), []):
                if w in seen:
                    continue
                seen.add(w)
                if current[w]:
                    found.add(desig.get(codes[w], codes[w]))
                else:
                    stack.append(w)
        return found

    rows = set()
    for v, now in enumerate(current):
        if now or parents[v] or (prefs[v], names[v]) in today_names or v not in outgoing:
            continue
        ended = max(date for _, date in outgoing[v])
        day = datetime.datetime.fromtimestamp(ended + 9 * 3600, datetime.UTC).date()
        today = today_of(v)
        if today:
            rows.add(
                (
                    codes[v],
                    prefs[v],
                    names[v],
                    kanas[v] or "",
                    day.isoformat(),
                    tuple(sorted(today)),
                )
            )
    with open(target, "w", encoding="utf-8") as out:
        out.write(
            "# Former municipalities (since 1970) and the municipalities of today they became.\n"
            "# Data of jpcity (MIT License, Copyright (c) 2023 jpcity authors; see\n"
            "# LICENSE-jpcity.txt), commit " + commit + ", derived from e-Stat's\n"
            "# 市区町村コードの改正等 (総務省; government standard terms of use, CC BY 4.0\n"
            "# compatible). Produced by bench/build_former_municipalities.py.\n"
        )
        out.write("former_code\tpref\tname\tkana\tended\ttoday_codes\n")
        for code, pref, name, kana, day_text, today in sorted(rows):
            out.write(f"{code}\t{pref}\t{name}\t{kana}\t{day_text}\t{' '.join(sorted(today))}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
