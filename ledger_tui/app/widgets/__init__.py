"""What the features share: inputs, range bar, dialogs, help, export prompt, formatting, the account index."""
