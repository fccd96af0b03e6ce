"""`python -m nimify_tui` is the `nimify-tui` command."""

import sys

from nimify_tui.cli import main

sys.exit(main())
