"""Everything imgctl shows a person. The only package that writes to the terminal."""
