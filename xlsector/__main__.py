from xlsector.cli import main

raise SystemExit(main())
