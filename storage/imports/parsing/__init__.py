"""Spreadsheet parsing, pure (no database): bytes in, typed rows and row issues out.

`dasaexp` reads the DasaExp layouts into rows, `sources` opens a file by its content (xlsx,
OOXML `.xls`, CSV) within `limits`, `xlsx` streams a workbook, `values` parses cells,
`batching` cuts rows into the batches the applier commits, `process` runs it all in a
child interpreter for big files.
"""
