"""Spreadsheet imports: the pure DasaExp parser (`dasaexp`) and its helpers."""
