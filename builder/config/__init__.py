"""Build profiles: schema, files, merging, templates and resolution (being split into one module per concern)."""
