"""Finding accounts: the finder (ctrl+f) and the command palette's account hits (ctrl+p)."""
