"""`python -m oms.demo`: see oms/demo/launcher.py."""

import sys

from oms.demo.launcher import main

sys.exit(main())
