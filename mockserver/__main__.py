import sys

from zitadel_mock.command import main

sys.exit(main())
