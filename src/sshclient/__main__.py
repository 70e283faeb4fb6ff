"""`python -m sshclient`: the sshclient command line."""
import sys

from .cli import main

sys.exit(main())
