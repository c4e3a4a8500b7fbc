"""The local stack: the whole gateway on one machine without Docker (`make run`, `make demo`).

A development tool, read from template.yaml; deployed code never imports it. See local/README.md.
"""
