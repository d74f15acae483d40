"""Record linkage for the master patient index: pure code, no I/O.

`features` turns a patient row into comparable parts (name tokens and their pt-BR
phonetic keys, CPF, birth date, phones, CEP + house number) and blocking keys;
`model` compares pairs field by field (comparison levels), weighs each level
Fellegi–Sunter style (log2 m/u, term-frequency adjusted for names) and explains
every score; `em` estimates m and u from the data. Vectorised with numpy and
rapidfuzz (C speed), so a million records are scored in seconds.
"""
