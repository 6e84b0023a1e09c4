from ledger_export.cli import main

raise SystemExit(main())
