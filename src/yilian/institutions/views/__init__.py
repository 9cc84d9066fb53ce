"""Server-rendered pages of the registry: regions, institutions, consortia, grids, coverage.

Views are thin: parse a form, call one service or selector with ``actor=request.user``, render.
"""
