from backline_tui.cli import main

raise SystemExit(main())
