"""One module per system: connection, health, the raw calls. No Textual here."""
