#!/usr/bin/python3
"""A demo backend for examples/run-demo.sh: the e2e suite's scripted backend
(tests/e2e/backend.py; its docstring lists the endpoints), run as a script.

    /usr/bin/python3 examples/demo-backend.py --port 9001 --name b1
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

import backend  # noqa: E402

if __name__ == "__main__":
    sys.exit(backend.main())
