"""Customer.to_dict CPU time over 200,000 of io_pair's customers, 7 passes, for whichever custdata is on PYTHONPATH."""

import statistics
import time

from io_pair import customers

import custdata

cs = customers(200000)
ts = []
for _ in range(7):
    t = time.process_time()
    [c.to_dict() for c in cs]
    ts.append(time.process_time() - t)
print(custdata.__file__, "to_dict CPU median", round(statistics.median(ts), 3), [round(x, 3) for x in ts])
