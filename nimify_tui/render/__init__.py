"""What the panes show, built without a terminal: rows of plain text from the store's records and snapshots.

Each module turns one kind of data into ``Row``s (kubectl's columns, faulty first, filters applied); the panes in
``nimify_tui.ui.panes`` only hand them to their tables. Like k9s' render layer, it is tested without Textual.
"""
