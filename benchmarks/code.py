"""Measure the coder's speed on 1-2 kB passages, its peak memory, and the ratio to page extraction.

Run: ``.venv/bin/python benchmarks/code.py``

Prints documents per second on one core (model/data loading excluded), the peak
resident memory of the process, and trafilatura's extraction speed on the same
passages wrapped in simple HTML pages (the coder should cost no more than
extraction); writes the figures to ``benchmarks/results/code.json``.

Passages: the development set (``../shared/devset/devset.jsonl``, real texts read in
place, never copied) joined to 1-2 kB where present; otherwise civicwatch's own
fictional sample passages below.
"""

from __future__ import annotations

import html
import json
import platform
import resource
import sys
import time
from pathlib import Path

import trafilatura

from civicwatch.code.coder import CODER_VERSION, Coder

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT.parent / "shared" / "devset" / "devset.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "code.json"
ROUNDS = 5

OWN = [
    "On 4 March 2024 police in Almaty detained journalist Aigerim Sadykova after she filmed a rally; she was "
    "released two days later. The Ministry of Justice refused for the ninth time to register the Rights Watch "
    "Centre in Bishkek. ",
    "В Бишкеке 3 мая 2023 года задержали активиста Арата Мелисова. Суд в Душанбе приговорил журналиста Фарруха "
    "Назарова к семи годам лишения свободы. Мы призываем власти освободить его. ",
    "À Alger, le journaliste Samir Taleb a été condamné à deux ans de prison ferme le 13 mai 2023. La police a "
    "dispersé la manifestation à coups de gaz lacrymogènes. ",
    "En Managua, la policía detuvo al periodista Andrés Valcárcel el 6 de mayo de 2023. La Asamblea Nacional "
    "aprobó una ley de agentes extranjeros. ",
]


def passages() -> tuple[str, list[dict[str, str | None]]]:
    """1-2 kB passages: consecutive devset texts joined, or our own sample repeated."""
    if DEVSET.is_file():
        source = "devset"
        texts = [(json.loads(line)["text"], json.loads(line)["published"])
                 for line in DEVSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        source = "own sample"
        texts = [(t, "2024-03-10") for t in OWN * 40]
    out: list[dict[str, str | None]] = []
    buf, pub = "", None
    for text, published in texts:
        buf = (buf + "\n\n" + text).strip()
        pub = pub or published
        if len(buf) >= 1000:
            out.append({"text": buf[:2000], "published": pub})
            buf, pub = "", None
    return source, out


def main() -> int:
    source, docs = passages()
    start = time.perf_counter()
    coder = Coder()
    load_s = time.perf_counter() - start
    coder.code(docs[0]["text"] or "")  # warm up
    n_incidents = 0
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for d in docs:
            n_incidents += len(coder.code(d["text"] or "", d["published"]))
    code_s = time.perf_counter() - start
    pages = ["<html><head><title>Report</title></head><body><nav>Home | About</nav><article><h1>Update</h1>"
             + "".join(f"<p>{html.escape(p)}</p>" for p in (d["text"] or "").split("\n\n"))
             + "</article><footer>Contact us</footer></body></html>" for d in docs]
    start = time.perf_counter()
    for page in pages:
        trafilatura.extract(page)
    extract_s = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = len(docs) * ROUNDS
    result = {
        "coder_version": CODER_VERSION,
        "passages": source,
        "documents": len(docs),
        "mean_chars": round(sum(len(d["text"] or "") for d in docs) / len(docs)),
        "rounds": ROUNDS,
        "load_seconds": round(load_s, 2),
        "docs_per_second": round(n / code_s),
        "incidents_per_document": round(n_incidents / n, 2),
        "extract_docs_per_second": round(len(pages) / extract_s),
        "code_to_extract_time_ratio": round((code_s / n) / (extract_s / len(pages)), 3),
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"coder {result['coder_version']} on {result['documents']} passages ({source}, "
          f"mean {result['mean_chars']} chars), {ROUNDS} rounds")
    print(f"  loading: {result['load_seconds']} s")
    print(f"  coding:  {result['docs_per_second']} documents/second on one core")
    print(f"  extract: {result['extract_docs_per_second']} documents/second (trafilatura, same passages as HTML)")
    print(f"  coding costs {result['code_to_extract_time_ratio']}x the time of extraction")
    print(f"  peak RSS: {result['peak_rss_mb']} MB")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
