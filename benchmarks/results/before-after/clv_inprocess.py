import cProfile
import pstats
import sys
import time

sys.path.insert(0, sys.argv.pop(1))  # the benchmarks folder whose bench_clv.simulate makes the data
from bench_clv import simulate

from custdata import metrics

x, t_x, T = simulate(1_000_000, "bgnbd", 1)
m = metrics.BetaGeoModel().fit(frequency=x, recency=t_x, T=T)
ts = []
for _ in range(5):
    t = time.perf_counter()
    metrics.BetaGeoModel().fit(frequency=x, recency=t_x, T=T)
    ts.append(time.perf_counter() - t)
print(sorted(ts))
if len(sys.argv) > 1:
    cProfile.run("metrics.BetaGeoModel().fit(frequency=x, recency=t_x, T=T)", "/tmp/clv.prof")
    pstats.Stats("/tmp/clv.prof").sort_stats("cumtime").print_stats(18)
