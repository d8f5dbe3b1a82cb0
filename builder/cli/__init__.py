"""The command line: one module per command group, each parsing, calling the layers below, and rendering."""
