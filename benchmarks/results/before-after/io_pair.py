"""The same simple customers (round one's bench_io generator) written and read by whichever custdata is on PYTHONPATH."""

import inspect
import os
import statistics
import sys
import tempfile
import time

import custdata


def customers(n):
    return [
        custdata.Customer.from_dict(
            {
                "id": f"c{i}",
                "name": {"full": f"客户{i}"},
                "phones": [{"number": f"+86138{i:08d}", "kind": "mobile", "primary": True}],
                "emails": [{"address": f"user{i}@example.com"}],
                "addresses": [{"country": "CN", "city": "上海市"}],
                "birthday": "1990-01-02",
                "tags": ["vip"] if i % 7 == 0 else [],
                "created_at": "2026-01-02T03:04:05+08:00",
            }
        )
        for i in range(n)
    ]


def med(fn, repeat=3):
    ts, cs = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    return statistics.median(ts), statistics.median(cs)


def main() -> None:
    n = int(sys.argv[1])
    cs = customers(n)
    dicts = [c.to_dict() for c in cs]
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "a.csv")
    print("custdata", custdata.__file__, custdata.__version__ if hasattr(custdata, "__version__") else "")
    layouts = [None] + (
        ["json", "flat"] if "layout" in inspect.signature(custdata.write_csv).parameters else []
    )
    for layout in layouts:
        kw = {} if layout is None else {"layout": layout}
        w = med(lambda kw=kw: custdata.write_csv(cs, path, **kw))
        r = med(lambda: sum(1 for _ in custdata.read_csv(path)))
        print(
            f"layout={layout or 'default'}: write_csv {w[0]:.2f} s (CPU {w[1]:.2f}) {n / w[0]:,.0f}/s; read_csv {r[0]:.2f} s (CPU {r[1]:.2f}) {n / r[0]:,.0f}/s"
        )
    f = med(lambda: [custdata.Customer.from_dict(d) for d in dicts])
    print(f"Customer.from_dict {f[0]:.2f} s (CPU {f[1]:.2f}) {n / f[0]:,.0f}/s")
    t = med(lambda: [c.to_dict() for c in cs])
    print(f"Customer.to_dict {t[0]:.2f} s (CPU {t[1]:.2f}) {n / t[0]:,.0f}/s")


if __name__ == "__main__":
    main()
