import sys

from zitadel_mock.cli import main

sys.exit(main())
