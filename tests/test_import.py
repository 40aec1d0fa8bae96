"""What ``import birnn`` costs on top of ``import torch``: no torch._dynamo, at most 0.3 s.

Measured as the importing process's CPU time, which other load on a shared machine
inflates far less than wall time; best of two fresh interpreters."""

import json
import subprocess
import sys

_PROBE = """
import json, sys, time
start = time.process_time()
import torch
middle = time.process_time()
import birnn, birnn.layers, birnn.models
end = time.process_time()
print(json.dumps({"extra": end - middle, "torch": middle - start,
                  "dynamo": "torch._dynamo" in sys.modules}))
"""


def _probe() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


def test_import_birnn_leaves_dynamo_unloaded_and_adds_at_most_0_3_s_to_import_torch():
    runs = [_probe() for _ in range(2)]
    assert not any(run["dynamo"] for run in runs)
    extra = min(run["extra"] for run in runs)
    assert extra <= 0.3, runs
