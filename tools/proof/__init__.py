"""Proof on scratch databases: make and drop them, fill every table with rows, apply scripts
with the real client, and compare schemas and contents before and after."""
