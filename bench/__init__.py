"""Benchmarks of nomi-gateway: each figure is a ratio to a physical floor measured in the same run.

`python -m bench [--quick] [--out bench/results.json]` prints the table and writes the JSON results and a
chart beside them. A development tool: deployed code never imports it.
"""
