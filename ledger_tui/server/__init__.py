"""The HTTP face (``ledger-tui serve``): the origin's API and more, over the same engine.

Like the console and the CLI it calls only the engine (import-linter holds it to that). The
app factory is ``ledger_tui.server.app.create_app``; nothing is imported here, so the CLI can
read the server's defaults without loading the web framework.
"""
