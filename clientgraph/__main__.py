import sys

from clientgraph.cli import main

sys.exit(main())
