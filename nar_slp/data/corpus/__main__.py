"""``python -m nar_slp.data.corpus``: write the bundled corpus (see ``main``)."""

from nar_slp.data.corpus import main

raise SystemExit(main())
