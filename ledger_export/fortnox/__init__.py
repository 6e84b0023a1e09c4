"""Talking to Fortnox: settings, tokens, the paced client and the typed calls the export posts with."""
