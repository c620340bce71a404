"""Speed figures, printed against a baseline measured in the same run (B4).

Not tests: nothing here fails a build. See bench/README.md.
"""
